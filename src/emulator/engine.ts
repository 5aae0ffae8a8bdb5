import type { FakeCompletion } from "./completion.js";
import { fakeCompletion } from "./completion.js";
import type { RequestFate } from "./fates.js";
import type { ReplyPlan } from "./reply.js";

/** How long each stage of an emulated batch lasts, in milliseconds of the emulator's clock. */
export interface BatchTiming {
  validatingMs: number;
  inProgressMs: number;
  finalizingMs: number;
  cancellingMs: number;
  /** A batch still running this long after creation expires (24 h at the real providers). */
  expiresAfterMs: number;
}

export const DEFAULT_TIMING: BatchTiming = {
  validatingMs: 500,
  inProgressMs: 2_000,
  finalizingMs: 500,
  cancellingMs: 500,
  expiresAfterMs: 24 * 60 * 60_000,
};

export type Phase =
  | "validating"
  | "failed"
  | "in_progress"
  | "finalizing"
  | "completed"
  | "expired"
  | "cancelling"
  | "cancelled";

export const TERMINAL_PHASES: ReadonlySet<Phase> = new Set(["failed", "completed", "expired", "cancelled"]);

export interface SimRequest {
  customId: string;
  model: string;
  /** The text the fake completion answers (the last user turn). */
  promptText: string;
  maxTokens?: number;
  fate: RequestFate;
  /**
   * Why the provider refuses this request's parameters once the batch runs (an unknown or out-of-range parameter):
   * the request then fails with this error, as the provider reports a bad request inside a batch.
   */
  rejection?: RequestRejection;
  /** Request fields the provider echoes in its answer (e.g. the Responses API's `instructions`, `tools`). */
  echo?: Record<string, unknown>;
  /** What the request asks beyond text (structured output, tools, images, embeddings), as its emulation read it. */
  reply?: ReplyPlan;
}

/**
 * A batch's requests by index: an array, or a table that reads each request from its file when asked for (so that
 * a million-request batch holds no object per request).
 */
export interface RequestList {
  readonly length: number;
  at(index: number): SimRequest | undefined;
}

/** Every request of a list, in order. */
export function* eachRequest(list: RequestList): Generator<SimRequest> {
  for (let index = 0; index < list.length; index += 1) yield list.at(index) as SimRequest;
}

export interface RequestRejection {
  message: string;
  /** The provider's error code, or null where it sends none. */
  code: string | null;
  /** The parameter refused, or null. */
  param: string | null;
}

export type RequestOutcome =
  | { kind: "succeeded"; completion: FakeCompletion }
  | { kind: "failed"; rejection?: RequestRejection }
  | { kind: "errored" }
  | { kind: "expired" }
  | { kind: "cancelled" }
  | { kind: "processing" };

/** How a batch's deadline works, where a provider differs from the shared timing. */
export interface BatchDeadline {
  /** The batch's own window (e.g. Groq's completion_window); else timing.expiresAfterMs. */
  expiresAfterMs?: number;
  /**
   * Whether a batch whose requests would finish after the deadline expires (true, OpenAI) or keeps running until
   * done (false, Azure: "we don't expire the jobs that take longer"). Requests fated to expire expire either way.
   */
  slowBatchesExpire?: boolean;
}

export interface BatchCounts {
  total: number;
  succeeded: number;
  failed: number;
  processing: number;
  expired: number;
  cancelled: number;
}

/**
 * A batch whose life is a pure function of the clock: validating, then requests finishing one by one through
 * in_progress, then finalizing and completed; or failed at validation, expired, or cancelled midway.
 */
export class SimulatedBatch {
  readonly validatedAt: number;
  private readonly finishTimes: Float64Array;
  private readonly lastDoneAt: number;
  private readonly neverEnds: boolean;
  cancelRequestedAt: number | null = null;

  constructor(
    readonly id: string,
    readonly requests: RequestList,
    readonly createdAt: number,
    readonly timing: BatchTiming,
    /** Set when the batch fails validation as a whole. */
    readonly validationError: { code: string; message: string; line?: number; param?: string } | null = null,
    private readonly deadline: BatchDeadline = {},
  ) {
    this.validatedAt = createdAt + timing.validatingMs;
    const n = requests.length;
    this.finishTimes = new Float64Array(n);
    let lastDone = this.validatedAt;
    let neverEnds = false;
    for (let index = 0; index < n; index += 1) {
      if (requests.at(index)?.fate === "expire") {
        this.finishTimes[index] = Number.POSITIVE_INFINITY;
        neverEnds = true;
        continue;
      }
      const at = this.validatedAt + (timing.inProgressMs * (index + 1)) / n;
      this.finishTimes[index] = at;
      lastDone = Math.max(lastDone, at);
    }
    this.lastDoneAt = lastDone;
    this.neverEnds = neverEnds;
  }

  get expiresAt(): number {
    return this.createdAt + (this.deadline.expiresAfterMs ?? this.timing.expiresAfterMs);
  }

