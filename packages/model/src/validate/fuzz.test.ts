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

describe('reference and assignment rules, fuzzed', () => {
  const names = fc.oneof(fc.string(), fc.constantFrom('w', '../w', '../../package', 'w/../w', '.w', 'a\\b', 'w '));
  const load = fc.oneof(fc.integer({ min: -5, max: 200_000 }), fc.double({ noNaN: false }), fc.constantFrom(1e9, 2 ** 53, 99));
  it(`gives ${RUNS / 10} experiments of arbitrary names, loads and weights messages at paths, never a throw; unsafe names are E3_UNSAFE_NAME`, () => {
    fc.assert(
      fc.property(
        fc.record({ workload: names, stack: names, snapshot: names, clients: load, assignment: fc.constantFrom('weighted', 'bands', 'x') }),
        fc.array(fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(0)), { minLength: 1, maxLength: 6 }),
        (x, weights) => {
          const jobs = weights.map((weight, i) => ({ script: 'bitbucket.scm.GitCloneOverSsh', description: `J${i}`, weight }));
          const context = { resolve: (_: string, n: string) => (n === 'w' || n === x.stack ? `/h/${n}.json` : undefined), names: () => ['w'], readWorkload: () => jobs };
          const e = {
            duration: 1000,
            workload: x.workload,
            assignment: x.assignment,
            threads: [{ instance: { template: 'BitbucketServer', snapshot: x.snapshot }, worker: { stack: { Name: x.stack } }, stages: [{ clients: x.clients }, { clients: 3, workload: 'w' }] }],
          };
          const r = validateText('experiment', JSON.stringify(e), 'x.json', context);
          for (const m of [...r.errors, ...r.warnings]) expect(m).toMatch(/^x\.json: \//);
          const unsafe = (n: string) => n !== '' && (n.includes('/') || n.includes('..') || !/^[A-Za-z0-9]/.test(n) || /[^A-Za-z0-9._:-]/.test(n));
          if (unsafe(x.workload)) expect(r.errors.some((m) => m.startsWith('x.json: /workload: ') && m.includes('E3_UNSAFE_NAME'))).toBe(true);
          if (unsafe(x.stack)) expect(r.errors.some((m) => m.startsWith('x.json: /threads/0/worker/stack/Name: ') && m.includes('E3_UNSAFE_NAME'))).toBe(true);
          // A starved job is one with weight > 0, named in a warning on a stage's clients.
          for (const w of r.warnings.filter((m) => m.includes('without a client'))) {
            const starved = /without a client \(([^)]*)\)$/.exec(w)![1]!.split(', ');
            for (const d of starved) expect(jobs.find((j) => j.description === d)!.weight).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: RUNS / 10 },
    );
  });
});
