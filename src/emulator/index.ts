export { type EmulatorClock, ManualClock, realClock } from "./clock.js";
export { type BatchTiming, DEFAULT_TIMING } from "./engine.js";
export type { RequestFate } from "./fates.js";
export type { Fault, FaultAction } from "./faults.js";
export { Emulator, type EmulatorOptions, type RequestLogEntry } from "./server.js";
