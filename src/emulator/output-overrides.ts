import { type OutputMarker, outputMarkers } from "./structured.js";

/**
 * Output markers a test sets for a custom_id, used instead of the markers in the request's body the next time a
 * batch holding that custom_id is created (once). A retry sends a request exactly as it was first sent, so this is
 * how a test makes the first answer bad and the retried one good.
 */
export class OutputOverrides {
  private readonly pending = new Map<string, Set<OutputMarker>>();

  /** The next batch that holds `customId` answers it as if its body carried these markers (none: a clean answer). */
  once(customId: string, ...markers: OutputMarker[]): void {
    this.pending.set(customId, new Set(markers));
  }

  /** The markers a request is answered with: a pending override (then forgotten), else those in its body. */
  take(customId: string, bodyText: string): Set<OutputMarker> {
    const override = this.pending.get(customId);
    if (!override) return outputMarkers(bodyText);
    this.pending.delete(customId);
    return override;
  }
}
