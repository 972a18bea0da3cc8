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
  {
    name: 'snapshot',
    description: 'Write a dataset descriptor (snapshots/<name>.json) from a live Bitbucket: projects, repos, branches, users',
    load: async () => (await import('@e3/snapshot')).snapshotCommand,
  },
  {
    name: 'keygen',
    description: 'Generate an SSH key pool (keys/<name>.json, E³ format, mode 0600)',
    load: async () => (await import('@e3/snapshot')).keygenCommand,
  },
  {
    name: 'add-users',
    description: 'Create users on a Bitbucket, register a pool key for each, and write them as snapshot users',
    load: async () => (await import('@e3/snapshot')).addUsersCommand,
  },
];
