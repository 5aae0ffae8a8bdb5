import { readdir, readFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type BatchRequest,
  InvalidJobIdError,
  JobExistsError,
  JobNotFinishedError,
  JobNotFoundError,
  MissingApiKeyError,
  RelayClient,
  type RelayError,
  UnknownProviderError,
  ValidationError,
} from "../src/index.js";
import { ENOUGH_TIME_MS, exampleRequests, type Harness, startHarness } from "./support/harness.js";

/** Everything in the workspace, to prove that a refused call changed nothing. */
async function snapshot(directory: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = `${entry.parentPath}/${entry.name}`;
    files[path] = await readFile(path, "utf8");
  }
  return files;
}

describe("bad input is refused with a typed error before anything is sent", () => {
  let harness: Harness;
  let client: RelayClient;
  beforeEach(async () => {
    harness = await startHarness();
    client = harness.client();
    await client.submitBatch({ requests: exampleRequests(2), jobId: "existing", provider: "openai" });
  });
  afterEach(async () => {
    await harness.close();
  });

  async function expectRefused(
    call: () => Promise<unknown>,
    type: new (...args: never[]) => RelayError,
    code?: string,
  ) {
    const before = await snapshot(harness.directory);
    const requestsBefore = harness.emulator.requestLog.length;
    const error = await call().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(type);
    if (code) expect((error as RelayError).code).toBe(code);
    expect((error as Error).message.length).toBeGreaterThan(20);
    expect(harness.emulator.requestLog.length).toBe(requestsBefore);
    expect(await snapshot(harness.directory)).toEqual(before);
    return error as RelayError;
  }

  const submit = (overrides: Record<string, unknown>) => () =>
    client.submitBatch({
      requests: exampleRequests(2),
      jobId: "new-job",
      provider: "openai",
      ...overrides,
    } as never);

  it("an empty request list", async () => {
    await expectRefused(submit({ requests: [] }), ValidationError, "empty_batch");
    await expectRefused(submit({ requests: (function* () {})() }), ValidationError, "empty_batch");
  });

  it.each(["", "   ", "../x", "/tmp/x", "a/b", "a\\b", "x_results", ".hidden", "..", "a b", "é"])(
    "the job ID %j",
    async (jobId) => {
      await expectRefused(submit({ jobId }), InvalidJobIdError, "invalid_job_id");
      await expectRefused(() => client.monitorBatch(jobId), InvalidJobIdError);
      await expectRefused(() => client.retrieveBatchResults(jobId), InvalidJobIdError);
    },
  );

  it("duplicate request IDs", async () => {
    const requests = [...exampleRequests(3), { ...exampleRequests(1)[0] } as BatchRequest];
    const error = await expectRefused(submit({ requests }), ValidationError, "duplicate_request_id");
    expect(error.message).toContain('"req-1"');
  });

  it.each([
    ["too long", "x".repeat(65)],
    ["with a space", "has space"],
    ["with a newline", "a\nb"],
    ["empty", ""],
  ])("a request ID the provider would reject (%s)", async (_label, id) => {
    const requests = [{ id, model: "gpt-4o-mini", prompt: "hi" }];
    await expectRefused(submit({ requests }), ValidationError, "invalid_request_id");
  });

  it("a missing model or prompt, and malformed fields", async () => {
    await expectRefused(submit({ requests: [{ id: "a", prompt: "hi" }] }), ValidationError);
    await expectRefused(submit({ requests: [{ id: "a", model: "gpt-4o-mini" }] }), ValidationError);
    await expectRefused(
      submit({ requests: [{ id: "a", model: "gpt-4o-mini", prompt: "" }] }),
      ValidationError,
    );
    await expectRefused(
      submit({ requests: [{ id: "a", model: "m", prompt: "p", maxTokens: 0 }] }),
      ValidationError,
    );
    await expectRefused(
      submit({ requests: [{ id: "a", model: "m", prompt: "p", providerArgs: { t: Number.NaN } }] }),
      ValidationError,
    );
    await expectRefused(
      submit({
        requests: [{ id: "a", model: "m", prompt: "p", providerArgs: { t: Number.POSITIVE_INFINITY } }],
      }),
      ValidationError,
    );
    await expectRefused(
      submit({ requests: [{ id: "a", model: "m", messages: [{ role: "robot", content: "x" }] }] }),
      ValidationError,
    );
  });

  it("a bad request after good ones leaves nothing behind (the requests are streamed)", async () => {
    async function* requests() {
      yield* exampleRequests(100);
      yield { id: "broken", model: "gpt-4o-mini" } as BatchRequest;
    }
    await expectRefused(submit({ requests: requests() }), ValidationError);
  });

  it("an unknown provider", async () => {
    const error = await expectRefused(
      submit({ provider: "openia" }),
      UnknownProviderError,
      "unknown_provider",
    );
    expect(error.message).toContain("openai");
  });

  it("an unsupported endpoint", async () => {
    await expectRefused(submit({ endpoint: "/v1/embeddings" }), ValidationError, "unsupported_endpoint");
  });

  it("a missing API key names the environment variable", async () => {
    const keyless = new RelayClient({ directory: harness.directory, env: {} });
    const error = await expectRefused(
      () => keyless.submitBatch({ requests: exampleRequests(1), jobId: "k", provider: "openai" }),
      MissingApiKeyError,
      "missing_api_key",
    );
    expect(error.message).toContain("OPENAI_API_KEY");
    await expectRefused(() => keyless.monitorBatch("existing"), MissingApiKeyError);
  });

  it("a job ID that is still in progress, and a finished one without overwrite", async () => {
    const error = await expectRefused(submit({ jobId: "existing" }), JobExistsError, "job_exists");
    expect(error.message).toContain("in progress");
    harness.clock.advance(ENOUGH_TIME_MS);
    await client.monitorBatch("existing");
    const finished = await expectRefused(submit({ jobId: "existing" }), JobExistsError, "job_exists");
    expect(finished.message).toContain("overwrite");
    await client.retrieveBatchResults("existing");
    const replaced = await client.submitBatch({
      requests: exampleRequests(1),
      jobId: "existing",
      provider: "openai",
      overwrite: true,
    });
    expect(replaced.nRequests).toBe(1);
    expect(await client.hasResults("existing")).toBe(false);
  });

  it("monitoring, retrieving or cancelling an unknown job", async () => {
    await expectRefused(() => client.monitorBatch("nope"), JobNotFoundError, "job_not_found");
    await expectRefused(() => client.retrieveBatchResults("nope"), JobNotFoundError);
    await expectRefused(() => client.cancelBatch("nope"), JobNotFoundError);
    expect(await client.getJob("nope")).toBeNull();
    expect(await client.getResults("nope")).toBeNull();
    expect(await client.hasResults("nope")).toBe(false);
  });

  it("retrieving a job that has not finished", async () => {
    const error = await client.retrieveBatchResults("existing").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(JobNotFinishedError);
    expect((error as JobNotFinishedError).status).toBe("pending");
    expect((error as Error).message).toContain("monitorBatch");
    expect(await client.hasResults("existing")).toBe(false);
  });
});
