import { readFileSync } from 'node:fs';

import type { LazyCommand } from '@e3/model';

export const version: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Every `e3` command; each is imported only when it is the one being run. */
export const commands: LazyCommand[] = [
  {
    name: 'validate [paths..]',
    description: 'Check e3-home files (experiments, workloads, instances, snapshots, keys, runs) and print every problem',
    load: async () => (await import('./commands/validate.js')).validateCommand,
  },
  {
    name: 'list <kind>',
    description: 'List experiments, workloads, snapshots, keys, instances or runs in e3-home',
    load: async () => (await import('./commands/list.js')).listCommand,
  },
  {
    name: 'target',
    description: 'A local Bitbucket-compatible git host for demos and tests: start, stop, seed, save-state, restore-state',
    load: async () => (await import('@e3/target')).targetCommand,
  },
];
