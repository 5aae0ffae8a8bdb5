import { Argument } from "commander";
import type { JobCost } from "../../client.js";
import type { CommandDefinition } from "../define.js";
import { EXIT } from "../exit-codes.js";
import { jsonOption, parseJobId } from "../options.js";
import { count, money } from "../output/format.js";
import { renderTable } from "../output/table.js";
import type { Terminal } from "../output/terminal.js";

/** The total over the jobs whose results are stored; null when any of them has a model without a price. */
export interface CostTotal {
  costUsd: number | null;
  inputTokens: number;
  outputTokens: number;
  jobsCounted: number;
  /** Jobs whose results are not in the workspace yet: not counted. */
  jobsWithoutResults: string[];
  unknownModels: string[];
}

function totalOf(costs: readonly JobCost[]): CostTotal {
  const counted = costs.filter((cost) => cost.resultsStored);
  let costUsd: number | null = 0;
  for (const cost of counted)
    costUsd = costUsd === null || cost.costUsd === null ? null : costUsd + cost.costUsd;
  return {
    costUsd,
    inputTokens: counted.reduce((sum, cost) => sum + cost.inputTokens, 0),
    outputTokens: counted.reduce((sum, cost) => sum + cost.outputTokens, 0),
    jobsCounted: counted.length,
    jobsWithoutResults: costs.filter((cost) => !cost.resultsStored).map((cost) => cost.jobId),
    unknownModels: [...new Set(counted.flatMap((cost) => cost.unknownModels))].sort(),
  };
}

async function printJobCost(terminal: Terminal, cost: JobCost): Promise<void> {
  const { style } = terminal;
  if (!cost.resultsStored) {
    terminal.message(
      `The results of ${cost.jobId} are not in the workspace yet: fetch them with relay results ${cost.jobId}.`,
    );
  } else {
    const models = Object.entries(cost.byModel);
    const lines = renderTable(
      [
        { header: "MODEL" },
        { header: "REQUESTS", align: "right" },
        { header: "INPUT TOKENS", align: "right" },
        { header: "CACHED", align: "right" },
        { header: "OUTPUT TOKENS", align: "right" },
        { header: "COST", align: "right" },
      ],
      [
        ...models.map(([model, share]) => [
          model,
          count(share.requests),
          count(share.inputTokens),
          count(share.cachedInputTokens),
          count(share.outputTokens),
          money(share.costUsd),
        ]),
        [
          "total",
          "",
          count(cost.inputTokens),
          "",
          count(cost.outputTokens),
          { text: money(cost.costUsd), colour: style.bold },
        ],
      ],
      style.bold,
    );
    for (const line of lines) await terminal.line(line);
  }
  if (cost.unknownModels.length > 0) {
    terminal.warn(`no price for ${cost.unknownModels.join(", ")}: the total is unknown, not $0.`);
  }
  if (cost.estimate) {
    terminal.message(
      `Estimated at submission: ${money(cost.estimate.cost_usd)} (${count(cost.estimate.input_tokens)} input / ` +
        `${count(cost.estimate.output_tokens)} output tokens at most, approximate).`,
    );
  }
  terminal.message(pricesNote(cost));
}

function pricesNote(cost: {
  pricesAsOf: string;
  batchDiscount: JobCost["batchDiscount"];
  provider: string;
}): string {
  const percent = Math.round(cost.batchDiscount.multiplier * 100);
  return (
    `Batch prices (${cost.provider}): ${percent}% of ${cost.pricesAsOf}, per ${cost.batchDiscount.source}` +
    `${cost.batchDiscount.note ? ` (${cost.batchDiscount.note})` : ""}.`
  );
}

export const costCommand: CommandDefinition = {
  name: "cost",
  summary: "What a job cost (or every job in the workspace, with a total)",
  description:
    "Counts from the usage the provider reported in the stored results, at the provider's batch prices (cached " +
    "input at the cached rate). A model without a price makes the cost unknown, never $0. Jobs whose results are " +
    "not fetched yet are not counted (`relay results JOB` fetches them). For an estimate before sending, use " +
    "`relay submit FILE --dry-run`.",
  arguments: [new Argument("[job]", "the job ID (all jobs when left out)").argParser(parseJobId)],
  options: [jsonOption("the job's cost, or { jobs: [...], total } for the workspace")],
  examples: [
    "relay cost my-job",
    "relay cost # every job, with a total",
    "relay cost --json | jq .total.costUsd",
  ],
  jsonOutput:
    "for a job: { jobId, provider, resultsStored, inputTokens, outputTokens, costUsd (null when unknown), byModel: " +
    "{ model: { requests, inputTokens, cachedInputTokens, outputTokens, costUsd } }, unknownModels, pricesAsOf, " +
    "batchDiscount, estimate }; for the workspace: { jobs: [those], total: { costUsd, inputTokens, outputTokens, " +
    "jobsCounted, jobsWithoutResults, unknownModels } }",
  async run(context, [jobId], options) {
    const { terminal } = context;
    const client = await context.client();
    if (jobId) {
      const cost = await client.jobCost(jobId as string);
      if (options.json) await terminal.jsonDocument(cost);
      else await printJobCost(terminal, cost);
      return EXIT.ok;
    }
    const costs: JobCost[] = [];
    for (const listing of await client.scanJobs()) {
      if (listing.error)
        terminal.warn(`${listing.jobId} is not counted: ${listing.error.message} [${listing.error.code}]`);
      else costs.push(await client.jobCost(listing.jobId));
    }
    const total = totalOf(costs);
    if (options.json) {
      await terminal.jsonDocument({ jobs: costs, total });
      return EXIT.ok;
    }
    const { style } = terminal;
    const lines = renderTable(
      [
        { header: "JOB" },
        { header: "PROVIDER" },
        { header: "INPUT TOKENS", align: "right" },
        { header: "OUTPUT TOKENS", align: "right" },
        { header: "COST", align: "right" },
      ],
      [
        ...costs.map((cost) => [
          cost.jobId,
          cost.provider,
          cost.resultsStored ? count(cost.inputTokens) : "-",
          cost.resultsStored ? count(cost.outputTokens) : "-",
          cost.resultsStored ? money(cost.costUsd) : "results not fetched",
        ]),
        [
          "total",
          "",
          count(total.inputTokens),
          count(total.outputTokens),
          { text: money(total.costUsd), colour: style.bold },
        ],
      ],
      style.bold,
    );
    for (const line of lines) await terminal.line(line);
    if (total.jobsWithoutResults.length > 0) {
      terminal.message(`Not counted (results not fetched): ${total.jobsWithoutResults.join(", ")}.`);
    }
    if (total.unknownModels.length > 0) {
      terminal.warn(`no price for ${total.unknownModels.join(", ")}: the total is unknown, not $0.`);
    }
    return EXIT.ok;
  },
};
