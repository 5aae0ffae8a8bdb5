import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { money, resultSummary, statusLine } from "../src/cli/output/format.js";
import { formatResults } from "../src/cli/output/results.js";
import { sanitize } from "../src/cli/output/sanitize.js";
import { styles, visibleLength, wantsColour } from "../src/cli/output/style.js";
import { renderTable } from "../src/cli/output/table.js";
import { liveFrame, progressLine } from "../src/cli/watch/view.js";
import type { BatchResult } from "../src/index.js";
import type { JobProgress } from "../src/jobs/watch.js";

const ESC = "\u001b";

describe("human-readable output", () => {
  it("shows every control character as an escape, keeping newlines and tabs only when asked", () => {
    const text = `a${ESC}[2Jb\u0007c\rd\u009be\u202ef\tg\nh\u0000`;
    expect(sanitize(text)).toBe("a\\x1b[2Jb\\x07c\\rd\\x9be\\u202ef\\tg\\nh\\x00");
    expect(sanitize(text, { multiline: true })).toBe("a\\x1b[2Jb\\x07c\\rd\\x9be\\u202ef\tg\nh\\x00");
    expect(sanitize("plain ünïcode ✓ text")).toBe("plain ünïcode ✓ text");
  });

  it("keeps a provider's text from reaching the terminal raw in results, status lines and tables", () => {
    const summary = resultSummary({
      id: `id${ESC}]0;x\u0007`,
      status: "succeeded",
      text: `one\ntwo${ESC}[31m`,
      raw: null,
    });
    expect(summary).not.toContain(ESC);
    expect(summary).toBe("id\\x1b]0;x\\x07: one\n  two\\x1b[31m");
    const line = statusLine({
      jobId: "j",
      provider: "openai",
      submittedAt: "",
      status: "failed",
      providerStatus: `${ESC}[1mfailed`,
      nRequests: 1,
      completedRequests: 0,
      failedRequests: 1,
      description: "",
      providerBatchIds: [],
    });
    expect(line).toBe("j: failed (provider: \\x1b[1mfailed) 1/1 done, 1 failed");
    const table = renderTable(
      [{ header: "A" }, { header: "B", align: "right" }],
      [
        [`x${ESC}y`, "1"],
        ["long value", { text: "22", colour: styles(true).red }],
      ],
      (t) => t,
    );
    expect(table).toEqual(["A            B", "x\\x1by       1", `long value  ${ESC}[31m22${ESC}[39m`]);
    expect(visibleLength(`${ESC}[31m22${ESC}[39m`)).toBe(2);
  });

  it("shows tool calls and embeddings for people, and every kind of answer as CSV columns", async () => {
    const call: BatchResult = {
      id: "c",
      status: "succeeded",
      toolCalls: [{ id: "t", name: "lookup", arguments: { city: "Paris" } }],
      raw: null,
    };
    const vector: BatchResult = { id: "e", status: "succeeded", embedding: [0.5, -1], raw: null };
    const structured: BatchResult = {
      id: "s",
      status: "succeeded",
      text: '{"a":1}',
      json: { a: 1 },
      raw: null,
    };
    expect(resultSummary(call)).toBe('c: lookup({"city":"Paris"})');
    expect(resultSummary(vector)).toBe("e: [embedding of 2 dimensions]");
    async function* three() {
      yield call;
      yield vector;
      yield structured;
    }
    let csv = "";
    for await (const chunk of formatResults(three(), "csv")) csv += chunk;
    const rows = parse(csv, { columns: true }) as Record<string, string>[];
    expect(rows.map((row) => [row.id, row.json, row.tool_calls, row.embedding])).toEqual([
      ["c", "", JSON.stringify(call.toolCalls), ""],
      ["e", "", "", "[0.5,-1]"],
      ["s", '{"a":1}', "", ""],
    ]);
  });

  it("colours only a terminal, and never with NO_COLOR", () => {
    expect(wantsColour({ isTTY: true }, {})).toBe(true);
    expect(wantsColour({ isTTY: false }, {})).toBe(false);
    expect(wantsColour({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(wantsColour({ isTTY: true }, { TERM: "dumb" })).toBe(false);
    expect(styles(false).red("x")).toBe("x");
  });

  it("prints amounts with enough digits, and an unknown cost as unknown", () => {
    expect(money(null)).toBe("unknown");
    expect(money(0)).toBe("$0.00");
    expect(money(0.0000129)).toBe("$0.000013");
    expect(money(1.23456)).toBe("$1.2346");
    expect(money(1234.5)).toBe("$1234.50");
  });

  it("draws progress: finalizing is not done, frames fit the terminal's width", () => {
    const progress: JobProgress = {
      jobId: "job",
      status: "in_progress",
      providerStatus: "finalizing,in_progress",
      total: 4,
      completed: 3,
      failed: 0,
      remaining: 1,
      finalizing: true,
      shards: [
        {
          index: 0,
          batchId: "b0",
          status: "in_progress",
          providerStatus: "finalizing",
          total: 2,
          completed: 2,
          failed: 0,
          remaining: 0,
          finalizing: true,
        },
        {
          index: 1,
          batchId: "b1",
          status: "in_progress",
          providerStatus: "in_progress",
          total: 2,
          completed: 1,
          failed: 0,
          remaining: 1,
          finalizing: false,
        },
      ],
      elapsedMs: 65_000,
      ratePerSecond: 0.05,
      etaMs: 20_000,
      checkedAt: new Date().toISOString(),
    };
    const frame = liveFrame(progress, 120, styles(false));
    expect(frame[0]).toMatch(
      /^job {2}finalizing \(provider: finalizing,in_progress\) {2}elapsed 1m 0[5-6]s$/,
    );
    expect(frame[1]).toMatch(/overall {3}█+░+ {2}3\/4 {2}ETA 20s$/);
    expect(frame[2]).toMatch(/batch 1 +█+ {2}2\/2 {2}finalizing$/);
    expect(frame[3]).toMatch(/batch 2 +█+░+ {2}1\/2 {2}in_progress$/);
    for (const line of liveFrame(progress, 40, styles(true))) expect(visibleLength(line)).toBeLessThan(40);
    expect(progressLine(progress)).toMatch(
      /job: finalizing .* 3\/4 done, 0 failed, batches: 1 finalizing, 1 in_progress, ETA 20s$/,
    );
  });
});
