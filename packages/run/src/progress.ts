import { GENERATOR_BOUND_LIMITS, stageKey, type TickMessage } from '@e3/model';
import * as hdr from 'hdr-histogram-js';

/** What one thread is doing, for the live display. */
export interface ThreadProgress {
  thread: number;
  name: string;
  stage: number;
  stages: number;
  /** clients or rate of the stage */
  load: string;
  phase: 'reset' | 'starting' | 'load' | 'stopping' | 'done' | 'failed';
  elapsedMs: number;
  durationMs: number;
  /** Load time of the thread's stages after this one (ms): what is left of the thread is at least this plus this stage's rest. */
  laterLoadMs?: number;
  /** Transactions (whole script passes) per second over the last 5 s (TPS_WINDOW_SECONDS), all workers. */
  tps: number;
  /** Failed share of all samples over the last second. */
  errorRate: number;
  /** p95 of every request in the last second over all workers, from their merged histograms (ms). */
  p95: number;
  /** Open model: share of the arrivals so far that were dropped, all workers. */
  dropRate?: number;
  workersLost: number;
  /** Set when a worker's agent was over GENERATOR_BOUND_LIMITS in the last second: the highest figures. */
  generatorBound?: string;
}

/** Histograms of tick ops: microseconds from 1 µs to 1 h, 3 significant digits (as the agent records them). */
const newHistogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });

/**
 * Combines the ticks of one second from several workers: transactions per second, the failed share of
 * samples, and the p95 of all requests from the workers' histograms merged (a tick op without a histogram,
 * from an older agent, contributes its own p95 as a lower bound).
 */
export function combineTicks(ticks: TickMessage[]): { tps: number; errorRate: number; p95: number; generatorBound?: string } {
  let tx = 0;
  let count = 0;
  let errors = 0;
  let floor = 0;
  const merged = newHistogram();
  for (const t of ticks) {
    for (const op of t.ops) {
      count += op.count;
      errors += op.errors;
      if (op.kind === 'transaction') tx += op.count;
      else if (op.count > 0 && op.histogram) merged.add(hdr.decodeFromCompressedBase64(op.histogram));
      else if (op.count > 0) floor = Math.max(floor, op.p95);
    }
  }
  const p95 = merged.totalCount ? Math.round(merged.getValueAtPercentile(95)) / 1000 : 0;
  const bound = generatorBoundNow(ticks);
  return { tps: tx, errorRate: count ? errors / count : 0, p95: Math.max(p95, floor), ...(bound ? { generatorBound: bound } : {}) };
}

/** Seconds the progress line's TPS averages over. */
export const TPS_WINDOW_SECONDS = 5;

/**
 * Transactions per second over the last {@link TPS_WINDOW_SECONDS} seconds of the stage, from every worker's
 * ticks: each (worker, second) counted once, and only seconds every live worker has reported, so a worker
 * whose tick is late does not pull the figure down.
 */
export function createTpsWindow(seconds = TPS_WINDOW_SECONDS) {
  const tx = new Map<number, number>();
  const latest = new Map<number, number>();
  return {
    add(worker: number, tick: Pick<TickMessage, 'second' | 'ops'>): void {
      if ((latest.get(worker) ?? -1) >= tick.second) return;
      latest.set(worker, tick.second);
      const n = tick.ops.reduce((a, op) => a + (op.kind === 'transaction' ? op.count : 0), 0);
      tx.set(tick.second, (tx.get(tick.second) ?? 0) + n);
    },
    /** TPS over the window ending at the last second every worker in `live` has reported; 0 before that. */
    tps(live: readonly number[]): number {
      if (!live.length || live.some((w) => !latest.has(w))) return 0;
      const last = Math.min(...live.map((w) => latest.get(w)!));
      const first = Math.max(0, last - seconds + 1);
      let sum = 0;
      for (let sec = first; sec <= last; sec++) sum += tx.get(sec) ?? 0;
      return sum / (last - first + 1);
    },
  };
}

export type TpsWindow = ReturnType<typeof createTpsWindow>;

