import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import type { LazyCommand } from '@e3/model';

const require = createRequire(import.meta.url);

/** The agent bundle shipped to workers: @e3/agent's dist/e3-agent.cjs (built by `pnpm build`). */
export function agentBundlePath(): string {
  return join(dirname(require.resolve('@e3/agent/package.json')), 'dist/e3-agent.cjs');
}

export const version: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const local = async () => ({ local: (await import('./providers/local.js')).localProvider() });
/** Deprovision removes the run's scratch (user keys) from its workers. */
const cleanWorkers = async () => {
  const { removeRunDirScratch } = await import('@e3/run');
  return (runDir: string, run: string) => removeRunDirScratch(dirname(dirname(runDir)), runDir, run);
};
const checks = async () => (await import('./providers/byo-checks.js')).byoChecks();

/** Every `e3` command, in the order `e3 --help` lists them; each is imported only when it is the one being run. */
export const commands: LazyCommand[] = [
  {
    name: 'demo',
    description: "A full local experiment against e3's embedded Bitbucket-compatible target: seed, run, gather, analyze, report",
    load: async () => (await import('./commands/demo.js')).demoCommand,
  },
  {
    name: 'orchestrate',
    description: 'Provision, run, gather, analyze and deprovision an experiment in one go',
    load: async () => (await import('./commands/orchestrate.js')).orchestrateCommand,
  },
  {
    name: 'provision',
    description: 'Create the machines of an experiment (local target, AWS stacks, or bring-your-own instance files) and the run directory',
    load: async () => (await import('@e3/provision')).provisionCommandWith({ providers: await local(), checks: await checks() }),
  },
  {
    name: 'nodes',
    description: 'Bring-your-own machines: check them (SSH, git, Node, data dir, clock, collectd, …) and set them up (check, setup)',
    load: async () => (await import('@e3/nodes')).nodesCommand,
  },
  {
    name: 'run',
    description: "Run every thread's stages of a provisioned run on its workers, with live progress",
    load: async () => (await import('@e3/run')).createRunCommand(agentBundlePath),
  },
  {
    name: 'gather',
    description: "Copy a run's samples, agent logs, metrics and server logs from every node into the run dir",
    load: async () => (await import('@e3/gather')).gatherCommand,
  },
  {
    name: 'analyze',
    description: 'Aggregate a run: charts, report.html, summary.json and the thresholds verdict',
    load: async () => (await import('@e3/analyze')).analyzeCommand,
  },
  {
    name: 'compare <baseline> [runs..]',
    description: 'Compare runs (or threads) against a baseline: significant differences per test, op and stage',
    load: async () => (await import('@e3/analyze')).compareCommand,
  },
  {
    name: 'deprovision',
    description: 'Delete the machines of a run (everything its ledger records) and archive it, or delete stacks by name, owner or expiry',
    load: async () => (await import('@e3/provision')).deprovisionCommandWith({ providers: await local(), cleanWorkers: await cleanWorkers() }),
  },
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
    name: 'agent',
    description: 'The load agent on this machine: run a workload stage locally, or sample /proc metrics',
    load: async () => (await import('@e3/agent')).agentCommand,
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
