import { describe, expect, it } from "vitest";
import { loadSpec, OpenApiSpecValidator, sharedDir } from "./support/openapi.js";

const openai = await loadSpec("openai-openapi.yaml");
const together = await loadSpec("together-openapi.yaml");
const mistral = await loadSpec("mistral-openapi.yaml");

/** The suite title, saying why it is skipped when the spec cannot be found. */
function title(name: string, spec: OpenApiSpecValidator | null): string {
  if (spec) return name;
  const why = sharedDir()
    ? "the spec file is missing from ../shared/specs"
    : "no ../shared directory beside the repo";
  return `${name} (skipped: ${why})`;
}

describe("OpenApiSpecValidator on inline schemas", () => {
  const spec = new OpenApiSpecValidator("inline", {
    Status: { type: "string", enum: ["a", "b"] },
    Thing: {
      type: "object",
      required: ["name", "status", "ratio"],
      properties: {
        name: { type: "string", nullable: true },
        status: { $ref: "#/components/schemas/Status", nullable: true },
        kind: { type: "string", enum: ["x"], nullable: true },
        ratio: { type: "number", minimum: 0, exclusiveMinimum: true },
        at: { type: "integer", format: "unixtime" },
        // A property called `nullable` is data, not the OpenAPI keyword.
        nullable: { type: "boolean" },
      },
    },
    Filter: {
      $recursiveAnchor: true,
      type: "object",
      properties: {
        filters: { type: "array", items: { anyOf: [{ type: "string" }, { $recursiveRef: "#" }] } },
      },
    },
  });

  it("treats nullable: true as also allowing null, on plain types, enums and refs", () => {
    expect(spec.validate("Thing", { name: null, status: null, kind: null, ratio: 1 })).toEqual([]);
    expect(
      spec.validate("Thing", { name: "n", status: "a", kind: "x", ratio: 1, at: 5, nullable: true }),
    ).toEqual([]);
    expect(spec.validate("Thing", { name: 3, status: "c", kind: "y", ratio: 1 })).toEqual(
      expect.arrayContaining([
        "/name must be string,null",
        '/status must be equal to one of the allowed values ["a","b"]',
        '/kind must be equal to one of the allowed values ["x",null]',
      ]),
    );
  });

  it("reads OpenAPI 3.0 boolean exclusiveMinimum and $recursiveRef", () => {
    expect(spec.validate("Thing", { name: null, status: null, ratio: 0 })).toEqual(["/ratio must be > 0"]);
    expect(spec.validate("Filter", { filters: ["a", { filters: ["b"] }] })).toEqual([]);
    expect(spec.validate("Filter", { filters: [{ filters: [7] }] })).not.toEqual([]);
  });

  it("reports missing required properties and throws on unknown schema names", () => {
    expect(spec.validate("Thing", {})).toContain("(root) must have required property 'ratio'");
    expect(spec.hasSchema("Thing")).toBe(true);
    expect(spec.hasSchema("Nope")).toBe(false);
    expect(() => spec.validate("Nope", {})).toThrow(/no schema named "Nope"/);
  });
});

