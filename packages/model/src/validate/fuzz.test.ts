import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { e3OriginalHome, mutatedJsonText } from '@e3/test-utils';

import { isE3Error } from '../errors/e3-error.js';
import type { FileKind } from '../schemas/index.js';
import { assertValid, validateText } from './validate.js';

const read = (rel: string) => JSON.parse(readFileSync(join(e3OriginalHome, rel), 'utf8'));
const snapshot = read('snapshots/e3-small.json');
const keys = read('keys/100-keys.json');

const bases: Array<[FileKind, unknown]> = [
  ['experiment', read('experiments/cluster-scaling-ssh.json')],
  ['workload', read('workloads/mixed.json')],
  ['instance', read('instances/localhost:7990-nocontext.json')],
  ['snapshot', { ...snapshot, projects: snapshot.projects.slice(0, 2), users: [snapshot.users[0], snapshot.users.at(-1)] }],
  ['keys', { ...keys, count: 2, key_pairs: keys.key_pairs.slice(0, 2) }],
];

const RUNS = Number(process.env.E3_FUZZ_RUNS ?? 10_000);

describe.each(bases)('%s files, fuzzed', (kind, base) => {
  it(`turns ${RUNS} malformed files into coded errors naming the file and a path, never a crash`, () => {
    let invalid = 0;
    fc.assert(
      fc.property(mutatedJsonText(base as never), (text) => {
        const r = validateText(kind, text, `${kind}.json`);
        for (const e of r.errors) expect(e).toMatch(new RegExp(`^${kind}\\.json: (/|not valid JSON)`));
        if (r.errors.length === 0) return;
        invalid++;
        try {
          assertValid(r);
          throw new Error('assertValid accepted a file with errors');
        } catch (err) {
          expect(isE3Error(err) && err.code).toBe('E3_INVALID_FILE');
        }
      }),
      { numRuns: RUNS },
    );
    // Most mutations break the file; if none did, validation is not looking.
    expect(invalid).toBeGreaterThan(RUNS / 3);
  });
});
