import type { CommandDefinition } from "../define.js";
import { cancelCommand } from "./cancel.js";
import { cleanCommand } from "./clean.js";
import { costCommand } from "./cost.js";
import { dashboardCommand } from "./dashboard.js";
import { demoCommand } from "./demo.js";
import { emulatorCommand } from "./emulator.js";
import { listCommand } from "./list.js";
import { recoverCommand } from "./recover.js";
import { resultsCommand } from "./results.js";
import { retryCommand } from "./retry.js";
import { showCommand } from "./show.js";
import { statusCommand } from "./status.js";
import { submitCommand } from "./submit.js";
import { watchCommand } from "./watch.js";

/** Every `relay` command, in the order `relay --help` lists them. Adding a command is one file and one line here. */
export const COMMANDS: readonly CommandDefinition[] = [
  submitCommand,
  listCommand,
  statusCommand,
  showCommand,
  watchCommand,
  resultsCommand,
  retryCommand,
  costCommand,
  cancelCommand,
  recoverCommand,
  cleanCommand,
  dashboardCommand,
  emulatorCommand,
  demoCommand,
];
