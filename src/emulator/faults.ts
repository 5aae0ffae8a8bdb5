/**
 * Faults the emulator injects on demand, matched by method and path (a substring or a RegExp of the path):
 * an HTTP status (429 with retry-after, 500, 503, 529…), a reset connection, a slow answer, or a body cut after
 * some bytes. Each fault applies to the next `times` matching requests.
 */
export type FaultAction =
  | { kind: "status"; status: number; retryAfterSeconds?: number; body?: unknown }
  | { kind: "reset" }
  | { kind: "delay"; ms: number }
  | { kind: "cut"; afterBytes: number }
  /** Let the request through (it takes effect), then drop the connection before the answer is sent. */
  | { kind: "drop_response" }
  /**
   * Hold the request for `ms`: "before" it is carried out (if the caller is gone by then, it never is), or "after"
   * it was carried out and before the answer is sent. The emulator emits "held" meanwhile; crash tests kill the
   * caller then.
   */
  | { kind: "hold"; ms: number; phase: "before" | "after" };

export interface Fault {
  method?: string;
  path: string | RegExp;
  action: FaultAction;
  times?: number;
}

interface ActiveFault extends Fault {
  remaining: number;
}

export class FaultInjector {
  private faults: ActiveFault[] = [];

  add(fault: Fault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  clear(): void {
    this.faults = [];
  }

  /** The fault to apply to this request, if any; consumes one use of it. */
  take(method: string, path: string): FaultAction | null {
    for (const fault of this.faults) {
      if (fault.remaining <= 0) continue;
      if (fault.method && fault.method !== method) continue;
      const matches = typeof fault.path === "string" ? path.includes(fault.path) : fault.path.test(path);
      if (!matches) continue;
      fault.remaining -= 1;
      return fault.action;
    }
    return null;
  }
}
