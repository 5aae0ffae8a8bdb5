import type { OpenAICompatibleEmulation } from "../../src/emulator/openai-compatible/emulation.js";

/** The JSON records of a file an OpenAI-style emulation holds (an uploaded input or a result file). */
export function fileRecords(emulation: OpenAICompatibleEmulation, fileId: string | null | undefined) {
  const file = emulation.files.get(fileId ?? "");
  if (!file) throw new Error(`the emulation holds no file ${fileId}`);
  return [...emulation.files.contentLines(file)].map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The only batch an emulation holds, or the one created `index`-th. */
export function batchAt(emulation: OpenAICompatibleEmulation, index = 0) {
  const batch = [...emulation.batches.values()][index];
  if (!batch) throw new Error(`the emulation holds no batch ${index}`);
  return batch;
}

/** One chat-completions line of a batch input file, as an SDK user writes it. */
export function chatLine(customId: string, prompt: string, model: string, url = "/v1/chat/completions") {
  return {
    custom_id: customId,
    method: "POST",
    url,
    body: { model, messages: [{ role: "user", content: prompt }] },
  };
}
