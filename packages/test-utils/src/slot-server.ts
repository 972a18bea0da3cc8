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
 * for one of `slots` slots, holds it `serviceMs` (on a schedule, see `release`), answers 200 and records the
 * request's arrival, start and end with its own clock. Its capacity is known exactly (slots × 1000 / serviceMs per second), and every
 * count a test compares with comes from the server, not from e3. `GET /status` answers `{"state":"RUNNING"}`
 * and is not counted. Listens on 127.0.0.1 only.
 */
export async function startSlotServer(options: { slots: number; serviceMs: number }): Promise<SlotServer> {
  const { slots, serviceMs } = options;
  const completions: SlotCompletion[] = [];
  // A slot's service ends on a schedule: a request that was waiting starts when the previous one was due to
  // end, not when a late timer fired, so timer lateness on a busy machine does not accumulate and a busy slot
  // completes exactly one request per serviceMs.
  const queue: Array<(dueFrom: number) => void> = [];
  let free = slots;
  let arrived = 0;
  const release = (dueEnd: number): void => {
    const next = queue.shift();
    if (next) next(dueEnd);
    else free++;
  };
  const acquire = (): Promise<number> => {
    if (free > 0) {
      free--;
      return Promise.resolve(Date.now());
    }
    return new Promise((resolve) => queue.push(resolve));
  };
  const work = async (res: ServerResponse): Promise<void> => {
    const t = { arrived: Date.now(), started: 0, ended: 0 };
    arrived++;
    const dueFrom = Math.max(t.arrived, await acquire());
    t.started = Date.now();
    const dueEnd = dueFrom + serviceMs;
    const timer = setTimeout(() => {
      if (res.destroyed) return release(dueEnd);
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
      res.end('ok', () => {
        t.ended = Date.now();
        completions.push(t);
      });
      release(dueEnd);
    }, Math.max(0, dueEnd - Date.now()));
    res.on('close', () => {
      if (!res.writableFinished && t.ended === 0) {
        clearTimeout(timer);
        if (!res.headersSent) release(Date.now());
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
