import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Emulator, ManualClock } from "../src/emulator/index.js";

/** The emulation over raw HTTP, held to what the official SDK's sources and fixtures show of the API. */
describe("the xAI emulation", () => {
  const clock = new ManualClock();
  let emulator: Emulator;
  let base: string;
  const KEY = "xai-test-key-0123456789";
  beforeAll(async () => {
    emulator = await Emulator.start({ clock, apiKeys: { xai: KEY } });
    base = emulator.baseURL("xai");
  });
  afterAll(async () => {
    await emulator.close();
  });

  async function call(method: string, path: string, body?: unknown, key = KEY) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
  }

  const item = (id: string | undefined, prompt = "Say hi", extra: Record<string, unknown> = {}) => ({
    ...(id === undefined ? {} : { batch_request_id: id }),
    batch_request: { responses: { model: "grok-4.3", input: prompt, ...extra } },
  });

  async function created(name = "test") {
    const answer = await call("POST", "/batches", { name });
    expect(answer.status).toBe(200);
    return answer.body as { batch_id: string };
  }

  it("refuses a wrong key with xAI's 400, echoing only a redacted key", async () => {
    const answer = await call("GET", "/batches", undefined, "xai-wrong-key-9876543210");
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      code: "Client specified an invalid argument",
      error: "Incorrect API key provided: xa***10. You can obtain an API key from https://console.x.ai.",
    });
  });

  it("creates a batch by name, shaped as the SDK's fixture: no status, counts in state, unset times null", async () => {
    const answer = await call("POST", "/batches", { name: "My New Batch" });
    expect(answer.status).toBe(200);
    const batch = answer.body;
    expect(Object.keys(batch)).toEqual(
      expect.arrayContaining([
        "batch_id",
        "name",
        "create_time",
        "expire_time",
        "create_api_key_id",
        "cancel_time",
        "cancel_by_xai_message",
        "state",
      ]),
    );
    expect(batch.batch_id).toMatch(/^batch_[0-9a-f-]{36}$/);
    expect(batch).toMatchObject({
      name: "My New Batch",
      cancel_time: null,
      cancel_by_xai_message: null,
      state: { num_requests: 0, num_pending: 0, num_success: 0, num_error: 0, num_cancelled: 0 },
    });
    expect(Date.parse(batch.expire_time) - Date.parse(batch.create_time)).toBe(24 * 3600_000);
    expect(batch.create_api_key_id).not.toContain(KEY);
    expect(answer.headers.get("x-request-id")).toBeTruthy();
    // The answer's date is the emulator's clock: what expire_time is compared with.
    expect(Date.parse(answer.headers.get("date") ?? "")).toBe(Math.floor(clock.now() / 1000) * 1000);
  });

  it("refuses a create without a name or with fields it does not know", async () => {
    expect((await call("POST", "/batches", {})).status).toBe(400);
    expect((await call("POST", "/batches", { name: "x", metadata: {} })).status).toBe(400);
    expect((await call("POST", "/batches", "not json")).status).toBe(400);
  });

  it("answers an unknown batch with the SDK's 404 shape", async () => {
    const answer = await call("GET", "/batches/batch_missing");
    expect(answer).toMatchObject({ status: 404, body: { code: "not-found", error: "Batch not found" } });
  });

  it("adds requests, refusing the whole call for one bad item, and keeps IDs unique across calls", async () => {
    const { batch_id: id } = await created();
    const path = `/batches/${id}/requests`;
    expect(await call("POST", path, { batch_requests: [item("a"), item("b")] })).toMatchObject({
      status: 200,
      body: {},
    });
    const refusals = [
      { batch_requests: [item("c"), item("a")] },
      { batch_requests: [item("c"), item("c")] },
      { batch_requests: [{ batch_request_id: "d", batch_request: { embeddings: { input: "hi" } } }] },
      { batch_requests: [{ batch_request_id: "d", batch_request: {} }] },
      { batch_requests: [item("d", "x", { model: "" })] },
      { batch_requests: [item("d", "x", { max_output_tokens: 0 })] },
      { batch_requests: [item("d", "x", { temperature: 3 })] },
      {
        batch_requests: [
          {
            batch_request_id: "d",
            batch_request: { chat_get_completion: { model: "grok-4.3", messages: [] } },
          },
        ],
      },
      {
        batch_requests: [
          {
            batch_request_id: "d",
            batch_request: { responses: { model: "grok-4.3", input: [{ role: "robot", content: "x" }] } },
          },
        ],
      },
      { batch_requests: [item("d")], extra: true },
      { requests: [item("d")] },
    ];
    for (const body of refusals) {
      const answer = await call("POST", path, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.code).toBe("Client specified an invalid argument");
    }
    // Nothing of a refused call was kept; an ID left out is generated.
    expect((await call("POST", path, { batch_requests: [item(undefined)] })).status).toBe(200);
    const listed = await call("GET", path);
    const metadata = listed.body.batch_request_metadata as { batch_request_id: string; state: string }[];
    expect(metadata.map((entry) => entry.batch_request_id).slice(0, 2)).toEqual(["a", "b"]);
    expect(metadata).toHaveLength(3);
    expect(metadata[0]).toMatchObject({
      endpoint: "xai_api.Chat/GetCompletion",
      model: "grok-4.3",
      state: "pending",
    });
    expect((await call("GET", `/batches/${id}`)).body.state).toMatchObject({
      num_requests: 3,
      num_pending: 3,
    });
  });

  it("refuses an add call over 25 MB", async () => {
    const { batch_id: id } = await created();
    const big = { batch_requests: [item("big", "x".repeat(25_000_000))] };
    const answer = await call("POST", `/batches/${id}/requests`, big);
    expect(answer.status).toBe(413);
  });

  it("cancels through :cancel after the encoded ID, and takes no more requests afterwards", async () => {
    const { batch_id: id } = await created();
    await call("POST", `/batches/${id}/requests`, { batch_requests: [item("a"), item("b")] });
    expect((await call("GET", `/batches/${id}:cancel`)).status).toBe(404);
    expect((await call("POST", `/batches/${id}`)).status).toBe(404);
    const cancelled = await call("POST", `/batches/${encodeURIComponent(id)}:cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.cancel_time).toBe(new Date(clock.now()).toISOString());
    clock.advance(60_000);
    expect((await call("GET", `/batches/${id}`)).body.state).toMatchObject({
      num_pending: 0,
      num_cancelled: 2,
    });
    expect((await call("POST", `/batches/${id}/requests`, { batch_requests: [item("c")] })).status).toBe(400);
  });

  it("lists batches newest first, paged by pagination_token, refusing a bad limit or token", async () => {
    const names = ["p1", "p2", "p3"];
    for (const name of names) await created(name);
    const seen: string[] = [];
    let token: string | null = null;
    do {
      const query: string = token ? `?limit=2&pagination_token=${token}` : "?limit=2";
      const page = await call("GET", `/batches${query}`);
      expect(page.body.batches.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.batches.map((batch: { name: string }) => batch.name));
      token = page.body.pagination_token;
    } while (token);
    expect(seen.slice(0, 3)).toEqual(["p3", "p2", "p1"]);
    expect(seen.length).toBe(emulator.batchCount("xai"));
    expect((await call("GET", "/batches?limit=0")).status).toBe(400);
    expect((await call("GET", "/batches?limit=1001")).status).toBe(400);
    expect((await call("GET", "/batches?pagination_token=nonsense")).status).toBe(400);
  });

  it("lists the results of finished requests, out of request order, each once over the pages", async () => {
    const { batch_id: id } = await created();
    emulator.setFate("r-fail", "fail");
    emulator.setFate("r-error", "error");
    const ids = ["r-0", "r-fail", "r-1", "r-error", "r-2"];
    await call("POST", `/batches/${id}/requests`, { batch_requests: ids.map((each) => item(each)) });
    const early = await call("GET", `/batches/${id}/results`);
    expect(early.body).toEqual({ results: [], pagination_token: null });
    clock.advance(60_000);
    const results: { batch_request_id: string; batch_result: Record<string, unknown> }[] = [];
    let token: string | null = null;
    do {
      const query: string = token ? `?limit=2&pagination_token=${token}` : "?limit=2";
      const page = await call("GET", `/batches/${id}/results${query}`);
      results.push(...page.body.results);
      token = page.body.pagination_token;
    } while (token);
    const order = results.map((result) => result.batch_request_id);
    expect([...order].sort()).toEqual([...ids].sort());
    expect(order).not.toEqual(ids);
    const byId = new Map(results.map((result) => [result.batch_request_id, result.batch_result]));
    expect(byId.get("r-fail")).toEqual({
      error: "Emulated request failure (asked for with [emulator:fail]).",
    });
    expect(byId.get("r-error")).toEqual({ error: { code: 13, message: "Emulated internal error." } });
    const completion = (byId.get("r-0") as { response: { chat_get_completion: Record<string, unknown> } })
      .response.chat_get_completion;
    expect(completion).toMatchObject({
      object: "chat.completion",
      model: "grok-4.3",
      service_tier: "default",
    });
    const usage = completion.usage as {
      prompt_tokens: number;
      completion_tokens: number;
      total_tokens: number;
      completion_tokens_details: { reasoning_tokens: number };
    };
    expect(usage.total_tokens).toBe(
      usage.prompt_tokens + usage.completion_tokens + usage.completion_tokens_details.reasoning_tokens,
    );
    const state = (await call("GET", `/batches/${id}`)).body;
    expect(state.state).toEqual({
      num_requests: 5,
      num_pending: 0,
      num_success: 3,
      num_error: 2,
      num_cancelled: 0,
    });
    expect(state.cost_breakdown.total_cost_usd_ticks).toBeGreaterThan(0);
  });
});
