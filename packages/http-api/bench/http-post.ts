/**
 * The benchmarks' HTTP client: a POST through node:http on kept-alive connections, resolved once the whole answer is
 * read. fetch (undici's web streams) spent more CPU per request than some routes it measured, on the same two cores
 * as the API (docs/features.md, "Why the hit was not within 5 ms"); a lean client keeps the figures the server's.
 */
import { Agent, type IncomingHttpHeaders, request } from 'node:http';

export interface PostAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One agent per client: `connections` sockets at most, each kept alive between requests. */
export function keepAliveAgent(connections: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: connections });
}

export function httpPost(
  agent: Agent,
  url: string,
  headers: Record<string, string>,
  body: Uint8Array,
): Promise<PostAnswer> {
  return new Promise((resolve, reject) => {
    const sent = request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.byteLength) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.once('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
        );
        response.once('error', reject);
      },
    );
    sent.once('error', reject);
    sent.end(body);
  });
}
