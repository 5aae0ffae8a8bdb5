import { readFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import { Argument, Option } from "commander";
import type { BatchPlan, RelayClient } from "../../client.js";
import type { CostEstimate } from "../../cost/estimate.js";
import type { RequestDefaults } from "../../input/defaults.js";
import { openRequests } from "../../input/open.js";
import { isProviderName, PROVIDER_NAMES, providerEntry } from "../../providers/registry.js";
import type { JsonSchemaFormat, ProviderName } from "../../types.js";
import { tee } from "../../util/tee.js";
import type { CliContext } from "../context.js";
import type { CommandDefinition } from "../define.js";
import { UsageError } from "../errors.js";
import { EXIT } from "../exit-codes.js";
import { jobIdOption, jsonOption, numberIn, providerOption, watchOptions } from "../options.js";
import { count, money, statusLine } from "../output/format.js";
import { renderTable } from "../output/table.js";
import { watchJob } from "../watch/watch-job.js";

const hasKey = (provider: ProviderName, env: NodeJS.ProcessEnv) => {
  const entry = providerEntry(provider);
  return [...(entry.apiKeyEnvAliases ?? []), entry.apiKeyEnv].some((name) => Boolean(env[name]));
};

/** --provider, else RELAY_PROVIDER, else the one provider whose key is set; anything else is a usage error. */
export function chooseProvider(given: string | undefined, env: NodeJS.ProcessEnv): ProviderName {
  if (given) return given as ProviderName;
  const fromEnv = env.RELAY_PROVIDER;
  if (fromEnv) {
    if (!isProviderName(fromEnv)) {
      throw new UsageError(`RELAY_PROVIDER is "${fromEnv}"; it must be one of ${PROVIDER_NAMES.join(", ")}.`);
    }
    return fromEnv;
  }
  const withKeys = PROVIDER_NAMES.filter((provider) => hasKey(provider, env));
  if (withKeys.length === 1) return withKeys[0] as ProviderName;
  throw new UsageError(
    `Which provider? Give --provider (${PROVIDER_NAMES.join(", ")})${withKeys.length > 1 ? `: keys are set for ${withKeys.join(", ")}` : ""}.`,
  );
}

/**
 * A --schema file: a JSON Schema object (named after the file), or a whole `{ type: "json_schema", name, schema }`.
 * It is checked with the requests, before anything is sent.
 */
async function readSchemaFile(path: string): Promise<JsonSchemaFormat> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    const reason =
      error instanceof SyntaxError ? `not valid JSON (${error.message})` : (error as Error).message;
    throw new UsageError(`--schema ${path}: ${reason}.`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new UsageError(`--schema ${path}: expected a JSON Schema object.`);
  }
  const value = parsed as Record<string, unknown>;
  if (value.type === "json_schema") return value as unknown as JsonSchemaFormat;
  const name =
    basename(path)
      .replace(/(\.schema)?\.json$/i, "")
      .replace(/[^a-zA-Z0-9_-]+/g, "_")
      .slice(0, 64) || "response";
  return { type: "json_schema", name, schema: value };
}

/** `<file name>-<UTC time>`, e.g. questions-20261201T120000Z, with -2, -3… if taken. */
async function generateJobId(client: RelayClient, label: string): Promise<string> {
  const stem = label === "stdin" ? "stdin" : basename(label, extname(label));
  const safe =
    stem
      .replace(/[^A-Za-z0-9._-]+/g, "-")
      .replace(/^[-.]+/, "")
      .slice(0, 60) || "job";
  const base = `${safe}-${new Date()
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z")}`;
  const taken = new Set(await client.listJobs());
  let id = base;
  for (let n = 2; taken.has(id); n += 1) id = `${base}-${n}`;
  return id;
}

