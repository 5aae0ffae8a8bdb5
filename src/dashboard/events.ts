import type { ServerResponse } from "node:http";

/** What the page hears when something changed: the jobs that did (null: too many to list, reload everything). */
export interface ChangeEvent {
  version: number;
  costVersion: number;
  jobs: string[] | null;
}

const MAX_LISTED = 200;
const KEEPALIVE_MS = 15_000;

/** The pages listening for changes, over server-sent events. */
export class EventHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly keepalive: NodeJS.Timeout;

  constructor() {
    this.keepalive = setInterval(() => {
      for (const client of this.clients) client.write(": keepalive\n\n");
    }, KEEPALIVE_MS);
    this.keepalive.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Holds the response open as an event stream, starting with the current versions. */
  add(response: ServerResponse, current: ChangeEvent): void {
    response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
    });
    response.write(`retry: 2000\nevent: hello\ndata: ${JSON.stringify(current)}\n\n`);
    this.clients.add(response);
    response.on("close", () => this.clients.delete(response));
  }

  broadcast(version: number, costVersion: number, jobs: string[]): void {
    const event: ChangeEvent = { version, costVersion, jobs: jobs.length > MAX_LISTED ? null : jobs };
    const message = `event: change\ndata: ${JSON.stringify(event)}\n\n`;
    for (const client of this.clients) client.write(message);
  }

  close(): void {
    clearInterval(this.keepalive);
    for (const client of this.clients) client.end();
    this.clients.clear();
  }
}
