import { E3Error, type ThinkTimeMs } from '@e3/model';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;

/** Parses `30s`, `5m`, `1h`, `1500ms` or a bare number of seconds into milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new E3Error('USAGE', `${flag} must be a duration like 30s, 5m or 1500ms, got "${text}"`, { hint: `Run e3-agent --help.` });
  const n = Number(m[1]);
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms']);
}

/** Parses a think time: one duration (`1s`) or a uniform range `min..max` (`0.5s..1.5s`), in milliseconds. */
export function parseThinkTime(text: string, flag: string): ThinkTimeMs {
  const parts = text.split('..');
  if (parts.length > 2 || !parts.every((p) => DURATION.test(p.trim()))) {
    throw new E3Error('USAGE', `${flag} must be a duration like 1s, or a range like 0.5s..1.5s, got "${text}"`, { hint: 'Run e3-agent --help.' });
  }
  const [min, max] = parts.map((p) => parseDuration(p, flag));
  const range = { min: min!, max: max ?? min! };
  if (range.min > range.max) throw new E3Error('USAGE', `${flag}: the range starts after it ends ("${text}")`, { hint: `Write the shorter pause first, e.g. ${flag} 0.5s..1.5s.` });
  return range;
}

export function parseCount(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new E3Error('USAGE', `${flag} must be a non-negative number, got "${text}"`, { hint: 'Run e3-agent --help.' });
  return n;
}

/** `--name value`, `--name=value` and boolean `--flag`; values stay strings. */
export function parseArgs(argv: readonly string[], booleans: readonly string[]): { flags: Record<string, string | true>; positional: string[] } {
  const flags: Record<string, string | true> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (eq > 0) flags[name] = a.slice(eq + 1);
    else if (booleans.includes(name)) flags[name] = true;
    else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new E3Error('USAGE', `--${name} needs a value`, { hint: 'Run e3-agent --help.' });
      flags[name] = v;
      i++;
    }
  }
  return { flags, positional };
}
