import type { CommandDefinition } from "../define.js";
import { EXIT } from "../exit-codes.js";
import { jobArgument, jsonOption } from "../options.js";
import { sanitize } from "../output/sanitize.js";

export const cleanCommand: CommandDefinition = {
  name: "clean",
  summary: "Delete the provider's copies of a job's files once its results are stored",
  description:
    "Deletes what the provider keeps for the job that Relay no longer needs (uploaded input files, result files, " +
    "or the ended batch), only once the results are stored in the workspace; never before. Provider storage is " +
    "limited (Azure: 500 files per resource). The workspace keeps everything. Safe to run again.",
  arguments: [jobArgument()],
  options: [jsonOption("{ jobId, deleted: [provider file or batch IDs] }")],
  examples: ["relay results my-job --out answers.csv --format csv && relay clean my-job"],
  jsonOutput: "{ jobId, deleted: string[] }",
  async run(context, [jobId], options) {
    const report = await (await context.client()).cleanup(jobId as string);
    if (options.json) await context.terminal.jsonDocument(report);
    else if (report.deleted.length === 0)
      context.terminal.message(`Nothing left to delete at the provider for ${jobId}.`);
    else {
      context.terminal.message(`Deleted ${report.deleted.length} item(s) at the provider for ${jobId}:`);
      for (const id of report.deleted) await context.terminal.line(sanitize(id));
    }
    return EXIT.ok;
  },
};
