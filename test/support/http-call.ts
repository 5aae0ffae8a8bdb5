import { request } from "node:http";

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => ReturnType<typeof JSON.parse>;
}

/** One HTTP request over node:http, which (unlike fetch) lets a test send any Host, Origin or Sec-Fetch-* header. */
export function call(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; maxBytes?: number } = {},
): Promise<Answer> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      { method: options.method ?? "GET", headers: options.headers ?? {}, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          // An event stream never ends: take what came first.
          if (options.maxBytes !== undefined && size >= options.maxBytes) response.destroy();
        });
        const done = () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text,
            json: () => JSON.parse(text),
          });
        };
        response.on("end", done);
        response.on("close", done);
      },
    );
    outgoing.on("error", reject);
    outgoing.end(options.body);
  });
}

/** The headers the dashboard's own page sends with an action. */
export function actionHeaders(
  sessionToken: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return { "content-type": "application/json", "x-relay-token": sessionToken, ...extra };
}
