/**
 * The load model's arithmetic, shared by the controller (`@e3/run`) and the agent.
 * See docs/experiments.md#load-model.
 */

/** Splits `total` clients over `workers` exactly: every worker gets ⌊total/workers⌋, the first `total mod workers` one more. */
export function splitClients(total: number, workers: number): number[] {
  if (!Number.isInteger(total) || total < 0) throw new Error(`total must be a non-negative integer, got ${total}`);
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`workers must be a positive integer, got ${workers}`);
  const base = Math.floor(total / workers);
  const extra = total % workers;
  return Array.from({ length: workers }, (_, i) => base + (i < extra ? 1 : 0));
}

/** Client offsets for the split: worker i's clients are numbered offset[i] … offset[i] + share[i] − 1. */
export function clientOffsets(shares: readonly number[]): number[] {
  const offsets: number[] = [];
  let sum = 0;
  for (const s of shares) {
    offsets.push(sum);
    sum += s;
  }
  return offsets;
}

export type AssignmentMode = 'weighted' | 'bands';

/**
 * How many of `clients` clients run each job, by weight (`weighted`, the default): largest remainder
 * over the weights, and when clients ≥ jobs every job with a weight > 0 gets at least one client (taken
 * from the jobs with the most clients). The counts sum to `clients`.
 */
export function jobCounts(weights: readonly number[], clients: number): number[] {
  const n = weights.length;
  if (n === 0) return [];
  const sum = weights.reduce((a, b) => a + Math.max(0, b), 0);
  if (sum <= 0 || clients <= 0) return weights.map(() => 0);
  const quotas = weights.map((w) => (Math.max(0, w) / sum) * clients);
  const counts = quotas.map(Math.floor);
  let left = clients - counts.reduce((a, b) => a + b, 0);
  const order = quotas
    .map((q, i) => ({ i, r: q - Math.floor(q) }))
    .sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % n, left--) counts[order[k]!.i]!++;
  const weighted = weights.map((w, i) => (w > 0 ? i : -1)).filter((i) => i >= 0);
  if (clients >= weighted.length) {
    for (const i of weighted) {
      if (counts[i]! > 0) continue;
      let donor = -1;
      for (let j = 0; j < n; j++) if (counts[j]! > 1 && (donor < 0 || counts[j]! > counts[donor]!)) donor = j;
      if (donor < 0) break;
      counts[donor]!--;
      counts[i]!++;
    }
  }
  return counts;
}

/**
 * How many of `clients` clients each job gets under E³'s `bands` rule, without listing the clients: client
 * c runs the first job whose cumulative weight exceeds (c + 0.5) / clients, the last job if none. Work is
 * proportional to the number of jobs, whatever `clients` is.
 */
export function bandCounts(weights: readonly number[], clients: number): number[] {
  const below = (s: number) => Math.min(clients, Math.max(0, Math.ceil(s * clients - 0.5)));
  const counts: number[] = [];
  let cum = 0;
  let taken = 0;
  weights.forEach((w, j) => {
    cum += w;
    const upTo = j === weights.length - 1 ? clients : below(cum);
    counts.push(Math.max(0, upTo - taken));
    taken = Math.max(taken, upTo);
  });
  return counts;
}

/**
 * The job index of each global client 0 … clients−1.
 * `weighted`: clients are dealt so that each job's share follows `jobCounts`, interleaved (client c gets
 * the job whose running share is furthest behind), so any worker's slice holds a fair mix.
 * `bands`: E³'s rule — w = (c + 0.5) / clients; walk the jobs subtracting each weight; the first job
 * where w < 0 wins, the last job if none.
 */
export function assignJobs(weights: readonly number[], clients: number, mode: AssignmentMode = 'weighted'): number[] {
  if (mode === 'bands') {
    return Array.from({ length: clients }, (_, c) => {
      let w = (c + 0.5) / clients;
      for (let j = 0; j < weights.length; j++) {
        w -= weights[j]!;
        if (w < 0) return j;
      }
      return weights.length - 1;
    });
  }
  const target = jobCounts(weights, clients);
  const given = target.map(() => 0);
  const out: number[] = [];
  for (let c = 0; c < clients; c++) {
    let best = -1;
    let bestLag = -Infinity;
    for (let j = 0; j < target.length; j++) {
      if (given[j]! >= target[j]!) continue;
      const lag = (target[j]! * (c + 1)) / clients - given[j]!;
      if (lag > bestLag) {
        bestLag = lag;
        best = j;
      }
    }
    given[best]!++;
    out.push(best);
  }
  return out;
}
