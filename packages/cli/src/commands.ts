import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { COMMAND_HELP, type LazyCommand } from '@e3/model/cli';

const require = createRequire(import.meta.url);

/** The agent bundle shipped to workers: @e3/agent's dist/e3-agent.cjs (built by `pnpm build`). */
export function agentBundlePath(): string {
  return join(dirname(require.resolve('@e3/agent/package.json')), 'dist/e3-agent.cjs');
}

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
    description: COMMAND_HELP.demo,
    load: async () => (await import('./commands/demo.js')).demoCommand,
  },
  {
    name: 'orchestrate',
    description: COMMAND_HELP.orchestrate,
    load: async () => (await import('./commands/orchestrate.js')).orchestrateCommand,
  },
  {
    name: 'provision',
    description: COMMAND_HELP.provision,
    load: async () => (await import('@e3/provision')).provisionCommandWith({ providers: await local(), checks: await checks() }),
  },
  {
    name: 'nodes',
    description: COMMAND_HELP.nodes,
    load: async () => (await import('@e3/nodes')).nodesCommand,
  },
  {
    name: 'run',
    description: COMMAND_HELP.run,
    load: async () => (await import('@e3/run')).createRunCommand(agentBundlePath),
  },
  {
    name: 'gather',
    description: COMMAND_HELP.gather,
    load: async () => (await import('@e3/gather')).gatherCommand,
  },
  {
    name: 'analyze',
    description: COMMAND_HELP.analyze,
    load: async () => (await import('@e3/analyze')).analyzeCommand,
  },
  {
    name: 'compare [runs..]',
    description: COMMAND_HELP.compare,
    load: async () => (await import('@e3/analyze')).compareCommand,
  },
  {
    name: 'deprovision',
    description: COMMAND_HELP.deprovision,
    load: async () => (await import('@e3/provision')).deprovisionCommandWith({ providers: await local(), cleanWorkers: await cleanWorkers() }),
  },
  {
    name: 'validate [paths..]',
    description: COMMAND_HELP.validate,
    load: async () => (await import('./commands/validate.js')).validateCommand,
  },
  {
    name: 'list <kind>',
    description: COMMAND_HELP.list,
    load: async () => (await import('./commands/list.js')).listCommand,
  },
  {
    name: 'agent',
    description: COMMAND_HELP.agent,
    load: async () => (await import('@e3/agent')).agentCommand,
  },
  {
    name: 'target',
    description: COMMAND_HELP.target,
    load: async () => (await import('@e3/target')).targetCommand,
  },
  {
    name: 'snapshot',
    description: COMMAND_HELP.snapshot,
    load: async () => (await import('@e3/snapshot')).snapshotCommand,
  },
  {
    name: 'keygen',
    description: COMMAND_HELP.keygen,
    load: async () => (await import('@e3/snapshot')).keygenCommand,
  },
  {
    name: 'add-users',
    description: COMMAND_HELP['add-users'],
    load: async () => (await import('@e3/snapshot')).addUsersCommand,
  },
];
