/** Time as the emulator sees it: the real clock, or a manual one that tests move forward. */
export interface EmulatorClock {
  now(): number;
}

/** A clock that stands still until advanced. It starts at the real time, as a provider's clock would read. */
export class ManualClock implements EmulatorClock {
  private current: number;

  constructor(start = Date.now()) {
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
