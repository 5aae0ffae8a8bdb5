import { JobNotFoundError } from "../../errors.js";
import type { CommandDefinition } from "../define.js";
import { EXIT } from "../exit-codes.js";
import { jobArgument, jsonOption } from "../options.js";
import { count, isoTimestamp, money } from "../output/format.js";
import { doneFailedTotal, resultsDeadline } from "../output/job-view.js";
import { sanitize } from "../output/sanitize.js";
import { statusStyle } from "../output/style.js";
import { renderTable } from "../output/table.js";

export const showCommand: CommandDefinition = {
  name: "show",
  summary: "Print a job's stored record (nothing is asked of the provider)",
  description: "Reads the job's record from the workspace only; `relay status` asks the provider first.",
  arguments: [jobArgument()],
  options: [jsonOption("the job record exactly as stored in <job>.json")],
  examples: ["relay show my-job", "relay show my-job --json"],
  jsonOutput: "the stored job record (see the README's workspace section)",
  async run(context, [jobId], options) {
    const { terminal } = context;
    const client = await context.client();
    const record = await client.getJob(jobId as string);
    if (!record) throw new JobNotFoundError(jobId as string);
    if (options.json) {
      await terminal.jsonDocument(record);
      return EXIT.ok;
    }
    const { style } = terminal;
    const hasResults = await client.hasResults(record.job_id);
    const deadline = resultsDeadline(record);
    const fields: [string, string][] = [
      ["job", record.job_id],
      ["description", record.description || "-"],
      ["provider", `${record.provider}${record.endpoint ? ` (${record.endpoint})` : ""}`],
      ["status", `${record.status} (provider: ${record.provider_status || "-"})`],
      [
        "requests",
        `${count(record.n_requests)} in all, ${count(record.completed_requests)} succeeded, ${count(record.failed_requests)} failed`,
      ],
      ["submitted", isoTimestamp(record.submitted_at)],
      ["finished", isoTimestamp(record.finished_at)],
      [
        "results",
        hasResults
          ? `stored (${record.job_id}_results.json)`
          : deadline
            ? `not fetched; the provider keeps them until ${isoTimestamp(deadline)}`
            : "not fetched",
      ],
    ];
    if (record.estimated_cost) {
      const estimate = record.estimated_cost;
      fields.push([
        "estimate",
        `${money(estimate.cost_usd)} (${count(estimate.input_tokens)} input / ${count(estimate.output_tokens)} output tokens, approximate)`,
      ]);
    }
    if (record.parent_job_id) fields.push(["retry of", record.parent_job_id]);
    if (record.retry_job_ids?.length) fields.push(["retried as", record.retry_job_ids.join(", ")]);
    const width = Math.max(...fields.map(([name]) => name.length));
    for (const [name, value] of fields) {
      const shown = name === "status" ? statusStyle(style, record.status)(sanitize(value)) : sanitize(value);
      await terminal.line(`${style.bold(name.padEnd(width))}  ${shown}`);
    }
    await terminal.line();
    const lines = renderTable(
      [
        { header: "BATCH" },
        { header: "PROVIDER ID" },
        { header: "MODEL" },
        { header: "STATE" },
        { header: "STATUS" },
        { header: "DONE/FAILED/TOTAL", align: "right" },
        { header: "RESULTS UNTIL" },
      ],
      record.shards.map((shard) => [
        String(shard.index + 1),
        shard.provider_batch_id ?? "-",
        shard.model ?? "-",
        shard.state,
        { text: shard.provider_status ?? shard.status, colour: statusStyle(style, shard.status) },
        doneFailedTotal({
          completed_requests: shard.completed_requests,
          failed_requests: shard.failed_requests,
          n_requests: shard.n_requests,
        }),
        isoTimestamp(shard.results_expire_at),
      ]),
      style.bold,
    );
    for (const line of lines) await terminal.line(line);
    for (const shard of record.shards) {
      if (shard.error)
        await terminal.line(
          sanitize(`batch ${shard.index + 1}: ${shard.error.code ?? "error"}: ${shard.error.message}`),
        );
    }
    return EXIT.ok;
  },
};
