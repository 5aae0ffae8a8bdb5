import type { CommandDefinition } from "../define.js";
import { EXIT } from "../exit-codes.js";
import { jobArgument, jsonOption } from "../options.js";
import { statusLine } from "../output/format.js";

export const recoverCommand: CommandDefinition = {
  name: "recover",
  summary: "Finish an interrupted submission",
  description:
    "For every batch of the job whose creation was not recorded (a crash, a lost answer), looks it up at the " +
    "provider and adopts it, or creates it if the provider has none. Never makes a second batch. Safe to run at any time.",
  arguments: [jobArgument()],
  options: [jsonOption("the job (BatchJob) as one JSON document")],
  examples: ["relay recover my-job"],
  jsonOutput: "the BatchJob, as `relay status --json`",
  async run(context, [jobId], options) {
    const job = await (await context.client()).recover(jobId as string);
    if (options.json) await context.terminal.jsonDocument(job);
    else await context.terminal.line(statusLine(job));
    return EXIT.ok;
  },
};