async function printPlan(context: CliContext, plan: BatchPlan, estimate: CostEstimate): Promise<void> {
  const { terminal } = context;
  await terminal.line(
    `${count(plan.nRequests)} requests for ${plan.provider}${plan.endpoint ? ` (${plan.endpoint})` : ""}, in ${plan.shards.length} batch${plan.shards.length === 1 ? "" : "es"}:`,
  );
  const lines = renderTable(
    [
      { header: "BATCH" },
      { header: "MODEL" },
      { header: "REQUESTS", align: "right" },
      { header: "BYTES", align: "right" },
      { header: "PROMPT TOKENS (EST.)", align: "right" },
    ],
    plan.shards.map((shard) => [
      String(shard.index + 1),
      shard.model ?? "(several)",
      count(shard.nRequests),
      count(shard.bytes),
      count(shard.estimatedTokens),
    ]),
    terminal.style.bold,
  );
  for (const line of lines) await terminal.line(line);
  await terminal.line();
  await terminal.line(`Estimated cost: ${money(estimate.costUsd)} at batch prices`);
  const rows = Object.entries(estimate.byModel).map(([model, share]) => [
    model,
    count(share.requests),
    count(share.inputTokens),
    count(share.outputTokens),
    money(share.costUsd),
  ]);
  const table = renderTable(
    [
      { header: "MODEL" },
      { header: "REQUESTS", align: "right" },
      { header: "INPUT TOKENS", align: "right" },
      { header: "OUTPUT TOKENS (MAX)", align: "right" },
      { header: "COST", align: "right" },
    ],
    rows,
    terminal.style.bold,
  );
  for (const line of table) await terminal.line(line);
  terminal.message(
    `Input tokens ${estimate.exactInputTokens ? "counted with the model's tokenizer" : "approximated (about 4 characters a token) where Relay has no tokenizer for the model"}; ` +
      `output at each request's max tokens${estimate.assumedOutputRequests > 0 ? ` (${count(estimate.assumedOutputRequests)} without one counted at 256)` : ""}.`,
  );
  if (estimate.unknownModels.length > 0) {
    terminal.warn(`no price for ${estimate.unknownModels.join(", ")}: the cost is unknown, not $0.`);
  }
  const percent = Math.round(estimate.batchDiscount.multiplier * 100);
  terminal.message(
    `Batch prices: ${percent}% of ${estimate.pricesAsOf}, per ${estimate.batchDiscount.source}.`,
  );
}

