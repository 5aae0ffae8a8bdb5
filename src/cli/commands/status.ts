import type { CommandDefinition } from "../define.js";
import { EXIT } from "../exit-codes.js";
import { jobArgument, jsonOption } from "../options.js";
import { statusLine } from "../output/format.js";

export const statusCommand: CommandDefinition = {
  name: "status",
  summary: "Ask the provider for a job's status and store it",
  description:
    "Checks every batch of the job at the provider, stores the answer in the workspace, and prints one line. Also " +
    "sends any batch an interrupted submission left unsent. Exits 0 whatever the status (see `relay watch` to wait).",
  arguments: [jobArgument()],
  options: [jsonOption("the job (BatchJob) as one JSON document")],
  examples: ["relay status my-job", "relay status my-job --json | jq .status"],
  jsonOutput:
    "{ jobId, provider, submittedAt, status, providerStatus, nRequests, completedRequests, failedRequests, description, providerBatchIds }",
  async run(context, [jobId], options) {
    const client = await context.client();
    const job = await client.monitorBatch(jobId as string);
    if (options.json) await context.terminal.jsonDocument(job);
    else await context.terminal.line(statusLine(job));
    return EXIT.ok;
  },
};