  /** The phase the batch would be in without a cancel, and when it entered it. */
  private naturalPhase(now: number): { phase: Phase; since: number } {
    if (now < this.validatedAt) return { phase: "validating", since: this.createdAt };
    if (this.validationError) return { phase: "failed", since: this.validatedAt };
    const tooSlow = this.deadline.slowBatchesExpire !== false && this.lastDoneAt >= this.expiresAt;
    if (this.neverEnds || tooSlow) {
      return now < this.expiresAt
        ? { phase: "in_progress", since: this.validatedAt }
        : { phase: "expired", since: this.expiresAt };
    }
    if (now < this.lastDoneAt) return { phase: "in_progress", since: this.validatedAt };
    const completedAt = this.lastDoneAt + this.timing.finalizingMs;
    if (now < completedAt) return { phase: "finalizing", since: this.lastDoneAt };
    return { phase: "completed", since: completedAt };
  }

  phase(now: number): Phase {
    return this.phaseWithTime(now).phase;
  }

  phaseWithTime(now: number): { phase: Phase; since: number } {
    const cancelAt = this.cancelRequestedAt;
    if (cancelAt !== null && now >= cancelAt) {
      const cancelledAt = cancelAt + this.timing.cancellingMs;
      return now < cancelledAt
        ? { phase: "cancelling", since: cancelAt }
        : { phase: "cancelled", since: cancelledAt };
    }
    return this.naturalPhase(now);
  }

  /** When the batch entered each phase it has passed through so far (for *_at timestamps). */
  milestones(now: number): Partial<Record<Phase, number>> {
    const reached: Partial<Record<Phase, number>> = { validating: this.createdAt };
    const current = this.phaseWithTime(now);
    const cancelAt = this.cancelRequestedAt;
    const natural = this.naturalPhase(cancelAt !== null && now >= cancelAt ? cancelAt : now);
    if (
      now >= this.validatedAt &&
      !this.validationError &&
      (cancelAt === null || cancelAt >= this.validatedAt)
    ) {
      reached.in_progress = this.validatedAt;
    }
    if (natural.phase !== "validating" && natural.phase !== "in_progress")
      reached[natural.phase] = natural.since;
    if (natural.phase === "completed") reached.finalizing = this.lastDoneAt;
    if (current.phase === "cancelling" || current.phase === "cancelled") reached.cancelling = cancelAt ?? now;
    if (current.phase === "cancelled") reached.cancelled = current.since;
    return reached;
  }

  /** Whether the batch can still be cancelled (it has not reached a terminal phase). */
  cancel(now: number): boolean {
    const phase = this.phase(now);
    if (TERMINAL_PHASES.has(phase) || phase === "cancelling") return false;
    this.cancelRequestedAt = now;
    return true;
  }

  outcome(index: number, now: number): RequestOutcome {
    const kind = this.outcomeKind(index, now, this.phase(now));
    const request = this.requests.at(index) as SimRequest;
    if (kind === "failed" && request.rejection) return { kind, rejection: request.rejection };
    if (kind !== "succeeded") return { kind };
    return { kind, completion: fakeCompletion(request.model, request.promptText, request.maxTokens) };
  }

  private outcomeKind(index: number, now: number, phase: Phase): RequestOutcome["kind"] {
    const request = this.requests.at(index);
    if (!request) throw new RangeError(`no request ${index}`);
    if (phase === "failed" || phase === "validating") return "processing";
    const cutoff = this.cancelRequestedAt !== null ? Math.min(now, this.cancelRequestedAt) : now;
    const finishedAt = this.finishTimes[index] ?? Number.POSITIVE_INFINITY;
    if (finishedAt <= cutoff) {
      if (request.fate === "fail" || request.rejection) return "failed";
      if (request.fate === "error") return "errored";
      return "succeeded";
    }
    if (phase === "expired") return "expired";
    if (phase === "cancelled") return "cancelled";
    return "processing";
  }

  counts(now: number): BatchCounts {
    const counts: BatchCounts = {
      total: this.requests.length,
      succeeded: 0,
      failed: 0,
      processing: 0,
      expired: 0,
      cancelled: 0,
    };
    const phase = this.phase(now);
    for (let index = 0; index < this.requests.length; index += 1) {
      const kind = this.outcomeKind(index, now, phase);
      if (kind === "succeeded") counts.succeeded += 1;
      else if (kind === "failed" || kind === "errored") counts.failed += 1;
      else counts[kind] += 1;
    }
    return counts;
  }

  /** Request indexes in the order result files list them: deliberately not request order, as at the providers. */
  resultOrder(): number[] {
    const n = this.requests.length;
    const order: number[] = [];
    for (let index = n - 1; index >= 0; index -= 2) order.push(index);
    for (let index = n % 2 === 0 ? 0 : 1; index < n; index += 2) order.push(index);
    return order;
  }
}
