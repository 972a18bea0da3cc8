import { prng } from '@e3/model';

export type Distribution = 'equal' | 'exponential';


/**
 * `n` repository weights summing to 1. `equal`: 1/n each. `exponential`: truncated-exponential draws
 * `−ln(1 − (1 − e^−f)·U)/f` on [0, 1] (E³'s formula, f > 0), from a PRNG seeded with `seed`, normalised.
 */
export function weights(n: number, options: { distribution: Distribution; factor: number; seed: number }): number[] {
  if (n === 0) return [];
  if (options.distribution === 'equal') return Array.from({ length: n }, () => 1 / n);
  const f = options.factor;
  const rand = prng(options.seed);
  const raw = Array.from({ length: n }, () => -Math.log(1 - (1 - Math.exp(-f)) * rand()) / f);
  const sum = raw.reduce((a, b) => a + b, 0);
  // All draws are 0 only when every U is 0: fall back to equal weights rather than dividing by 0.
  return sum > 0 ? raw.map((w) => w / sum) : raw.map(() => 1 / n);
}
