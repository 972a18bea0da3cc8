/** One finished operation as reported by the HTTP client or the git runner; the engine adds test, client, iteration. */
export interface OpRecord {
  op: string;
  start: number;
  duration: number;
  ok: boolean;
  status: number;
  bytes: number;
  ttfb?: number;
  error?: string;
}

/** Where the HTTP client and git runner report their operations. */
export type OpSink = (record: OpRecord) => void;

/** Epoch milliseconds with sub-millisecond precision (monotonic within the process). */
export function now(): number {
  return performance.timeOrigin + performance.now();
}
