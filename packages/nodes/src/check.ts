import { isE3Error, nodeDataDir, resolveHome, type Instance } from '@e3/model';
import { connectNode, fingerprint, instanceConnectOptions, instanceKeyFile, shellQuote, type NodeHandle } from '@e3/remote';

import { clockOffset, probeNode, type Probe } from './probe.js';
import { DEFAULT_LIMITS, evaluateProbe, passes, type Limits, type NodeRole, type Requirement } from './requirements.js';
import { collectdConfig, resolveTargets, type CollectdConfig, type InstanceTarget } from './targets.js';

/** E³'s restart command, used when the instance resets by restart and names none. */
export const DEFAULT_RESTART_COMMAND = 'sudo service atlbitbucket restart';

/** Options of {@link checkNodes} and {@link setupNodes}. */
export interface NodesOptions {
  /** Instance files: names in e3-home/instances, or paths. */
  instances?: string[];
  /** An experiment: every instance and worker stack its threads name. */
  experiment?: string;
  /** The role of the `instances` nodes, when the file does not tell (a URL means cluster nodes). */
  role?: NodeRole;
  home?: string;
  cwd?: string;
  /** Skip host-key checks (`--insecure-host-keys`). */
  insecureHostKeys?: boolean;
  limits?: Partial<Limits>;
  signal?: AbortSignal;
  log?(message: string): void;
}

/** Everything checked on one node. */
export interface NodeReport {
  node: string;
  /** Instance name and file the node comes from. */
  instance: string;
  file: string;
  role: NodeRole;
  /** Every requirement passed (optional ones aside). */
  ok: boolean;
  requirements: Requirement[];
}

/** The outcome of {@link checkNodes}. */
export interface CheckResult {
  ok: boolean;
  nodes: NodeReport[];
}

/** The reset mode's restart command of an instance, or undefined when it does not reset by restart. */
export function restartCommandOf(instance: Instance): string | undefined {
  const mode = instance.reset ?? (instance.restartCommand || instance.StackId ? 'restart' : 'none');
  return mode === 'restart' ? (instance.restartCommand ?? DEFAULT_RESTART_COMMAND) : undefined;
}

/** The JMX port an instance declares (`JmxPort`), checked on its cluster nodes. */
export function jmxPortOf(instance: Instance): number | undefined {
  return instance.JmxPort;
}

/** GET the instance's health URL (`healthUrl`, else `<URL>/status`) once. */
export async function checkStatusUrl(instance: Instance, name: string, signal?: AbortSignal): Promise<Requirement> {
  if (!instance.URL && !instance.healthUrl) return { id: 'status-url', status: 'missing', detail: 'the instance file has no URL', fix: `add "URL": "http://bitbucket:7990" to e3-home/instances/${name}.json` };
  const url = instance.healthUrl ?? `${instance.URL!.replace(/\/+$/, '')}/status`;
  try {
    const res = await fetch(url, { signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(10_000)]) : AbortSignal.timeout(10_000) });
    const body = await res.text();
    let state: unknown;
    try {
      state = (JSON.parse(body) as { state?: unknown }).state;
    } catch {
      state = undefined;
    }
    if (res.ok && state === 'RUNNING') return { id: 'status-url', status: 'ok', detail: `${url} answers {"state":"RUNNING"}` };
    return { id: 'status-url', status: 'wrong', detail: `${url} answered HTTP ${res.status} ${body.slice(0, 80).replace(/\s+/g, ' ')}`, fix: `start Bitbucket, or fix "URL"/"healthUrl" in ${name}.json` };
  } catch (err) {
    return { id: 'status-url', status: 'missing', detail: `${url} did not answer: ${(err as Error).message}`, fix: `start Bitbucket, or fix "URL"/"healthUrl" in ${name}.json (the controller must reach it)` };
  }
}

/** A node reached and probed: the handle is open until `close`. */
export interface ProbedNode {
  target: InstanceTarget;
  node: string;
  handle?: NodeHandle;
  probe?: Probe;
  /** SSH and host-key requirements, plus everything judged from the probe. */
  requirements: Requirement[];
}

