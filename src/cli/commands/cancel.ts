import type { CommandDefinition } from "../define.js";
import { EXIT } from "../exit-codes.js";
import { jobArgument, jsonOption } from "../options.js";
import { statusLine } from "../output/format.js";

export const cancelCommand: CommandDefinition = {
  name: "cancel",
  summary: "Cancel a job's unfinished batches",
  description:
    "Asks the provider to cancel every batch of the job that has not finished; batches not yet sent never will be. " +
    "Requests that already ran keep their results (fetch them with `relay results` once the job is cancelled).",
  arguments: [jobArgument()],
  options: [jsonOption("{ jobId, accepted, job } where job is the BatchJob after the cancel")],
  examples: ["relay cancel my-job", "relay cancel my-job && relay watch my-job"],
  jsonOutput: "{ jobId, accepted: boolean, job: BatchJob }",
  async run(context, [jobId], options) {
    const client = await context.client();
    const accepted = await client.cancelBatch(jobId as string);
    const job = await client.monitorBatch(jobId as string);
    if (options.json) await context.terminal.jsonDocument({ jobId, accepted, job });
    else {
      context.terminal.message(
        accepted ? "Cancel accepted." : "Nothing to cancel: every batch had already finished.",
      );
      await context.terminal.line(statusLine(job));
    }
    return EXIT.ok;
  },
};
