#!/usr/bin/env node
import { access } from "node:fs/promises";
import { parseArgs } from "node:util";
import { RelayClient } from "../client.js";
import { Emulator } from "../emulator/index.js";
import { RelayError } from "../errors.js";
import { readRequestsFile } from "../input/jsonl.js";
import { PROVIDER_NAMES, providerEntries } from "../providers/registry.js";
import type { ProviderName } from "../types.js";
import { runDemo } from "./demo.js";
import { resultSummary, statusLine } from "./format.js";

const HELP = `relay: run LLM prompts through the providers' batch APIs

Usage: relay <command> [options]

Commands:
  demo [--provider P]              Run the quick start against the built-in emulator (no keys, no network)
  emulator [--port N] [--validating-ms N] [--in-progress-ms N] [--finalizing-ms N]
                                   Serve the provider emulator on 127.0.0.1 until stopped
  submit FILE --job ID --provider P [--description TEXT] [--endpoint PATH] [--overwrite]
         [--max-batch-requests N]  Submit the requests in a JSONL file (one BatchRequest object per line),
                                   in batches of at most N requests (default: the provider's limit)
  list                             List the jobs in the workspace
  show JOB                         Print the stored job record
  status JOB                       Ask the provider for the job's status and store it
  wait JOB [--interval SECONDS]    Poll until the job has finished
  results JOB [--refresh] [--json] Fetch (or read) the results; --json prints one JSON result per line
  cancel JOB                       Cancel the job's batches
  recover JOB                      Finish an interrupted submission

Options:
  -d, --directory DIR   Workspace directory (default: $RELAY_DIRECTORY or ./relay_jobs)
  -h, --help            Show this help

Keys and endpoints come from the usual environment variables:
${providerEntries()
  .map((entry) => `  ${entry.name.padEnd(10)} ${entry.apiKeyEnv} / ${entry.baseURLEnv}`)
  .join("\n")}`;