/** Connects to one node, probes it and judges every requirement. Never throws for the node's problems. */
export async function probeAndJudge(options: {
  target: InstanceTarget;
  node: string;
  config: CollectdConfig;
  statusUrl?: Requirement;
  insecureHostKeys?: boolean;
  limits: Limits;
  signal?: AbortSignal;
  log?(message: string): void;
}): Promise<ProbedNode> {
  const { target, node } = options;
  const setupCommand = `e3 nodes setup -i ${target.ref}`;
  const requirements: Requirement[] = [];
  const local = node === 'localhost';
  const pinnedBefore = target.instance.HostKeys?.[node];
  let handle: NodeHandle;
  try {
    const conn = await instanceConnectOptions(target.file, {
      insecure: options.insecureHostKeys,
      onPinned: (n, fp) => options.log?.(`pinned ${n} ${fp} in ${target.file}`),
    });
    handle = await connectNode({ node, ...conn.options(node), readyTimeoutMs: 15_000, signal: options.signal });
  } catch (err) {
    if (!isE3Error(err)) throw err;
    if (err.code === 'E3_HOST_KEY_MISMATCH') {
      requirements.push({ id: 'ssh', status: 'skipped', detail: 'not tried: the host key is wrong' });
      requirements.push({
        id: 'host-key',
        status: 'wrong',
        detail: err.message,
        fix: `if ${node} was rebuilt on purpose, delete "HostKeys"."${node}" from ${target.file} and run \`e3 nodes check -i ${target.ref}\` again (it pins the new key)`,
      });
    } else {
      const fix = err.message.startsWith('cannot read the private key')
        ? `put the node's private key at ${instanceKeyFile(target.file, target.instance)} (mode 0600), or set "KeyFile" in ${target.file}`
        : err.code === 'E3_NODE_AUTH'
          ? `authorize the public key of ${target.instance.KeyFile ?? `${target.name}.pem`} for the user of ${node} (~/.ssh/authorized_keys), or set "KeyFile" in ${target.file}`
          : `start sshd on ${node} and open port 22 from the controller; check the host name in ${target.file}`;
      requirements.push({ id: 'ssh', status: 'missing', detail: err.message, fix });
    }
    return { target, node, requirements };
  }
  requirements.push({ id: 'ssh', status: 'ok', detail: local ? 'localhost: local processes, no SSH' : `logged in as ${node.split('@')[0]} with ${target.instance.KeyFile ?? `${target.name}.pem`}` });
  if (local) requirements.push({ id: 'host-key', status: 'skipped', detail: 'localhost has no host key' });
  else if (options.insecureHostKeys) requirements.push({ id: 'host-key', status: 'skipped', detail: 'not checked (--insecure-host-keys)' });
  else if (handle.hostKey) {
    requirements.push({ id: 'host-key', status: 'ok', detail: `${pinnedBefore ? 'matches the pinned key' : `pinned now in ${target.file}`} ${fingerprint(handle.hostKey)}` });
  }

  try {
    const dataDir = nodeDataDir(target.instance, node);
    const restartCommand = target.role === 'cluster' ? restartCommandOf(target.instance) : undefined;
    const jmxPort = target.role === 'cluster' ? jmxPortOf(target.instance) : undefined;
    const probe = await probeNode(handle, { dataDir, ...(jmxPort ? { jmxPort } : {}), signal: options.signal });
    const clock = local ? { offsetMs: 0, uncertaintyMs: 0 } : await clockOffset(handle, options.signal);
    let restartAllowed: boolean | undefined;
    if (restartCommand !== undefined) {
      const sudo = /^\s*sudo\s+(.*)$/.exec(restartCommand);
      const probeCmd = sudo ? `sudo -n -l ${sudo[1]}` : `command -v ${shellQuote(restartCommand.trim().split(/\s+/)[0]!)}`;
      restartAllowed = (await handle.exec(['sh', '-c', `${probeCmd} >/dev/null 2>&1`], { timeoutMs: 15_000, signal: options.signal })).code === 0;
    }
    requirements.push(
      ...evaluateProbe(probe, {
        role: target.role,
        dataDir,
        setupCommand,
        collectdSha: options.config.sha256,
        collectdFile: `e3-home/config/collectd-${options.config.flavour}.conf`,
        ...(restartCommand !== undefined ? { restartCommand, restartAllowed } : {}),
        ...(jmxPort ? { jmxPort } : {}),
        clock,
        limits: options.limits,
      }),
    );
    if (options.statusUrl) requirements.push(options.statusUrl);
    return { target, node, handle, probe, requirements };
  } catch (err) {
    await handle.close();
    if (!isE3Error(err)) throw err;
    requirements.push({ id: 'probe', status: 'wrong', detail: err.message, fix: `make \`sh\` (POSIX shell, coreutils, df) work for the SSH user of ${node}` });
    return { target, node, requirements };
  }
}

/** Probes every node of the targets in parallel; callers close the handles. */
export async function probeAll(options: NodesOptions & { withStatusUrl: boolean }): Promise<{ home: string; probed: ProbedNode[] }> {
  const cwd = options.cwd ?? process.cwd();
  const home = resolveHome({ home: options.home, cwd });
  const targets = await resolveTargets({ home, cwd, instances: options.instances, experiment: options.experiment, role: options.role });
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const probed = await Promise.all(
    targets.map(async (target) => {
      const config = await collectdConfig(home, target.role);
      const statusUrl = options.withStatusUrl && target.role === 'cluster' ? await checkStatusUrl(target.instance, target.name, options.signal) : undefined;
      return Promise.all(
        target.instance.ClusterNodes.map((node) =>
          probeAndJudge({ target, node, config, ...(statusUrl ? { statusUrl } : {}), insecureHostKeys: options.insecureHostKeys, limits, signal: options.signal, log: options.log }),
        ),
      );
    }),
  );
  return { home, probed: probed.flat() };
}

/**
 * Checks every node of the named instance files (or of an experiment's stacks): SSH login with the file's
 * key, the pinned host key, Node ≥ 20 and git (workers), a writable data dir, free disk, clock offset,
 * collectd running with e3's config, rsync, the restart command without a password and the status URL
 * (cluster nodes), JMX where `JmxPort` is set. Changes nothing on the nodes; pins a host key on first
 * contact (as every e3 command does). Node problems are reported, not thrown; throws E3_USAGE,
 * E3_FILE_NOT_FOUND and E3_INVALID_FILE for bad arguments or files.
 */
export async function checkNodes(options: NodesOptions): Promise<CheckResult> {
  const { probed } = await probeAll({ ...options, withStatusUrl: true });
  await Promise.all(probed.map((p) => p.handle?.close()));
  const nodes = probed.map((p) => ({ node: p.node, instance: p.target.name, file: p.target.file, role: p.target.role, ok: passes(p.requirements), requirements: p.requirements }));
  return { ok: nodes.every((n) => n.ok), nodes };
}
