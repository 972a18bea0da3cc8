import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, extname, isAbsolute, join, resolve } from 'node:path';

import { builtinHome, E3Error, findHomeFile, homeFilePath, loadFile, type Experiment, type Instance } from '@e3/model';

import { flavourOf, type CollectdFlavour, type NodeRole } from './requirements.js';

/** One instance file to check or set up, with the role of its nodes. */
export interface InstanceTarget {
  /** The instance name (file name without .json). */
  name: string;
  file: string;
  instance: Instance & { ClusterNodes: string[] };
  role: NodeRole;
  /** How the user named it, for fix commands (`e3 nodes setup -i <ref>`). */
  ref: string;
}

/** Cluster nodes: an instance with a URL is a system under test; without one, a worker cluster. */
export function roleOf(instance: Instance): NodeRole {
  return instance.URL ? 'cluster' : 'worker';
}

async function loadTarget(file: string, ref: string, role: NodeRole | undefined): Promise<InstanceTarget> {
  const instance = await loadFile<Instance>('instance', file);
  if (!instance.ClusterNodes?.length) {
    throw new E3Error('INVALID_FILE', `${file}: /ClusterNodes: missing; e3 nodes needs the nodes to check`, { hint: `Add "ClusterNodes": ["user@host", …] to ${file}` });
  }
  return { name: basename(file, extname(file)), file, instance: instance as InstanceTarget['instance'], role: role ?? roleOf(instance), ref };
}

/**
 * The instance files named by `-i` (a name in e3-home/instances, or a path) and by the threads of `-e`
 * (`instance.stack.Name` → cluster nodes, `worker.stack.Name` → workers), each once.
 * Throws E3_FILE_NOT_FOUND, E3_USAGE (neither given), and the codes of `loadFile`.
 */
export async function resolveTargets(options: { home: string; cwd: string; instances?: string[]; experiment?: string; role?: NodeRole }): Promise<InstanceTarget[]> {
  const out: InstanceTarget[] = [];
  const seen = new Set<string>();
  const add = async (file: string, ref: string, role?: NodeRole) => {
    if (seen.has(file)) return;
    seen.add(file);
    out.push(await loadTarget(file, ref, role));
  };
  for (const ref of options.instances ?? []) {
    const isPath = ref.includes('/') || ref.endsWith('.json');
    const file = isPath ? (isAbsolute(ref) ? ref : resolve(options.cwd, ref)) : homeFilePath(options.home, 'instance', ref);
    if (!existsSync(file)) {
      throw new E3Error('FILE_NOT_FOUND', `instance file ${file} does not exist`, { hint: `Write it (ClusterNodes, URL, …; see docs/bring-your-own-infrastructure.md), or run \`e3 list instances\`` });
    }
    await add(file, ref, options.role);
  }
  if (options.experiment) {
    const file = findHomeFile(options.home, 'experiment', options.experiment) ?? (existsSync(resolve(options.cwd, options.experiment)) ? resolve(options.cwd, options.experiment) : undefined);
    if (!file) throw new E3Error('FILE_NOT_FOUND', `experiment ${options.experiment} is not in ${join(options.home, 'experiments')}`, { hint: 'Run `e3 list experiments`' });
    const experiment = await loadFile<Experiment>('experiment', file);
    for (const [ti, thread] of experiment.threads.entries()) {
      for (const part of ['instance', 'worker'] as const) {
        const name = thread[part]?.stack?.Name;
        if (!name) continue;
        const instFile = homeFilePath(options.home, 'instance', name);
        if (!existsSync(instFile)) {
          throw new E3Error('FILE_NOT_FOUND', `instance file ${instFile} (${file}: /threads/${ti}/${part}/stack/Name) does not exist`, {
            hint: `Write e3-home/instances/${name}.json, or run \`e3 provision -e ${options.experiment}\` for machines e3 creates`,
          });
        }
        await add(instFile, name, part === 'instance' ? 'cluster' : 'worker');
      }
    }
  }
  if (!out.length) throw new E3Error('USAGE', 'name the machines: -i <instance file> or -e <experiment>', { hint: 'Run `e3 nodes check -i <instance>` (a name in e3-home/instances) or `e3 nodes check -e <experiment>`' });
  return out;
}

/** One of e3's collectd configs, as shipped in e3-home/config/. */
export interface CollectdConfig {
  flavour: CollectdFlavour;
  /** Local path of the file. */
  file: string;
  content: string;
  sha256: string;
}

/** `collectd-<flavour>.conf`: the user's e3-home/config/ first, then e3's own. Throws E3_FILE_NOT_FOUND. */
export async function collectdConfig(home: string, role: NodeRole): Promise<CollectdConfig> {
  const flavour = flavourOf(role);
  const name = `collectd-${flavour}.conf`;
  const candidates = [join(home, 'config', name), ...(builtinHome() ? [join(builtinHome()!, 'config', name)] : [])];
  const file = candidates.find((c) => existsSync(c));
  if (!file) throw new E3Error('FILE_NOT_FOUND', `collectd config ${candidates[0]} does not exist`, { hint: `Copy e3's e3-home/config/${name} there` });
  const content = await readFile(file, 'utf8');
  return { flavour, file, content, sha256: createHash('sha256').update(content).digest('hex') };
}
