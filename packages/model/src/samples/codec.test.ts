import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { makeTmpDir } from '@e3/test-utils';

import { SAMPLES_HEADER, createSampleWriter, readSamples, type SampleRow } from './codec.js';

const ms = fc.double({ min: 0, max: 1e13, noNaN: true }).map((x) => Math.round(x * 1000) / 1000);
const row: fc.Arbitrary<SampleRow> = fc.record(
  {
    start: ms,
    duration: fc.double({ min: 0, max: 1e7, noNaN: true }).map((x) => Math.round(x * 1000) / 1000),
    test: fc.string({ minLength: 1 }),
    op: fc.oneof(fc.constant('git clone'), fc.string(), fc.constant('GET /rest/api/1.0/projects?limit=25,"x"')),
    kind: fc.constantFrom('request' as const, 'transaction' as const),
    client: fc.nat(100_000),
    iteration: fc.nat(1_000_000),
    ok: fc.boolean(),
    status: fc.integer({ min: -1, max: 599 }),
    bytes: fc.nat(),
    ttfb: fc.double({ min: 0, max: 1e7, noNaN: true }).map((x) => Math.round(x * 1000) / 1000),
    intended: ms,
    error: fc.string({ minLength: 1 }).map((s) => s.replace(/[\r\n]/g, ' ')),
  },
  { requiredKeys: ['start', 'duration', 'test', 'op', 'kind', 'client', 'iteration', 'ok', 'status', 'bytes'] },
);

async function collect(file: string, final = false): Promise<SampleRow[]> {
  const out: SampleRow[] = [];
  for await (const r of readSamples(file, { final })) out.push(r);
  return out;
}

describe('samples codec', () => {
  it('reads back exactly the rows it wrote (property)', async () => {
    const dir = await makeTmpDir();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(row, { maxLength: 60 }), async (rows) => {
        const file = join(dir, `s${n++}.csv`);
        const w = await createSampleWriter(file, { bufferBytes: 512 });
        for (const r of rows) await w.write(r);
        await w.close();
        expect(await collect(file)).toEqual(rows);
      }),
      { numRuns: 150 },
    );
  });

  it('names the file and line of a bad row', async () => {
    const dir = await makeTmpDir();
    const file = join(dir, 'samples.csv');
    await writeFile(file, `${SAMPLES_HEADER}\n1,2,t,op,request,0,0,1,200,10,,,\n1,2,t,op,bogus,0,0,1,200,10,,,\n`);
    await expect(collect(file)).rejects.toMatchObject({
      code: 'E3_SAMPLES_FORMAT',
      message: `${file}:3: kind must be request or transaction, found "bogus"`,
    });
  });

  it('ignores an unfinished last line unless the file is final', async () => {
    const dir = await makeTmpDir();
    const file = join(dir, 'samples.csv');
    await writeFile(file, `${SAMPLES_HEADER}\n1,2,t,op,request,0,0,1,200,10,,,\n3,4,t,op,request,0,1,0,500,0,,,http 500`);
    expect(await collect(file)).toHaveLength(1);
    expect((await collect(file, true))[1]).toMatchObject({ ok: false, status: 500, error: 'http 500' });
  });

  it('refuses a file whose header is not the samples header', async () => {
    const dir = await makeTmpDir();
    const file = join(dir, 'x.csv');
    await writeFile(file, 'a,b\n1,2\n');
    await expect(collect(file)).rejects.toMatchObject({ code: 'E3_SAMPLES_FORMAT' });
  });
});
