import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { makeTree } from '@e3/test-utils';
import fc from 'fast-check';

import { assignJobs, bandCounts } from '../load/assign.js';
import { validateHome, validatePaths } from './paths.js';

const jobs = (weights: number[]) => weights.map((weight, i) => ({ script: 'bitbucket.scm.GitCloneOverSsh', description: `Job${i}`, weight }));
const thread = (stages: unknown[], extra: Record<string, unknown> = {}) => ({ name: 't', instance: { template: 'local' }, worker: { template: 'local' }, stages, ...extra });
const experiment = (stages: unknown[], extra: Record<string, unknown> = {}) => ({ duration: 60000, workload: 'w', ...extra, threads: [thread(stages)] });

/** An e3-home with each absurd value of issue 17 in its own experiment. */
const absurdHome = () =>
  makeTree({
    'workloads/w.json': jobs([0.001, 0.499, 0.5]),
    'experiments/long.json': experiment([{ clients: 1 }], { duration: 3e9 }),
    'experiments/long-text.json': experiment([{ clients: 1, duration: '700h' }]),
    'experiments/clients.json': experiment([{ clients: 1e9 }]),
    'experiments/rate.json': experiment([{ rate: 1e12 }]),
    'experiments/bands.json': experiment([{ clients: 1e9 }, { clients: 100000 }, { clients: 99 }], { assignment: 'bands' }),
    'experiments/typos.json': { ...experiment([{ clinets: 5, clients: 5, duraton: 1000 }]), treshholds: [] },
  });

describe('bounds', () => {
  it('gives each absurd value its own message at its path, and never throws, however large the numbers', async () => {
    const home = await absurdHome();
    const results = await validateHome(home);
    const errors = (name: string) => results.find((r) => r.file === join(home, `experiments/${name}.json`))!.errors.map((e) => e.slice(e.indexOf(': ') + 2));
    expect(errors('long')).toEqual(['/duration: must be at most 2147483647 ms (about 24.9 days): split it into several stages; got 3000000000']);
    expect(errors('long-text')).toEqual([
      '/threads/0/stages/0/duration: "700h" is 2520000000 ms, more than the longest stage e3 can time (2147483647 ms, about 24.9 days): split it into several stages',
    ]);
    expect(errors('clients')).toEqual(['/threads/0/stages/0/clients: must be <= 100000; got 1000000000']);
    expect(errors('rate')).toEqual(['/threads/0/stages/0/rate: must be <= 1000000; got 1000000000000']);
    expect(errors('bands')).toEqual(['/threads/0/stages/0/clients: must be <= 100000; got 1000000000']);
    // 99 clients in E³'s bands: (c + 0.5)/99 < 0.001 holds for no client, so Job0 starves.
    expect(results.find((r) => r.file.endsWith('bands.json'))!.warnings).toEqual([
      `${join(home, 'experiments/bands.json')}: /threads/0/stages/2/clients: 99 clients leave 1 job(s) of workload "w" without a client (Job0)`,
    ]);
  });

  it('warns about unknown fields with a did-you-mean, and --strict makes them errors', async () => {
    const home = await absurdHome();
    const file = join(home, 'experiments/typos.json');
    const [loose] = await validatePaths([file], { home });
    expect(loose!.errors).toEqual([]);
    expect(loose!.warnings).toEqual([
      `${file}: /threads/0/stages/0/clinets: unknown field "clinets" is ignored (did you mean "clients"?)`,
      `${file}: /threads/0/stages/0/duraton: unknown field "duraton" is ignored (did you mean "duration"?)`,
      `${file}: /treshholds: unknown field "treshholds" is ignored (did you mean "thresholds"?)`,
    ]);
    const [strict] = await validatePaths([file], { home, strict: true });
    expect(strict!.errors).toEqual(loose!.warnings);
    expect(strict!.warnings).toEqual([]);
  });
});

describe("E³'s bands rule without listing clients", () => {
  it('bandCounts equals the histogram of assignJobs(…, "bands") for any weights and clients', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 400 }), (raw, clients) => {
        const sum = raw.reduce((a, b) => a + b, 0) || 1;
        const weights = raw.map((w) => w / sum);
        const histogram = weights.map((_, j) => assignJobs(weights, clients, 'bands').filter((x) => x === j).length);
        expect(bandCounts(weights, clients)).toEqual(histogram);
      }),
      { numRuns: 300, seed: 17 },
    );
  });
});