const OPTIONS = {
  directory: { type: "string", short: "d" },
  provider: { type: "string" },
  job: { type: "string" },
  description: { type: "string" },
  endpoint: { type: "string" },
  overwrite: { type: "boolean" },
  refresh: { type: "boolean" },
  json: { type: "boolean" },
  interval: { type: "string" },
  port: { type: "string" },
  "max-batch-requests": { type: "string" },
  "validating-ms": { type: "string" },
  "in-progress-ms": { type: "string" },
  "finalizing-ms": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

class UsageError extends Error {}

function providerOption(value: string | undefined, fallback?: ProviderName): ProviderName {
  const provider = value ?? fallback;
  if (!provider || !(PROVIDER_NAMES as readonly string[]).includes(provider)) {
    throw new UsageError(`--provider must be one of ${PROVIDER_NAMES.join(", ")}`);
  }
  return provider as ProviderName;
}

function required(value: string | undefined, what: string): string {
  if (!value) throw new UsageError(`missing ${what}`);
  return value;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  const [command, argument] = positionals;
  if (values.help || !command) {
    console.log(HELP);
    return command || values.help ? 0 : 1;
  }
  const directory = values.directory ?? process.env.RELAY_DIRECTORY ?? "relay_jobs";
  const out = (line: string) => console.log(line);

  switch (command) {
    case "demo": {
      await runDemo({
        provider: providerOption(values.provider, "openai"),
        directory: values.directory ?? "relay-demo-workspace",
        log: out,
      });
      return 0;
    }
    case "emulator": {
      const timing: Record<string, number> = {};
      if (values["validating-ms"]) timing.validatingMs = Number(values["validating-ms"]);
      if (values["in-progress-ms"]) timing.inProgressMs = Number(values["in-progress-ms"]);
      if (values["finalizing-ms"]) timing.finalizingMs = Number(values["finalizing-ms"]);
      if (Object.values(timing).some((ms) => !Number.isFinite(ms) || ms < 0))
        throw new UsageError("timings must be milliseconds >= 0");
      const emulator = await Emulator.start({ port: Number(values.port ?? 8787), timing });
      out(`Relay emulator listening on ${emulator.url}`);
      for (const provider of PROVIDER_NAMES) out(`  ${provider}: ${emulator.baseURL(provider)}`);
      out("Point Relay at it, for example:");
      out(`  export OPENAI_BASE_URL=${emulator.baseURL("openai")} OPENAI_API_KEY=emulator`);
      out("Stop with Ctrl-C.");
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      await emulator.close();
      return 0;
    }
    case "submit": {
      const file = required(argument, "the requests file (JSONL)");
      await access(file).catch(() => {
        throw new UsageError(`cannot read ${file}`);
      });
      const provider = providerOption(values.provider);
      const maxRequestsPerBatch = values["max-batch-requests"]
        ? Number(values["max-batch-requests"])
        : undefined;
      if (
        maxRequestsPerBatch !== undefined &&
        !(Number.isInteger(maxRequestsPerBatch) && maxRequestsPerBatch > 0)
      ) {
        throw new UsageError("--max-batch-requests must be a positive integer");
      }
      const client = new RelayClient({
        directory,
        ...(maxRequestsPerBatch ? { providers: { [provider]: { maxRequestsPerBatch } } } : {}),
      });
      const job = await client.submitBatch({
        requests: readRequestsFile(file),
        jobId: required(values.job, "--job"),
        provider,
        ...(values.description === undefined ? {} : { description: values.description }),
        ...(values.endpoint === undefined ? {} : { endpoint: values.endpoint }),
        ...(values.overwrite ? { overwrite: true } : {}),
      });
      out(statusLine(job));
      return 0;
    }
    case "list": {
      const client = new RelayClient({ directory });
      for (const jobId of await client.listJobs()) {
        const job = await client.getJob(jobId);
        out(
          `${jobId}\t${job?.provider ?? "?"}\t${job?.status ?? "?"}\t${job?.n_requests ?? "?"} requests\t${job?.submitted_at ?? ""}`,
        );
      }
      return 0;
    }
    case "show": {
      const client = new RelayClient({ directory });
      const job = await client.getJob(required(argument, "the job ID"));
      if (!job) throw new UsageError(`no job "${argument}" in ${client.directory}`);
      out(JSON.stringify(job, null, 2));
      return 0;
    }
    case "status": {
      out(statusLine(await new RelayClient({ directory }).monitorBatch(required(argument, "the job ID"))));
      return 0;
    }
    case "wait": {
      const interval = Number(values.interval ?? 30) * 1000;
      const job = await new RelayClient({ directory }).waitForBatch(required(argument, "the job ID"), {
        pollIntervalMs: interval,
        onStatus: (status) => out(statusLine(status)),
      });
      return job.status === "completed" ? 0 : 2;
    }
    case "results": {
      const client = new RelayClient({ directory });
      for await (const result of client.streamResults(required(argument, "the job ID"), {
        forceRefresh: values.refresh ?? false,
      })) {
        out(values.json ? JSON.stringify(result) : resultSummary(result));
      }
      return 0;
    }
    case "cancel": {
      const accepted = await new RelayClient({ directory }).cancelBatch(required(argument, "the job ID"));
      out(accepted ? "Cancel accepted." : "Nothing to cancel: every batch had already finished.");
      return 0;
    }
    case "recover": {
      out(statusLine(await new RelayClient({ directory }).recover(required(argument, "the job ID"))));
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (
      error instanceof UsageError ||
      (error as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION"
    ) {
      console.error(`relay: ${(error as Error).message}\nRun "relay --help" for usage.`);
      process.exitCode = 64;
    } else if (error instanceof RelayError) {
      console.error(`relay: ${error.message} [${error.code}]`);
      process.exitCode = 1;
    } else {
      console.error(error);
      process.exitCode = 70;
    }
  },
);
