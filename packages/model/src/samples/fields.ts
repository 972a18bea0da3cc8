const NEEDS_QUOTES = /[",\n\r]/;

/** A CSV field: quoted when it holds a quote, comma or line break. */
export function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** `.001` … `.999` without trailing zeros; index 0 is ''. */
const FRACTIONS = Array.from({ length: 1000 }, (_, i) => (i === 0 ? '' : ('.' + String(i).padStart(3, '0')).replace(/0+$/, '')));
// Consecutive samples mostly start in the same millisecond: its digits are formatted once.
let lastWhole = NaN;
let lastWholeText = '';

/** A number with at most three decimals and no trailing zeros. */
export function formatNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  const abs = Math.abs(n);
  let whole = Math.floor(abs);
  let thousandths = Math.round((abs - whole) * 1000);
  if (thousandths === 1000) {
    whole++;
    thousandths = 0;
  }
  if (whole !== lastWhole) {
    lastWhole = whole;
    lastWholeText = String(whole);
  }
  const text = lastWholeText + FRACTIONS[thousandths];
  return n < 0 && (whole !== 0 || thousandths !== 0) ? '-' + text : text;
}