describe.skipIf(!openai)(title("openai-openapi.yaml", openai), () => {
  const batch = {
    id: "batch_abc123",
    object: "batch",
    endpoint: "/v1/chat/completions",
    model: "gpt-4o-mini",
    input_file_id: "file-abc123",
    completion_window: "24h",
    status: "completed",
    output_file_id: "file-out123",
    error_file_id: "file-err123",
    created_at: 1711471533,
    in_progress_at: 1711471538,
    expires_at: 1711557933,
    finalizing_at: 1711493133,
    completed_at: 1711493163,
    request_counts: { total: 100, completed: 95, failed: 5 },
    metadata: { customer_id: "user_123" },
  };
  const file = {
    id: "file-abc123",
    object: "file",
    bytes: 120000,
    created_at: 1677610602,
    filename: "batch.jsonl",
    purpose: "batch",
    status: "processed",
  };
  const without = <T extends object>(value: T, key: keyof T) =>
    Object.fromEntries(Object.entries(value).filter(([k]) => k !== key));

  it("accepts a valid Batch and rejects a bogus status or a missing required field", () => {
    expect(openai!.validate("Batch", batch)).toEqual([]);
    expect(openai!.validate("Batch", { ...batch, status: "bogus" })).toEqual([
      expect.stringMatching(/^\/status must be equal to one of the allowed values \["validating",/),
    ]);
    expect(openai!.validate("Batch", without(batch, "input_file_id"))).toEqual([
      "(root) must have required property 'input_file_id'",
    ]);
  });

  it("follows refs: ListBatchesResponse checks each Batch", () => {
    const list = { object: "list", data: [batch], first_id: batch.id, last_id: batch.id, has_more: false };
    expect(openai!.validate("ListBatchesResponse", list)).toEqual([]);
    expect(
      openai!.validate("ListBatchesResponse", { ...list, data: [{ ...batch, status: "bogus" }] }),
    ).toEqual([expect.stringMatching(/^\/data\/0\/status must be equal to one of the allowed values/)]);
  });

  // Quirk: the real API sends null for unset timestamps and file ids, but the spec types them as non-null.
  it("documents that the spec rejects null timestamps in Batch", () => {
    expect(openai!.validate("Batch", { ...batch, failed_at: null })).toEqual(["/failed_at must be integer"]);
  });

  it("accepts a valid OpenAIFile and rejects a bogus purpose or a missing (deprecated) status", () => {
    expect(openai!.validate("OpenAIFile", file)).toEqual([]);
    expect(openai!.validate("OpenAIFile", { ...file, purpose: "bogus" })).toEqual([
      expect.stringMatching(/^\/purpose must be equal to one of the allowed values/),
    ]);
    expect(openai!.validate("OpenAIFile", without(file, "status"))).toEqual([
      "(root) must have required property 'status'",
    ]);
  });

  it("checks ErrorResponse, whose param and code are required but nullable", () => {
    const error = { message: "No batch found", type: "invalid_request_error", param: null, code: null };
    expect(openai!.validate("ErrorResponse", { error })).toEqual([]);
    expect(openai!.validate("ErrorResponse", { error: without(error, "code") })).toEqual([
      "/error must have required property 'code'",
    ]);
  });
});

describe.skipIf(!together)(title("together-openapi.yaml", together), () => {
  const job = {
    id: "01234567-8901-2345-6789-012345678901",
    user_id: "user_789xyz012",
    input_file_id: "file-input123",
    file_size_bytes: 1048576,
    status: "COMPLETED",
    job_deadline: "2024-01-16T14:30:00Z",
    created_at: "2024-01-15T14:30:00Z",
    endpoint: "/v1/chat/completions",
    progress: 100,
    model_id: "Qwen/Qwen3.5-9B",
    output_file_id: "file-output789",
    error_file_id: "file-errors456",
    completed_at: "2024-01-15T15:45:30Z",
  };
  const file = {
    id: "file-abc123",
    object: "file",
    created_at: 1715021438,
    filename: "batch.jsonl",
    bytes: 2048,
    purpose: "batch-api",
    FileType: "jsonl",
    Processed: true,
  };

  it("accepts a valid BatchJob and rejects a bogus or lower-case status and non-RFC 3339 times", () => {
    expect(together!.validate("BatchJob", job)).toEqual([]);
    expect(together!.validate("BatchJobWithWarning", { job, warning: "slow" })).toEqual([]);
    for (const status of ["bogus", "completed"]) {
      expect(together!.validate("BatchJob", { ...job, status })).toEqual([
        '/status must be equal to one of the allowed values ["VALIDATING","IN_PROGRESS","COMPLETED","FAILED","EXPIRED","CANCELLED"]',
      ]);
    }
    // Together sends ISO date-time strings where OpenAI sends Unix seconds.
    expect(together!.validate("BatchJob", { ...job, created_at: 1705329000 })).toEqual([
      "/created_at must be string",
    ]);
    expect(together!.validate("BatchJob", { ...job, created_at: "yesterday" })).toEqual([
      '/created_at must match format "date-time"',
    ]);
  });

  // Quirk: BatchJob declares no required properties at all, so an empty object passes.
  it("documents that BatchJob requires nothing", () => {
    expect(together!.validate("BatchJob", {})).toEqual([]);
  });

  it("accepts a valid FileResponse and rejects OpenAI's purpose or a missing Processed flag", () => {
    expect(together!.validate("FileResponse", file)).toEqual([]);
    expect(together!.validate("FileList", { data: [file] })).toEqual([]);
    expect(together!.validate("FileResponse", { ...file, purpose: "batch" })).toEqual([
      expect.stringMatching(/^\/purpose must be equal to one of the allowed values/),
    ]);
    const { Processed: _, ...unprocessed } = file;
    expect(together!.validate("FileResponse", unprocessed)).toEqual([
      "(root) must have required property 'Processed'",
    ]);
  });

  it("checks the error bodies, including a nullable param", () => {
    expect(together!.validate("BatchErrorResponse", { error: "not found" })).toEqual([]);
    expect(together!.validate("BatchErrorResponse", { error: { message: "x" } })).toEqual([
      "/error must be string",
    ]);
    const data = { error: { message: "bad file", type: "invalid_request_error", param: null, code: null } };
    expect(together!.validate("ErrorData", data)).toEqual([]);
    expect(together!.validate("ErrorData", { error: { message: "bad file" } })).toEqual([
      "/error must have required property 'type'",
    ]);
  });
});

describe.skipIf(!mistral)(title("mistral-openapi.yaml", mistral), () => {
  const job = {
    id: "7c5b1f0e-1111-4222-8333-444455556666",
    object: "batch",
    input_files: ["0b5c6f4e-aaaa-4bbb-8ccc-ddddeeeeffff"],
    metadata: { job_type: "testing" },
    endpoint: "/v1/chat/completions",
    model: "mistral-small-latest",
    agent_id: null,
    output_file: "11111111-2222-4333-8444-555566667777",
    error_file: null,
    errors: [],
    outputs: null,
    status: "SUCCESS",
    created_at: 1761577900,
    total_requests: 3,
    completed_requests: 3,
    succeeded_requests: 3,
    failed_requests: 0,
    started_at: 1761577910,
    completed_at: 1761577990,
  };
  const file = {
    id: "e85980c9-409e-4a46-9304-36588f6292b0",
    object: "file",
    bytes: 1024,
    created_at: 1759500189,
    filename: "batch.jsonl",
    purpose: "batch",
    sample_type: "batch_request",
    source: "upload",
    num_lines: 2,
    mimetype: "application/jsonl",
    signature: "d4821d2de1917341",
  };

  it("accepts a valid BatchJobOut and rejects a bogus status or a missing count", () => {
    expect(mistral!.validate("BatchJobOut", job)).toEqual([]);
    expect(mistral!.validate("BatchJobsOut", { data: [job], object: "list", total: 1 })).toEqual([]);
    expect(mistral!.validate("BatchJobOut", { ...job, status: "COMPLETED" })).toEqual([
      expect.stringMatching(
        /^\/status must be equal to one of the allowed values \["QUEUED","RUNNING","SUCCESS",/,
      ),
    ]);
    const { succeeded_requests: _, ...uncounted } = job;
    expect(mistral!.validate("BatchJobOut", uncounted)).toEqual([
      "(root) must have required property 'succeeded_requests'",
    ]);
    expect(mistral!.validate("BatchJobsOut", { data: [job], object: "list" })).toEqual([
      "(root) must have required property 'total'",
    ]);
  });

  // Quirk: the spec's own examples show `"bytes": null`, which its schema (and the SDK's zod schema) refuse.
  it("documents that an upload answer with bytes: null, as in the spec's examples, is invalid", () => {
    expect(mistral!.validate("UploadFileOut", file)).toEqual([]);
    expect(mistral!.validate("UploadFileOut", { ...file, bytes: null })).toEqual(["/bytes must be integer"]);
    expect(mistral!.validate("RetrieveFileOut", file)).toEqual([
      "(root) must have required property 'deleted'",
    ]);
  });

  it("checks BatchJobIn: metadata keys of at most 32 characters, at most 10,000 inline requests", () => {
    const body = { endpoint: "/v1/chat/completions", model: "m", requests: [{ custom_id: "0", body: {} }] };
    expect(mistral!.validate("BatchJobIn", body)).toEqual([]);
    expect(mistral!.validate("BatchJobIn", { ...body, metadata: { ["k".repeat(33)]: "v" } })).not.toEqual([]);
    const many = Array.from({ length: 10_001 }, () => ({ body: {} }));
    expect(mistral!.validate("BatchJobIn", { ...body, requests: many })).not.toEqual([]);
    expect(mistral!.validate("BatchJobIn", { ...body, endpoint: "/v1/responses" })).not.toEqual([]);
  });
});
