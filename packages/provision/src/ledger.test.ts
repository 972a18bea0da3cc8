import { appendFile, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { makeTmpDir } from '@e3/test-utils';

import { memoryLedger, openLedger, outstandingResources, readLedger } from './ledger.js';

describe('ledger', () => {
  it('writes an intent before the call and a result with the provider id after it, mode 0600', async () => {
    const file = join(await makeTmpDir(), 'ledger.ndjson');
    const ledger = openLedger(file, { run: 'r1', now: () => Date.UTC(2026, 0, 1) });
    let seenDuringCall: string[] = [];
    const value = await ledger.track('aws', 'create', { type: 'stack', name: 's1' }, async () => {
      seenDuringCall = (await readFile(file, 'utf8')).trim().split('\n');
      return { StackId: 'arn:s1' };
    }, (r) => r.StackId);
    expect(value).toEqual({ StackId: 'arn:s1' });
    expect(seenDuringCall).toHaveLength(1);
    const entries = await readLedger(file);
    expect(entries.map(({ id: _id, ...e }) => e)).toEqual([
      { ts: '2026-01-01T00:00:00.000Z', stage: 'intent', action: 'create', provider: 'aws', resource: { type: 'stack', name: 's1' }, run: 'r1' },
      { ts: '2026-01-01T00:00:00.000Z', stage: 'result', action: 'create', provider: 'aws', resource: { type: 'stack', name: 's1', id: 'arn:s1' }, ok: true, run: 'r1' },
    ]);
    expect(entries[0]!.id).toBe(entries[1]!.id);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('records a failed call with its message and rethrows it', async () => {
    const file = join(await makeTmpDir(), 'ledger.ndjson');
    const ledger = openLedger(file);
    await expect(ledger.track('aws', 'create', { type: 'key-pair', name: 'k' }, () => Promise.reject(new Error('denied')))).rejects.toThrow('denied');
    expect((await readLedger(file)).map((e) => [e.stage, e.ok, e.error])).toEqual([
      ['intent', undefined, undefined],
      ['result', false, 'denied'],
    ]);
  });

  it('skips a torn last line (killed while writing) but rejects a bad line in the middle, naming its number', async () => {
    const file = join(await makeTmpDir(), 'ledger.ndjson');
    await openLedger(file).append({ id: 'a', stage: 'intent', action: 'create', provider: 'aws', resource: { type: 'stack', name: 's' } });
    await appendFile(file, '{"ts":"2026-');
    expect(await readLedger(file)).toHaveLength(1);
    await appendFile(file, '\n{"ts":1}\n');
    await expect(readLedger(file)).rejects.toMatchObject({ code: 'E3_INVALID_FILE', message: expect.stringContaining('line 2 is not JSON') });
  });

  it('reads a missing ledger as empty', async () => {
    expect(await readLedger(join(await makeTmpDir(), 'none.ndjson'))).toEqual([]);
  });

  it('says a resource may exist after any create entry until a successful delete', () => {
    const e = (stage: 'intent' | 'result', action: 'create' | 'delete', name: string, ok?: boolean, id?: string) => ({
      ts: '', id: name + action, stage, action, provider: 'aws', resource: { type: 'stack', name, ...(id ? { id } : {}) }, ...(ok === undefined ? {} : { ok }),
    });
    const left = outstandingResources([
      e('intent', 'create', 'a'), e('result', 'create', 'a', true, 'arn:a'),
      e('intent', 'create', 'b'), // no result: the process died
      e('intent', 'create', 'c'), e('result', 'create', 'c', false), // failed: may still have taken effect
      e('intent', 'create', 'd'), e('result', 'create', 'd', true), e('intent', 'delete', 'd'), e('result', 'delete', 'd', true),
      e('intent', 'delete', 'a'), e('result', 'delete', 'a', false),
    ]);
    expect(left.map((o) => `${o.resource.name}${o.resource.id ? ` ${o.resource.id}` : ''}`)).toEqual(['a arn:a', 'b', 'c']);
  });

  it('keeps entries in memory when there is no run dir', async () => {
    const ledger = memoryLedger();
    await ledger.track('aws', 'delete', { type: 'stack', name: 's' }, async () => undefined);
    expect(ledger.entries.map((x) => x.stage)).toEqual(['intent', 'result']);
  });
});
