import { Option } from "commander";
import { PROVIDER_NAMES } from "../../providers/registry.js";
import type { ProviderName } from "../../types.js";
import type { CommandDefinition } from "../define.js";
import { EXIT } from "../exit-codes.js";

export const demoCommand: CommandDefinition = {
  name: "demo",
  summary: "Run the quick start against the built-in emulator (no keys, no network)",
  description:
    "Starts the emulator on 127.0.0.1, submits three example requests, prints the status while it waits and then " +
    "the results, and leaves the workspace (default ./relay-demo-workspace, or -d DIR) to look at.",
  options: [
    new Option("-p, --provider <name>", "the provider to emulate").choices(PROVIDER_NAMES).default("openai"),
  ],
  examples: ["relay demo", "relay demo --provider anthropic -d /tmp/demo"],
  async run(context, _args, options) {
    const { runDemo } = await import("../demo.js");
    await runDemo({
      provider: options.provider as ProviderName,
      directory: context.globals.directory ?? "relay-demo-workspace",
      log: (line) => {
        void context.terminal.line(line);
      },
    });
    return EXIT.ok;
  },
};
