#!/usr/bin/env node
import { stat } from "node:fs/promises";
import { parseArgs } from "node:util";
import { RelayClient, type RelayClientOptions } from "../client.js";
import { Emulator } from "../emulator/index.js";
import { RelayError, ValidationError } from "../errors.js";
import { readRequestsFile } from "../input/jsonl.js";
import { PROVIDER_NAMES, providerEntries } from "../providers/registry.js";
import type { ProviderConfig } from "../providers/types.js";
import type { ProviderName } from "../types.js";
import { MAX_TIMER_MS, type NumberRule, parseNumberText } from "../util/numeric-option.js";
import { runDemo } from "./demo.js";
import { EXIT_CODES, exitCodeFor, formatError, UsageError } from "./errors.js";
import { resultSummary, statusLine } from "./format.js";
import { forTerminal } from "./terminal.js";

const HELP = `relay: run LLM prompts through the providers' batch APIs

Usage: relay <command> [options]

Commands:
  demo [--provider P]              Run the quick start against the built-in emulator (no keys, no network)
  emulator [--port N] [--api-key KEY] [--validating-ms N] [--in-progress-ms N] [--finalizing-ms N]
                                   Serve the provider emulator on 127.0.0.1 until stopped; every provider
                                   accepts KEY only (default: emulator)
  submit FILE --job ID --provider P [--description TEXT] [--endpoint PATH] [--overwrite]
         [--max-batch-requests N]  Submit the requests in a JSONL file (one BatchRequest object per line),
                                   in batches of at most N requests (default: the provider's limit)
  list                             List the jobs in the workspace
  show JOB                         Print the stored job record
  status JOB                       Ask the provider for the job's status and store it
  wait JOB [--interval SECONDS]    Poll until the job has finished (interval at least 1, default 30)
  results JOB [--refresh] [--json] Fetch (or read) the results; --json prints one JSON result per line
  cancel JOB                       Cancel the job's batches
  recover JOB                      Finish an interrupted submission

Options:
  -d, --directory DIR          Workspace directory (default: $RELAY_DIRECTORY or ./relay_jobs)
  --request-timeout SECONDS    Give up on a provider call silent for this long, and retry it
                               (default: $RELAY_REQUEST_TIMEOUT_MS in ms, else 600 s)
  -h, --help                   Show this help

Exit codes: 0 done, 1 a Relay error (its code is printed), 2 wait ended other than completed, 64 usage error.

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
  "api-key": { type: "string" },
  "request-timeout": { type: "string" },
  "max-batch-requests": { type: "string" },
  "validating-ms": { type: "string" },
  "in-progress-ms": { type: "string" },
  "finalizing-ms": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const DEFAULT_EMULATOR_KEY = "emulator";

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

/** A number given on the command line or in the environment; a malformed one is a usage error naming it. */
function numberArgument(name: string, text: string | undefined, rule: NumberRule): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseNumberText(name, text, rule);
  } catch (error) {
    if (error instanceof ValidationError) throw new UsageError(error.message);
    throw error;
  }
}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

/** A client for the workspace, with the per-request timeout asked for and retries reported on stderr. */
function clientFor(values: Values, directory: string, extra: Partial<RelayClientOptions> = {}): RelayClient {
  const seconds = numberArgument("--request-timeout", values["request-timeout"], {
    min: 0.1,
    max: Math.floor(MAX_TIMER_MS / 1000),
    unit: "seconds",
  });
  const timeoutMs =
    seconds !== undefined
      ? Math.round(seconds * 1000)
      : numberArgument("RELAY_REQUEST_TIMEOUT_MS", process.env.RELAY_REQUEST_TIMEOUT_MS, {
          min: 100,
          max: MAX_TIMER_MS,
          integer: true,
          unit: "ms",
        });
  const providers: Partial<Record<ProviderName, ProviderConfig>> = { ...extra.providers };
  if (timeoutMs !== undefined) {
    for (const name of PROVIDER_NAMES) providers[name] = { ...providers[name], timeoutMs };
  }
  return new RelayClient({
    directory,
    ...extra,
    providers,
    onRetry: (notice) => console.error(forTerminal(`relay: ${notice.provider}: ${notice.message}`)),
  });
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
  const jobArgument = () => required(argument, "the job ID");

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
      const ms = { min: 0, max: MAX_TIMER_MS, unit: "ms" };
      for (const [flag, key] of [
        ["validating-ms", "validatingMs"],
        ["in-progress-ms", "inProgressMs"],
        ["finalizing-ms", "finalizingMs"],
      ] as const) {
        const value = numberArgument(`--${flag}`, values[flag], ms);
        if (value !== undefined) timing[key] = value;
      }
      const port = numberArgument("--port", values.port, { min: 0, max: 65_535, integer: true }) ?? 8787;
      const apiKey = values["api-key"] ?? DEFAULT_EMULATOR_KEY;
      if (apiKey.trim() === "" || /\s/.test(apiKey))
        throw new UsageError("--api-key must be a key without spaces");
      const apiKeys = Object.fromEntries(PROVIDER_NAMES.map((name) => [name, apiKey]));
      const emulator = await Emulator.start({ port, timing, apiKeys }).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === "EADDRINUSE")
          throw new RelayError(
            "port_in_use",
            `port ${port} on 127.0.0.1 is in use; choose another with --port.`,
          );
        throw error;
      });
      out(`Relay emulator listening on ${emulator.url}`);
      for (const provider of PROVIDER_NAMES) out(`  ${provider}: ${emulator.baseURL(provider)}`);
      out(`Every provider accepts the API key "${apiKey}" and refuses any other with 401.`);
      out("Point Relay at it, for example:");
      out(`  export OPENAI_BASE_URL=${emulator.baseURL("openai")} OPENAI_API_KEY=${apiKey}`);
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
      const info = await stat(file).catch(() => null);
      if (!info) throw new UsageError(`cannot read ${file}: no such file`);
      if (!info.isFile()) throw new UsageError(`${file} is not a file; give a JSONL file of requests`);
      const provider = providerOption(values.provider);
      const jobId = required(values.job, "--job");
      const maxRequestsPerBatch = numberArgument("--max-batch-requests", values["max-batch-requests"], {
        min: 1,
        integer: true,
      });
      const client = clientFor(values, directory, {
        ...(maxRequestsPerBatch ? { providers: { [provider]: { maxRequestsPerBatch } } } : {}),
      });
      const job = await client.submitBatch({
        requests: readRequestsFile(file),
        jobId,
        provider,
        ...(values.description === undefined ? {} : { description: values.description }),
        ...(values.endpoint === undefined ? {} : { endpoint: values.endpoint }),
        ...(values.overwrite ? { overwrite: true } : {}),
      });
      out(statusLine(job));
      return 0;
    }
    case "list": {
      const client = clientFor(values, directory);
      let corrupt = 0;
      for (const jobId of await client.listJobs()) {
        try {
          const job = await client.getJob(jobId);
          const fields = [
            jobId,
            job?.provider ?? "?",
            job?.status ?? "?",
            `${job?.n_requests ?? "?"} requests`,
            job?.submitted_at ?? "",
          ];
          out(fields.map((field) => forTerminal(String(field))).join("\t"));
        } catch (error) {
          if (!(error instanceof RelayError)) throw error;
          // One unreadable record must not hide every other job.
          corrupt += 1;
          out(`${jobId}\t?\tcorrupt\t?\t`);
          console.error(formatError(error));
        }
      }
      return corrupt > 0 ? EXIT_CODES.relayError : EXIT_CODES.ok;
    }
    case "show": {
      const client = clientFor(values, directory);
      const jobId = jobArgument();
      const job = await client.getJob(jobId);
      if (!job) throw new UsageError(`no job "${jobId}" in ${client.directory}`);
      out(JSON.stringify(job, null, 2));
      return 0;
    }
    case "status": {
      out(statusLine(await clientFor(values, directory).monitorBatch(jobArgument())));
      return 0;
    }
    case "wait": {
      const seconds =
        numberArgument("--interval", values.interval, {
          min: 1,
          max: Math.floor(MAX_TIMER_MS / 1000),
          unit: "seconds",
        }) ?? 30;
      const job = await clientFor(values, directory).waitForBatch(jobArgument(), {
        pollIntervalMs: Math.round(seconds * 1000),
        onStatus: (status) => out(statusLine(status)),
      });
      return job.status === "completed" ? EXIT_CODES.ok : EXIT_CODES.notCompleted;
    }
    case "results": {
      const client = clientFor(values, directory);
      for await (const result of client.streamResults(jobArgument(), {
        forceRefresh: values.refresh ?? false,
      })) {
        // --json is exact (JSON escapes every control character); the summary is made safe for a terminal.
        out(values.json ? JSON.stringify(result) : resultSummary(result));
      }
      return 0;
    }
    case "cancel": {
      const accepted = await clientFor(values, directory).cancelBatch(jobArgument());
      out(accepted ? "Cancel accepted." : "Nothing to cancel: every batch had already finished.");
      return 0;
    }
    case "recover": {
      out(statusLine(await clientFor(values, directory).recover(jobArgument())));
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
    console.error(formatError(error));
    process.exitCode = exitCodeFor(error);
  },
);
