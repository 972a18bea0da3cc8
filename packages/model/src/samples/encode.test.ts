import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';

import type { SampleRow } from './codec.js';
import { SampleEncoder } from './encode.js';

/** The column contract written plainly: the encoder must produce exactly these bytes. */
const num = (n: number): string => {
  const text = Number.isInteger(n) ? String(n) : n.toFixed(3).replace(/\.?0+$/, '');
  return text === '-0' ? '0' : text;
};
const csv = (v: string): string => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const line = (r: SampleRow): string =>
  [
    num(r.start), num(r.duration), csv(r.test), csv(r.op), r.kind, r.client, r.iteration, r.ok ? 1 : 0, r.status, r.bytes,
    r.ttfb === undefined ? '' : num(r.ttfb), r.intended === undefined ? '' : num(r.intended),
    r.error === undefined ? '' : csv(r.error.replace(/[\r\n]+/g, ' ')),
  ].join(',') + '\n';

/** Any number the recorder can produce, and some it should not but must still write as formatSample does. */
const anyNumber = fc.oneof(
  fc.double({ min: -1e13, max: 1e13, noNaN: true }),
  fc.double({ min: 0, max: 2e12, noNaN: true }).map((x) => Math.round(x * 1000) / 1000),
  fc.integer({ min: -1000, max: 1_000_000 }),
  fc.constantFrom(0, -0, 0.0005, 0.9995, -0.0004, 999.9996, 1e15, -1e16, 1e21, NaN, Infinity),
);
const row: fc.Arbitrary<SampleRow> = fc.record(
  {
    start: anyNumber,
    duration: anyNumber,
    test: fc.string({ minLength: 1, unit: 'grapheme' }),
    op: fc.oneof(fc.constant('GET /rest/api/1.0/projects?limit=25,"x"'), fc.string()),
    kind: fc.constantFrom('request' as const, 'transaction' as const),
    client: fc.nat(100_000),
    iteration: fc.nat(),
    ok: fc.boolean(),
    status: fc.integer({ min: -1, max: 599 }),
    bytes: fc.nat(),
    ttfb: anyNumber,
    intended: anyNumber,
    error: fc.string({ unit: 'grapheme' }),
  },
  { requiredKeys: ['start', 'duration', 'test', 'op', 'kind', 'client', 'iteration', 'ok', 'status', 'bytes'] },
);

describe('SampleEncoder', () => {
  it('writes each row as the column contract says, whatever the buffer size (property)', () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 40 }), fc.integer({ min: 1, max: 600 }), (rows, size) => {
        const chunks: Buffer[] = [];
        const encoder = new SampleEncoder(size, (c) => chunks.push(Buffer.from(c)));
        encoder.text('header\n');
        for (const r of rows) encoder.row(r);
        encoder.flush();
        expect(Buffer.concat(chunks).toString('utf8')).toBe('header\n' + rows.map(line).join(''));
      }),
      { numRuns: 2000 },
    );
  });
});
