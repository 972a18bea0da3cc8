import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request to `/work` as the server itself saw it (epoch ms, its own clock). */
export interface SlotCompletion {
  /** When the request head arrived. */
  arrived: number;
  /** When it got a slot. */
  started: number;
  /** When its response was handed to the socket. */
  ended: number;
}

export interface SlotServer {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Requests to `/work` the server completed, in completion order. */
  completions: SlotCompletion[];
  /** Requests to `/work` that arrived (completed or not). */
  arrivals(): number;
  /** Completions per second the server can give: slots × 1000 / serviceMs. */
  capacity: number;
  /** Completions whose end lies in [from, to). */
  completedBetween(from: number, to: number): SlotCompletion[];
  close(): Promise<void>;
}

/**
 * A ground-truth HTTP server for throughput and latency tests: `GET /work` waits, first come first served,
 * for one of `slots` slots, holds it `serviceMs`, answers 200 and records the request's arrival, start and
 * end with its own clock. Its capacity is known exactly (slots × 1000 / serviceMs per second), and every
 * count a test compares with comes from the server, not from e3. `GET /status` answers `{"state":"RUNNING"}`
 * and is not counted. Listens on 127.0.0.1 only.
 */
export async function startSlotServer(options: { slots: number; serviceMs: number }): Promise<SlotServer> {
  const { slots, serviceMs } = options;
  const completions: SlotCompletion[] = [];
  const queue: Array<() => void> = [];
  let free = slots;
  let arrived = 0;
  const release = (): void => {
    const next = queue.shift();
    if (next) next();
    else free++;
  };
  const acquire = (): Promise<void> => {
    if (free > 0) {
      free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => queue.push(resolve));
  };
  const work = async (res: ServerResponse): Promise<void> => {
    const t = { arrived: Date.now(), started: 0, ended: 0 };
    arrived++;
    await acquire();
    t.started = Date.now();
    const timer = setTimeout(() => {
      if (res.destroyed) return release();
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
      res.end('ok', () => {
        t.ended = Date.now();
        completions.push(t);
      });
      release();
    }, serviceMs);
    res.on('close', () => {
      if (!res.writableFinished && t.ended === 0) {
        clearTimeout(timer);
        if (!res.headersSent) release();
      }
    });
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    if (req.url?.startsWith('/work')) void work(res);
    else if (req.url?.startsWith('/status')) res.end('{"state":"RUNNING"}');
    else {
      res.statusCode = 404;
      res.end();
    }
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    completions,
    arrivals: () => arrived,
    capacity: (slots * 1000) / serviceMs,
    completedBetween: (from, to) => completions.filter((c) => c.ended >= from && c.ended < to),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
