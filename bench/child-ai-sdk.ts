/**
 * The Vercel AI SDK 7 experimental batch functions on the same workload, in their own process: start one batch
 * (the API takes an array: there is no iterable or file input), poll its status, then read every result.
 */
import { createOpenAI } from "@ai-sdk/openai";
import {
  experimental_getBatchResults as getBatchResults,
  experimental_getBatchStatus as getBatchStatus,
  experimental_startBatch as startBatch,
} from "ai";
import { runChild } from "./measure.js";
import { idOf, indexOfId, MODEL, promptOf } from "./workload.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

await runChild("ai-sdk", async (config, recorder) => {
  const { size, proxy } = config;
  if (!proxy) throw new Error("the AI SDK run needs the proxy");
  const openai = createOpenAI({ baseURL: `${proxy}/openai/v1`, apiKey: "bench" });

  const requests = await recorder.phase("build requests", async () =>
    Array.from({ length: size }, (_, index) => ({
      id: idOf(index),
      type: "text" as const,
      model: MODEL,
      prompt: promptOf(index),
    })),
  );

  const batch = await recorder.phase("submit", () => startBatch({ provider: openai, requests }));
  recorder.notes.push(
    `startBatch returned batch ${batch.id}: status ${batch.status} (provider: ${batch.rawStatus ?? "?"})` +
      (batch.error ? `, error ${batch.error.code ?? ""}: ${batch.error.message}` : ""),
  );
  requests.length = 0;

  const status = await recorder.phase("monitor", async () => {
    for (;;) {
      const current = await getBatchStatus({ provider: openai, batch });
      if (current.status !== "pending") return current;
      await sleep(config.pollIntervalMs ?? 1000);
    }
  });
  recorder.notes.push(
    `final status ${status.status} (provider: ${status.rawStatus ?? "?"})` +
      (status.error ? `, error ${status.error.code ?? ""}: ${status.error.message}` : "") +
      (status.requestCounts ? `, request counts ${JSON.stringify(status.requestCounts)}` : ""),
  );

  const check = { results: 0, outOfOrder: 0, notSucceeded: 0, missing: 0, duplicates: 0 };
  const seen = new Uint8Array(size);
  await recorder.phase("retrieve", async () => {
    for await (const item of getBatchResults({ provider: openai, batch })) {
      const index = indexOfId(item.id);
      if (index !== check.results) check.outOfOrder += 1;
      if (item.status !== "succeeded") check.notSucceeded += 1;
      if (seen[index] === 1) check.duplicates += 1;
      seen[index] = 1;
      check.results += 1;
    }
  });
  check.missing = seen.reduce((missing, flag) => missing + (flag === 1 ? 0 : 1), 0);
  if (check.outOfOrder > 0) {
    recorder.notes.push(
      "results arrive in the provider's order, not request order (the caller must reorder)",
    );
  }
  return { check };
});
