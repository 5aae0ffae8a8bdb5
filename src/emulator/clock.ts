/** Time as the emulator sees it: the real clock, or a manual one that tests move forward. */
export interface EmulatorClock {
  now(): number;
}

export class ManualClock implements EmulatorClock {
  private current: number;

  constructor(start = Date.parse("2026-01-01T00:00:00Z")) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }
}

export const realClock: EmulatorClock = { now: () => Date.now() };
