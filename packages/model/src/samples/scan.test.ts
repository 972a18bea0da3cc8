import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { makeTmpDir } from '@e3/test-utils';

import { SAMPLES_HEADER, createSampleWriter, readSamples, type SampleRow } from './codec.js';
import { scanSamples } from './scan.js';

const rows: SampleRow[] = [
  { start: 1764064800000.5, duration: 12.25, test: 'clone', op: 'git clone', kind: 'request', client: 3, iteration: 0, ok: true, status: 0, bytes: 1024, ttfb: 3.5 },
  { start: 1764064800100, duration: 40, test: 'browse, "quoted"', op: 'GET /a,b', kind: 'transaction', client: 4, iteration: 1, ok: false, status: 500, bytes: 0, intended: 1764064800090, error: 'http 500: "boom", again' },
  { start: 1764064800200, duration: 0, test: 'ünïcødé ✓', op: 'op', kind: 'request', client: 0, iteration: 2, ok: false, status: 128, bytes: 5, error: 'git 128: fatal' },
];

async function collect(file: string, options: { final?: boolean; chunkBytes?: number } = {}): Promise<SampleRow[]> {
  const out: SampleRow[] = [];
  await scanSamples(file, (r) => out.push({ ...r }), options);
  return out.map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as unknown as SampleRow);
}

describe('scanSamples', () => {
  it('reads the same rows as readSamples, across tiny chunks and multi-byte characters', async () => {
    const dir = await makeTmpDir();
    const file = join(dir, 'samples.csv');
    const w = await createSampleWriter(file);
    for (const r of rows) await w.write(r);
    await w.close();
    const expected: SampleRow[] = [];
    for await (const r of readSamples(file)) expected.push(r);
    expect(await collect(file)).toEqual(expected);
    expect(await collect(file, { chunkBytes: 7 })).toEqual(expected);
    expect(expected).toHaveLength(3);
  });

  it('skips an unfinished last line unless final, and reads CRLF files', async () => {
    const dir = await makeTmpDir();
    const file = join(dir, 'samples.csv');
    await writeFile(file, `${SAMPLES_HEADER}\r\n1,2,t,o,request,0,0,1,200,3,,,\r\n4,5,t,o,request,0,1,1,200,3,,,`);
    expect(await collect(file)).toHaveLength(1);
    expect(await collect(file, { final: true })).toEqual([
      { start: 1, duration: 2, test: 't', op: 'o', kind: 'request', client: 0, iteration: 0, ok: true, status: 200, bytes: 3 },
      { start: 4, duration: 5, test: 't', op: 'o', kind: 'request', client: 0, iteration: 1, ok: true, status: 200, bytes: 3 },
    ]);
  });

  it('names the file and line of a bad row', async () => {
    const dir = await makeTmpDir();
    const file = join(dir, 'samples.csv');
    await writeFile(file, `${SAMPLES_HEADER}\n1,2,t,o,request,0,0,1,200,3,,,\n1,x,t,o,request,0,0,1,200,3,,,\n`);
    await expect(scanSamples(file, () => undefined)).rejects.toMatchObject({ code: 'E3_SAMPLES_FORMAT', message: `${file}:3: a numeric field is not a number` });
    await writeFile(file, `${SAMPLES_HEADER}\n1,2,t,o,bogus,0,0,1,200,3,,,\n`);
    await expect(scanSamples(file, () => undefined)).rejects.toMatchObject({ message: `${file}:2: kind must be request or transaction, found "bogus"` });
    await writeFile(file, `${SAMPLES_HEADER}\n1,2,t\n`);
    await expect(scanSamples(file, () => undefined)).rejects.toMatchObject({ message: `${file}:2: expected 13 fields, found 3` });
    await expect(scanSamples(join(dir, 'none.csv'), () => undefined)).rejects.toMatchObject({ code: 'E3_FILE_NOT_FOUND' });
  });
});
