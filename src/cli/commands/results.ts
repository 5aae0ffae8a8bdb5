import { stat } from "node:fs/promises";
import { Option } from "commander";
import { RelayError } from "../../errors.js";
import { type BatchResult, RESULT_STATUSES } from "../../types.js";
import { writeStreamAtomic } from "../../workspace/atomic.js";
import type { CommandDefinition } from "../define.js";
import { UsageError } from "../errors.js";
import { EXIT } from "../exit-codes.js";
import { jobArgument, listOf } from "../options.js";
import { CSV_RESULT_COLUMNS, formatResults, RESULT_FORMATS, type ResultFormat } from "../output/results.js";

async function* onlyStatuses(results: AsyncIterable<BatchResult>, statuses: ReadonlySet<string> | null) {
  for await (const result of results) if (!statuses || statuses.has(result.status)) yield result;
}

async function assertWritableOutput(path: string): Promise<void> {
  try {
    if ((await stat(path)).isDirectory()) {
      throw new RelayError("output_not_writable", `${path} is a directory; give --out a file name.`);
    }
  } catch (error) {
    if (error instanceof RelayError) throw error;
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

export const resultsCommand: CommandDefinition = {
  name: "results",
  summary: "Fetch a finished job's results (once) and print them, in request order",
  description:
    "The first call downloads the results from the provider into the workspace (<job>_results.json); later calls " +
    "read them from there. There is one result per request, in the order of the requests, including the failed, " +
    "expired and cancelled ones. Text output shows control characters as escapes; jsonl, json and csv are exact.",
  arguments: [jobArgument()],
  options: [
    new Option(
      "-f, --format <format>",
      "text (for people), jsonl (one JSON result per line), json (one array) or csv",
    )
      .choices(RESULT_FORMATS)
      .default("text"),
    new Option("--json", "the same as --format jsonl"),
    new Option(
      "-o, --out <file>",
      "write to this file (atomically: all or nothing) instead of standard output",
    ),
    new Option("--refresh", "download the results from the provider again, replacing the stored ones"),
    new Option(
      "--merged",
      "along the job's retries (relay retry): each request's latest attempt, with the job it came from",
    ),
    new Option(
      "--status <statuses>",
      `only results with these statuses (comma-separated: ${RESULT_STATUSES.join(", ")})`,
    ).argParser(listOf(RESULT_STATUSES, "result statuses")),
  ],
  examples: [
    "relay results my-job",
    "relay results my-job --format csv --out answers.csv",
    "relay results my-job --json | jq -r .text",
    "relay results my-job --merged --format csv # after relay retry: the latest attempt of each request",
    "relay results my-job --status failed,expired",
  ],
  jsonOutput:
    "one JSON result per line: { id, status, text?, usage?, finishReason?, error?, model?, attempt?, raw } " +
    `(--format json: one array of them; --format csv columns: ${CSV_RESULT_COLUMNS.join(", ")})`,
  async run(context, [jobId], options) {
    const { terminal } = context;
    let format = options.format as ResultFormat;
    if (options.json) {
      if (format !== "text" && format !== "jsonl")
        throw new UsageError(`--json means --format jsonl; it cannot go with --format ${format}.`);
      format = "jsonl";
    }
    const out = options.out as string | undefined;
    if (out) await assertWritableOutput(out);
    const client = await context.client();
    const statuses = options.status ? new Set(options.status as string[]) : null;
    const results = onlyStatuses(
      client.streamResults(jobId as string, {
        forceRefresh: Boolean(options.refresh),
        merged: Boolean(options.merged),
      }),
      statuses,
    );
    let written = 0;
    const counted = (async function* () {
      for await (const result of results) {
        written += 1;
        yield result;
      }
    })();
    const chunks = formatResults(counted, format);
    if (out) {
      await writeStreamAtomic(out, async (write) => {
        for await (const chunk of chunks) await write(chunk);
      });
      terminal.message(`Wrote ${written} results to ${out}.`);
    } else {
      for await (const chunk of chunks) await terminal.write(chunk);
    }
    return EXIT.ok;
  },
};
