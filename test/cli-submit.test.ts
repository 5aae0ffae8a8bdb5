import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { BatchJob } from "../src/index.js";
import { jsonLines, openaiLinesSent, withHarness, workspaceListing, writesSeen } from "./support/cli.js";
import { exampleRequests, TEST_KEYS } from "./support/harness.js";
import { relay } from "./support/relay-process.js";

/** The user message and system prompt of a chat-completions line. */
function chat(line: Record<string, unknown> | undefined) {
  const body = line?.body as {
    model: string;
    messages: { role: string; content: string }[];
    max_completion_tokens?: number;
  };
  return {
    model: body.model,
    system: body.messages.find((message) => message.role === "system")?.content,
    prompt: body.messages.find((message) => message.role === "user")?.content,
    maxTokens: body.max_completion_tokens,
  };
}

describe("relay submit", () => {
  it.concurrent("reads JSONL, CSV, TXT and JSONL on stdin, with defaults for what a request does not set", async () =>
    withHarness(async (harness) => {
      const env = harness.env("openai");
      const dir = harness.directory;
      await writeFile(
        join(dir, "requests.jsonl"),
        `${JSON.stringify({ id: "j1", model: "gpt-4o", prompt: "first" })}\n\n${JSON.stringify({ id: "j2", prompt: "second", maxTokens: 9 })}\n`,
      );
      // A byte-order mark, quoted commas, doubled quotes and a newline inside a field; empty cells take the defaults.
      await writeFile(
        join(dir, "questions.csv"),
        '\ufeffid,prompt,model,system_prompt,max_tokens\r\nc1,"Hello, world",,,\r\nc2,"Say ""hi""\nthen stop",gpt-4o,Be terse.,12\r\n',
      );
      await writeFile(join(dir, "no-ids.csv"), "prompt\nalpha\nbeta\n");
      await writeFile(join(dir, "prompts.txt"), "one prompt\n\nanother, with a comma\n");
      const stdinLines = exampleRequests(2)
        .map((request) => JSON.stringify(request))
        .join("\n");

      const [jsonl, csv, noIds, txt, stdin] = await Promise.all([
        relay(
          [
            "submit",
            join(dir, "requests.jsonl"),
            "--job",
            "from-jsonl",
            "-p",
            "openai",
            "--model",
            "gpt-4o-mini",
          ],
          env,
        ),
        relay(
          [
            "submit",
            join(dir, "questions.csv"),
            "--job",
            "from-csv",
            "--model",
            "gpt-4o-mini",
            "--system",
            "Default system.",
            "--json",
          ],
          env,
        ),
        relay(["submit", join(dir, "no-ids.csv"), "--job", "no-ids", "--model", "gpt-4o-mini"], env),
        relay(
          [
            "submit",
            join(dir, "prompts.txt"),
            "--job",
            "from-txt",
            "-m",
            "gpt-4o-mini",
            "--max-tokens",
            "64",
          ],
          env,
        ),
        relay(["submit", "-", "--provider", "openai"], env, { input: stdinLines }),
      ]);
      for (const run of [jsonl, csv, noIds, txt, stdin]) expect(run.code, run.stderr).toBe(0);

      // The provider is the only one with a key in the environment when --provider is left out.
      expect(jsonl.stdout).toContain("from-jsonl: pending");
      const sentJsonl = await openaiLinesSent(harness, "from-jsonl");
      expect(chat(sentJsonl.get("j1"))).toMatchObject({ model: "gpt-4o", prompt: "first" });
      expect(chat(sentJsonl.get("j2"))).toMatchObject({
        model: "gpt-4o-mini",
        prompt: "second",
        maxTokens: 9,
      });

      const [csvJob] = jsonLines<BatchJob>(csv.stdout);
      expect(csvJob).toMatchObject({
        jobId: "from-csv",
        provider: "openai",
        nRequests: 2,
        status: "pending",
      });
      // Two models: one batch each (OpenAI takes one model per batch).
      expect(csvJob?.providerBatchIds).toHaveLength(2);
      const sentCsv = await openaiLinesSent(harness, "from-csv");
      expect(chat(sentCsv.get("c1"))).toEqual({
        model: "gpt-4o-mini",
        system: "Default system.",
        prompt: "Hello, world",
        maxTokens: undefined,
      });
      expect(chat(sentCsv.get("c2"))).toEqual({
        model: "gpt-4o",
        system: "Be terse.",
        prompt: 'Say "hi"\nthen stop',
        maxTokens: 12,
      });
      expect([...(await openaiLinesSent(harness, "no-ids")).keys()]).toEqual(["row-1", "row-2"]);

      const sentTxt = await openaiLinesSent(harness, "from-txt");
      expect([...sentTxt.keys()]).toEqual(["line-1", "line-3"]);
      expect(chat(sentTxt.get("line-3"))).toMatchObject({ prompt: "another, with a comma", maxTokens: 64 });

      // Without --job the ID is made from the source and the time, and printed.
      const generated = /Job ID: (stdin-\d{8}T\d{6}Z)/.exec(stdin.stderr)?.[1];
      expect(generated).toBeTruthy();
      expect(stdin.stdout).toContain(`${generated}: pending`);
      expect([...(await openaiLinesSent(harness, generated as string)).keys()]).toEqual(["req-1", "req-2"]);
      expect((await harness.client().listJobs()).sort()).toEqual(
        ["from-csv", "from-jsonl", "from-txt", "no-ids", generated].sort(),
      );
    }));

  it.concurrent("--dry-run prints the batches and the estimate and sends nothing, without a key, from a file or stdin", async () =>
    withHarness(async (harness) => {
      const env = harness.env("openai");
      const file = join(harness.directory, "plan.jsonl");
      const requests = exampleRequests(5).map((request) => ({ ...request, maxTokens: 40 }));
      await writeFile(file, requests.map((request) => JSON.stringify(request)).join("\n"));
      await harness.client().listJobs();
      const before = await workspaceListing(harness.directory);
      const keyless = { RELAY_DIRECTORY: harness.directory };
      const [json, text, stdin] = await Promise.all([
        relay(["submit", file, "-p", "openai", "--dry-run", "--max-batch-requests", "2", "--json"], keyless),
        relay(["submit", file, "-p", "openai", "--dry-run"], env),
        relay(["submit", "-", "-p", "openai", "--dry-run", "--json"], env, {
          input: requests.map((request) => JSON.stringify(request)).join("\n"),
        }),
      ]);
      expect(json.code, json.stderr).toBe(0);
      const planned = JSON.parse(json.stdout);
      expect(planned.dryRun).toBe(true);
      expect(planned.plan.nRequests).toBe(5);
      expect(planned.plan.shards.map((shard: { nRequests: number }) => shard.nRequests)).toEqual([2, 2, 1]);
      // Output is counted at each request's maxTokens; input by gpt-4o-mini's tokenizer (exact).
      expect(planned.estimate.outputTokens).toBe(5 * 40);
      expect(planned.estimate.exactInputTokens).toBe(true);
      expect(planned.estimate.costUsd).toBeCloseTo(
        ((planned.estimate.inputTokens * 0.15 + planned.estimate.outputTokens * 0.6) / 1e6) * 0.5,
        12,
      );
      expect(json.stderr).toContain("nothing was sent");
      expect(json.stderr).toContain("OPENAI_API_KEY is not set");

      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(/5 requests for openai \(\/v1\/chat\/completions\), in 1 batch/);
      expect(text.stdout).toMatch(/Estimated cost: \$0\.\d+ at batch prices/);

      expect(stdin.code, stdin.stderr).toBe(0);
      expect(JSON.parse(stdin.stdout).estimate).toEqual(planned.estimate);

      expect(harness.emulator.requestLog).toEqual([]);
      expect(await workspaceListing(harness.directory)).toEqual(before);
    }));

  it.concurrent("refuses bad input with a clear message and the documented exit code, storing and sending nothing", async () =>
    withHarness(async (harness) => {
      const env = harness.env("openai");
      const dir = harness.directory;
      await harness
        .client()
        .submitBatch({ requests: exampleRequests(1), jobId: "running", provider: "openai" });
      const writesBefore = writesSeen(harness);
      const good = join(dir, "good.jsonl");
      await writeFile(good, JSON.stringify(exampleRequests(1)[0]));
      const files: Record<string, string | Buffer> = {
        "bad-line.jsonl": '{"id":"a","model":"m","prompt":"p"}\n{not json}\n',
        "bad-id.jsonl": JSON.stringify({ id: "has space", model: "gpt-4o-mini", prompt: "p" }),
        "no-prompt.csv": "id,question\n1,what?\n",
        "unknown-column.csv": "prompt,temperature\nhi,0.3\n",
        "bad-max.csv": "prompt,max_tokens\nhi,lots\n",
        "unclosed.csv": 'prompt\n"never closed\n',
        "latin1.csv": Buffer.from([0x70, 0x72, 0x6f, 0x6d, 0x70, 0x74, 0x0a, 0xe9, 0x0a]),
        "no-model.csv": "prompt\nhi\n",
        "prompts.txt": "hello\n",
        "data.xlsx": "x",
      };
      for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
      await mkdir(join(dir, "a-directory.jsonl"));
      const file = (name: string) => join(dir, name);
      const cases: [string[], number, RegExp, Record<string, string>?][] = [
        [["submit", file("missing.jsonl"), "--job", "x"], 1, /no such file.*\[invalid_input_file\]/],
        [["submit", file("a-directory.jsonl"), "--job", "x"], 1, /is a directory.*\[invalid_input_file\]/],
        [["submit", file("data.xlsx"), "--job", "x"], 1, /unknown kind of requests file/],
        [["submit", file("bad-line.jsonl"), "--job", "x"], 1, /line 2: not valid JSON/],
        [["submit", file("bad-id.jsonl"), "--job", "x"], 1, /\[invalid_request_id\]/],
        [
          ["submit", file("no-prompt.csv"), "--job", "x", "-m", "gpt-4o-mini"],
          1,
          /unknown column "question"/,
        ],
        [
          ["submit", file("unknown-column.csv"), "--job", "x", "-m", "gpt-4o-mini"],
          1,
          /unknown column "temperature"/,
        ],
        [
          ["submit", file("bad-max.csv"), "--job", "x", "-m", "gpt-4o-mini"],
          1,
          /line 2: max_tokens must be a whole number/,
        ],
        [["submit", file("unclosed.csv"), "--job", "x", "-m", "gpt-4o-mini"], 1, /not a valid CSV file/],
        [["submit", file("latin1.csv"), "--job", "x", "-m", "gpt-4o-mini"], 1, /not valid UTF-8/],
        [["submit", file("no-model.csv"), "--job", "x"], 1, /no model; give a model column or --model/],
        [["submit", file("prompts.txt"), "--job", "x"], 1, /give the model with --model/],
        [["submit", good, "--job", "running"], 1, /\[job_exists\]/],
        [["submit", good, "--job", "x"], 1, /ANTHROPIC_API_KEY/, { ...env, RELAY_PROVIDER: "anthropic" }],
        [["submit", good, "--job", "x", "--max-tokens", "abc"], 64, /--max-tokens.*whole number from 1/],
        [["submit", good, "--job", "x", "--max-tokens", "0"], 64, /--max-tokens/],
        [["submit", good, "--job", "x", "--max-batch-requests", "1.5"], 64, /--max-batch-requests/],
        [["submit", good, "--job", "-x"], 64, /looks like an option/],
        [["submit", good, "--job", "../escape"], 64, /is not allowed/],
        [["submit", good, "--job", "x", "--provider", "nope"], 64, /Allowed choices are openai/],
        [["submit", good, "--job", "x", "--wait", "--interval", "0"], 64, /--interval.*from 1 to 86400/],
        [["submit", good, "--job", "x", "--wait", "--timeout", "abc"], 64, /--timeout/],
        [["submit", good, "--job", "x"], 64, /Which provider\?/, { RELAY_DIRECTORY: dir }],
        [["submit", good, "--job", "x"], 64, /RELAY_PROVIDER is "nope"/, { ...env, RELAY_PROVIDER: "nope" }],
        [["submit", "--job", "x"], 64, /missing required argument 'file'/],
      ];
      const runs = await Promise.all(cases.map(([args, , , caseEnv]) => relay(args, caseEnv ?? env)));
      runs.forEach((run, index) => {
        const [args, code, message] = cases[index] as (typeof cases)[number];
        expect({ args, code: run.code }).toEqual({ args, code });
        expect(run.stderr).toMatch(message);
        expect(run.stderr).not.toMatch(/\n\s+at /);
        expect(run.stdout).toBe("");
      });
      expect(await harness.client().listJobs()).toEqual(["running"]);
      expect(writesSeen(harness)).toEqual(writesBefore);
      // The failed submissions left no staging directories behind.
      expect(await workspaceListing(join(dir, ".relay", "jobs"))).not.toContainEqual(
        expect.stringContaining("staging"),
      );
      expect(TEST_KEYS.openai).toBeTruthy();
    }));
});