export const submitCommand: CommandDefinition = {
  name: "submit",
  summary: "Submit a file of requests as a batch job",
  description:
    "FILE is .jsonl (one request per line: { id, model, prompt, systemPrompt?, maxTokens?, messages?, " +
    "providerArgs? }), .csv (a header line; columns prompt, and optionally id, model, system_prompt, max_tokens), " +
    ".txt (one prompt per line; ids line-<n>), or - for JSON lines on standard input. --model, --system and " +
    "--max-tokens fill in what a request does not set. Everything is checked before anything is sent. Without " +
    "--job an ID is made from the file name and the time, and printed. The provider is --provider, else " +
    "RELAY_PROVIDER, else the only provider whose API key is set.",
  arguments: [new Argument("<file>", "the requests: a .jsonl, .csv or .txt file, or - for JSONL on stdin")],
  options: [
    providerOption("the provider to send the batch to"),
    jobIdOption("the job ID (default: made from the file name and the time)"),
    new Option("-m, --model <model>", "the model for requests that name none (required for .txt)"),
    new Option("-s, --system <text>", "the system prompt for requests that have none"),
    new Option("--max-tokens <n>", "the most output tokens for requests that set none").argParser(
      numberIn({ min: 1, max: 10_000_000, integer: true }),
    ),
    new Option(
      "--schema <file>",
      'structured output: a JSON Schema file (or { type: "json_schema", name, schema }) every answer must satisfy',
    ),
    new Option("--description <text>", "a description kept with the job"),
    new Option(
      "--endpoint <path>",
      "the provider endpoint, where there is a choice (OpenAI: /v1/chat/completions or /v1/responses)",
    ),
    new Option(
      "--max-batch-requests <n>",
      "at most this many requests per provider batch (default: the provider's limit)",
    ).argParser(numberIn({ min: 1, max: 10_000_000, integer: true })),
    new Option("--overwrite", "replace a finished job of the same ID (its stored results are deleted)"),
    new Option("--dry-run", "check the requests, print the batches and the cost estimate, and send nothing"),
    new Option("--wait", "then wait for the job to finish, showing its progress (as relay watch)"),
    ...watchOptions(),
    jsonOption("the submitted job (BatchJob); with --dry-run { dryRun, plan, estimate }"),
  ],
  examples: [
    "relay submit questions.csv --provider openai --model gpt-4o-mini",
    "relay submit prompts.txt -p anthropic -m claude-sonnet-4-5 --max-tokens 500 --job labels-1",
    "relay submit requests.jsonl --dry-run # the batches and the estimated cost; nothing is sent",
    "relay submit reviews.csv -p openai -m gpt-4o-mini --schema sentiment.schema.json # answers as checked JSON",
    "cat requests.jsonl | relay submit - -p together --wait",
  ],
  jsonOutput:
    "one line: the BatchJob { jobId, provider, submittedAt, status, providerStatus, nRequests, completedRequests, " +
    "failedRequests, description, providerBatchIds }; with --wait, then one JobProgress per check (as relay watch " +
    "--json); with --dry-run one document { dryRun: true, jobId, plan: { provider, endpoint, nRequests, shards: " +
    "[{ index, model, nRequests, bytes, estimatedTokens }] }, estimate: { inputTokens, outputTokens, costUsd, " +
    "byModel, unknownModels, exactInputTokens, assumedOutputRequests, pricesAsOf, batchDiscount } }",
  async run(context, [file], options) {
    const { terminal, env } = context;
    const provider = chooseProvider(options.provider as string | undefined, env);
    const defaults: RequestDefaults = {
      ...(options.model !== undefined ? { model: options.model as string } : {}),
      ...(options.system !== undefined ? { systemPrompt: options.system as string } : {}),
      ...(options.maxTokens !== undefined ? { maxTokens: options.maxTokens as number } : {}),
      ...(options.schema !== undefined
        ? { responseFormat: await readSchemaFile(options.schema as string) }
        : {}),
    };
    const source = await openRequests(file as string, defaults);
    if (source.label === "stdin" && process.stdin.isTTY) {
      terminal.message("Reading JSON lines (one request each) from standard input; end with Ctrl-D.");
    }
    const dryRun = Boolean(options.dryRun);
    const missingKey = !hasKey(provider, env);
    const client = await context.client({
      providers: {
        [provider]: {
          ...(options.maxBatchRequests ? { maxRequestsPerBatch: options.maxBatchRequests as number } : {}),
          // A dry run sends nothing, so it needs no key; it says so below.
          ...(dryRun && missingKey ? { apiKey: "relay-dry-run" } : {}),
        },
      },
    });
    const endpoint = options.endpoint as string | undefined;

    if (dryRun) {
      const split = tee(source.requests);
      const [planned, estimated] = await Promise.allSettled([
        client
          .planBatch({ requests: split.branches[0], provider, ...(endpoint ? { endpoint } : {}) })
          .catch(async (error) => {
            await split.stop();
            throw error;
          }),
        client.estimateCost({ requests: split.branches[1], provider }),
      ]);
      if (planned.status === "rejected") throw planned.reason;
      if (estimated.status === "rejected") throw estimated.reason;
      if (options.json) {
        await terminal.jsonDocument({
          dryRun: true,
          jobId: options.job ?? null,
          plan: planned.value,
          estimate: estimated.value,
        });
      } else await printPlan(context, planned.value, estimated.value);
      terminal.message("Dry run: nothing was sent and nothing was stored.");
      if (missingKey)
        terminal.warn(`${providerEntry(provider).apiKeyEnv} is not set; submitting for real needs it.`);
      return EXIT.ok;
    }

    const jobId = (options.job as string | undefined) ?? (await generateJobId(client, source.label));
    const job = await client.submitBatch({
      requests: source.requests,
      jobId,
      provider,
      ...(options.description !== undefined ? { description: options.description as string } : {}),
      ...(endpoint ? { endpoint } : {}),
      ...(options.overwrite ? { overwrite: true } : {}),
    });
    if (options.json) await terminal.json(job);
    else {
      if (!options.job) terminal.message(`Job ID: ${jobId}`);
      await terminal.line(statusLine(job));
    }
    if (!options.wait) return EXIT.ok;
    return watchJob(context, jobId, {
      interval: options.interval as number,
      ...(options.timeout === undefined ? {} : { timeout: options.timeout as number }),
      json: Boolean(options.json),
    });
  },
};
