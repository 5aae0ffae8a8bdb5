export { Emulator, type EmulatorOptions, type RequestLogEntry } from "./server.js";
export { ManualClock, realClock, type EmulatorClock } from "./clock.js";
export { DEFAULT_TIMING, type BatchTiming } from "./engine.js";
export type { RequestFate } from "./fates.js";
export type { Fault, FaultAction } from "./faults.js";
