import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { repoRoot } from '@e3/test-utils';

import { embedWorkerConfig } from './template.js';

describe('WorkerCluster.template', () => {
  it('embeds e3-home/config/collectd-worker.conf as it is (else run `pnpm gen:templates`)', async () => {
    const template = await readFile(join(repoRoot, 'e3-home/templates/WorkerCluster.template'), 'utf8');
    const config = await readFile(join(repoRoot, 'e3-home/config/collectd-worker.conf'), 'utf8');
    expect(embedWorkerConfig(template, config) === template ? 'in sync' : 'stale: run `pnpm gen:templates`').toBe('in sync');
  });
});