/** `agent CPU 97 %, loop delay 412 ms` when a worker's last second passed GENERATOR_BOUND_LIMITS, else undefined. */
function generatorBoundNow(ticks: TickMessage[]): string | undefined {
  const over = ticks.flatMap((t) => (t.health && (t.health.processCpuPercent > GENERATOR_BOUND_LIMITS.cpuPercent || t.health.eventLoopDelayMs > GENERATOR_BOUND_LIMITS.eventLoopDelayMs) ? [t.health] : []));
  if (!over.length) return undefined;
  return `agent CPU ${Math.round(Math.max(...over.map((h) => h.processCpuPercent)))} %, loop delay ${Math.round(Math.max(...over.map((h) => h.eventLoopDelayMs)))} ms`;
}

const secs = (ms: number) => `${Math.round(ms / 1000)}s`;

/** Local wall-clock time `HH:MM:SS`. */
export const clockTime = (epochMs: number): string => new Date(epochMs).toTimeString().slice(0, 8);

/**
 * One line per thread: `thread-001 low-tickets  stage 2/3  8 clients  load 12s/30s  TPS 45.2  err 0.0%  p95 120 ms  ends ≥ 14:32:05`,
 * and for the open model `  drop 12.0%` after the p95. `ends ≥` is the earliest the thread's load can end
 * (`now` + this stage's rest + the later stages' load; resets and start-ups come on top).
 */
export function formatProgress(p: ThreadProgress, now = Date.now()): string {
  const head = `thread-${String(p.thread + 1).padStart(3, '0')} ${p.name.slice(0, 24).padEnd(24)} stage ${stageKey(p.stage)} (${p.stage + 1}/${p.stages}) ${p.load.padEnd(12)}`;
  if (p.phase !== 'load' && p.phase !== 'stopping') return `${head} ${p.phase}`;
  const lost = (p.workersLost ? `  ${p.workersLost} worker(s) lost` : '') + (p.generatorBound ? `  WARNING generator-bound (${p.generatorBound})` : '');
  const drop = p.dropRate !== undefined ? `  drop ${(p.dropRate * 100).toFixed(1)}%` : '';
  const ends = p.laterLoadMs !== undefined ? `  ends ≥ ${clockTime(now + Math.max(0, p.durationMs - p.elapsedMs) + p.laterLoadMs)}` : '';
  return `${head} ${p.phase === 'stopping' ? 'stopping' : 'load'} ${secs(p.elapsedMs)}/${secs(p.durationMs)}  TPS ${p.tps.toFixed(1)}  err ${(p.errorRate * 100).toFixed(1)}%  p95 ${Math.round(p.p95)} ms${drop}${ends}${lost}`;
}

/**
 * Renders thread progress to a stream: redrawn in place on a TTY, otherwise, for logs, a line per thread
 * at most every `everyMs` (at once for a forced update), stamped `[14:20:05] `, and only when it differs
 * from that thread's last line. Returns update/note functions.
 */
export function createProgressView(options: { write(text: string): void; tty: boolean; everyMs?: number }) {
  const lines = new Map<number, ThreadProgress>();
  let drawn = 0;
  let lastPlain = 0;
  /** Per thread, the last plain line written: a line that says nothing new is not written again. */
  const written = new Map<number, string>();
  const draw = (force = false) => {
    const sorted = [...lines.values()].sort((a, b) => a.thread - b.thread);
    if (options.tty) {
      const rows = sorted.map((p) => formatProgress(p));
      const up = drawn ? `\x1b[${drawn}A` : '';
      options.write(up + rows.map((r) => `\x1b[2K${r}\n`).join(''));
      drawn = rows.length;
    } else if (force || Date.now() - lastPlain >= (options.everyMs ?? 5000)) {
      lastPlain = Date.now();
      const stamp = `[${clockTime(lastPlain)}] `;
      const fresh = sorted.map((p) => [p.thread, formatProgress(p, lastPlain)] as const).filter(([t, r]) => written.get(t) !== r);
      for (const [t, r] of fresh) written.set(t, r);
      if (fresh.length) options.write(fresh.map(([, r]) => `${stamp}${r}\n`).join(''));
    }
  };
  return {
    update(p: ThreadProgress, force = false) {
      lines.set(p.thread, p);
      draw(force);
    },
    /** Prints a note above the live lines. */
    note(text: string) {
      if (options.tty && drawn) {
        options.write(`\x1b[${drawn}A\x1b[0J`);
        drawn = 0;
      }
      options.write(text.endsWith('\n') ? text : `${text}\n`);
      if (options.tty) draw();
    },
  };
}
