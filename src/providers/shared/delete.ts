import type { BatchFiles } from "../types.js";
import { toProviderError } from "./errors.js";
import { HttpStatusError } from "./http.js";
import type { RestClient } from "./rest-client.js";

/**
 * Deletes resources at the provider (files, batches) one by one, each by its path; one already gone (404: deleted
 * by hand, or expired) counts as deleted, which is what cleanup wants. Returns the IDs deleted.
 */
export async function deleteResources(
  rest: RestClient,
  provider: string,
  targets: readonly { id: string | null; path: (id: string) => string }[],
): Promise<string[]> {
  const deleted: string[] = [];
  for (const { id, path } of targets) {
    if (!id) continue;
    try {
      await rest.call("DELETE", path(id), { retry: true });
    } catch (error) {
      if (!(error instanceof HttpStatusError && error.status === 404))
        throw toProviderError(provider, `deleting ${id}`, error);
    }
    deleted.push(id);
  }
  return deleted;
}

/** The path of a file under an OpenAI-style `/files` route. */
export const filePath = (id: string) => `/files/${encodeURIComponent(id)}`;

/** A batch's uploaded input file and its result files, deleted under the provider's `/files` route. */
export function deleteFilesOf(rest: RestClient, provider: string, files: BatchFiles): Promise<string[]> {
  const ids = [files.inputFileId, files.outputFileId, files.errorFileId];
  return deleteResources(
    rest,
    provider,
    ids.map((id) => ({ id, path: filePath })),
  );
}
