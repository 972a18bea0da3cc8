/**
 * The one rounding of every number e3 analyze and e3 compare print or write rounded: the CLI text, report.html,
 * compare.html and summary.json (docs/analyze.md#rounding).
 */

/** Digits after the decimal point per quantity, the same in the CLI, the reports and summary.json. */
export const DIGITS = { tps: 2, ms: 3, seconds: 3, percent: 2, change: 1 } as const;

/**
 * `n` rounded to `digits` decimals, half away from zero, on its decimal value: the shortest decimal that
 * reads back as `n` (what `String(n)` prints), not its binary value. So 6.555 → 6.56 and 1.005 → 1.01
 * although `(6.555).toFixed(2)` is "6.55"; 0.1 + 0.2 → 0.3; −1.5 → −2 at 0 digits. Non-finite values, and
 * numbers with no binary fraction left at that many digits (|n|·10^digits ≥ 2^52), come back as they are.
 */
export function roundTo(n: number, digits: number): number {
  if (!Number.isFinite(n)) return n;
  const [mantissa, exp] = Math.abs(n).toExponential().split('e') as [string, string];
  // The decimal shifted by `digits` parses exactly to x.5 when the decimal ends in 5 there (below 2^52).
  const shifted = Number(`${mantissa}e${Number(exp) + digits}`);
  if (shifted >= 2 ** 52) return n;
  const r = Number(`${Math.round(shifted)}e-${digits}`);
  return n < 0 && r !== 0 ? -r : r;
}

/** `n` rounded by `roundTo` and written with exactly `digits` decimals, no grouping; null/undefined/NaN → "–". */
export function formatNumber(n: number | null | undefined, digits: number): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  if (!Number.isFinite(n)) return n > 0 ? '∞' : '−∞';
  return roundTo(n, digits).toFixed(digits);
}

/** Throughput, per second: 2 decimals. */
export const formatTps = (n: number | null | undefined): string => formatNumber(n, DIGITS.tps);
/** Durations in ms: 3 decimals (sub-millisecond loopback times stay visible). */
export const formatMs = (n: number | null | undefined): string => formatNumber(n, DIGITS.ms);
/** A fraction (0–1) as a percentage with 2 decimals and " %". */
export const formatPercent = (fraction: number | null | undefined): string =>
  fraction === null || fraction === undefined ? '–' : `${formatNumber(roundTo(fraction * 100, 10), DIGITS.percent)} %`;

/** Rounded as summary.json stores them. */
export const roundTps = (n: number): number => roundTo(n, DIGITS.tps);
export const roundMs = (n: number): number => roundTo(n, DIGITS.ms);
/** A fraction to the digits its percentage shows (0.057692 → 0.0577, shown 5.77 %). */
export const roundFraction = (n: number): number => roundTo(n, DIGITS.percent + 2);
