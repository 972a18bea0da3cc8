import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { readSamples, type SampleRow } from '@e3/model';
import { makeTmpDir } from '@e3/test-utils';
import * as hdr from 'hdr-histogram-js';

import { redact } from './errors.js';
import { createRecorder, errorClassOf } from './recorder.js';


const row = (over: Partial<SampleRow>): SampleRow => ({
  start: 1000, duration: 10, test: 'T', op: 'GET /x', kind: 'request', client: 0, iteration: 0, ok: true, status: 200, bytes: 5, ...over,
});

describe('createRecorder', () => {
  it('streams every row to samples.csv and summarises per test, op and kind', async () => {
    const dir = await makeTmpDir();
    const rec = await createRecorder(join(dir, 'samples.csv'));
    for (let i = 1; i <= 100; i++) rec.record(row({ duration: i }));
    rec.record(row({ ok: false, status: 404, error: 'http 404', duration: 5 }));
    rec.record(row({ ok: false, status: 0, error: 'cut', duration: 99999 }));
    rec.record(row({ kind: 'transaction', op: 'Dashboard', duration: 50 }));
    const tick = rec.tick({ t: 2000, second: 0, active: 3 });
    const summaries = rec.summaries();
    await rec.close();
    const rows = [];
    for await (const r of readSamples(join(dir, 'samples.csv'))) rows.push(r);
    expect(rows).toHaveLength(103);
    const get = summaries.find((s) => s.kind === 'request')!;
    expect(get).toMatchObject({ count: 102, errors: 1, errorsByClass: { http: 1, cut: 1 }, bytes: 510, min: 1, max: 100 });
    expect(get.p50).toBeCloseTo(50, 0);
    expect(get.p99).toBeCloseTo(99, 0);
    expect(hdr.decodeFromCompressedBase64(get.histogram).totalCount).toBe(101);
    expect(summaries.find((s) => s.kind === 'transaction')).toMatchObject({ op: 'Dashboard', count: 1, errors: 0 });
    expect(tick.ops).toHaveLength(2);
    expect(tick.ops.find((o) => o.kind === 'request')).toMatchObject({ count: 102, errors: 1, max: 100 });
    // The second's histogram travels with the tick (cut samples are not in it, as in the stage's).
    expect(hdr.decodeFromCompressedBase64(tick.ops.find((o) => o.kind === 'request')!.histogram!).totalCount).toBe(101);
    expect(rec.tick({ t: 3000, second: 1, active: 0 }).ops).toEqual([]);
  });

  it('classifies errors by the first word of the error column', () => {
    expect(errorClassOf(row({ ok: false, error: 'git 128: fatal: x' }))).toBe('git');
    expect(errorClassOf(row({ ok: false, error: 'weird' }))).toBe('exception');
    expect(errorClassOf(row({}))).toBeUndefined();
  });
});

describe('errors', () => {
  it('redacts credentials in URLs, authorization headers and private keys', () => {
    expect(redact('fatal: http://bob:s3cret@h:7990/scm/a.git')).toBe('fatal: http://bob:***@h:7990/scm/a.git');
    expect(redact('Authorization: Basic Ym9iOnMzY3JldA==')).toBe('Authorization: Basic ***');
    expect(redact('x -----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY----- y')).toBe('x [private key] y');
  });
});

