import { isE3Error, nodeDataDir } from '@e3/model';

import { probeAll, probeAndJudge, type NodesOptions } from './check.js';
import { planSetup, type SetupStep } from './plan.js';
import { DEFAULT_LIMITS, passes, type NodeRole, type Requirement } from './requirements.js';
import { collectdConfig } from './targets.js';

/** Options of {@link setupNodes}. */
export interface SetupOptions extends NodesOptions {
  /** Only plan: print the commands per node, change nothing. */
  dryRun?: boolean;
}

/** What setup planned and did on one node. */
export interface NodeSetup {
  node: string;
  instance: string;
  file: string;
  role: NodeRole;
  /** The steps, in order (uploads name their local file; content is not repeated). */
  steps: Array<Omit<SetupStep, 'upload'> & { upload?: { from: string; to: string } }>;
  /** What setup cannot fix (e.g. no SSH login, no sudo, a read-only mount); each says what to do. */
  problems: string[];
  /** Steps were run (false with --dry-run or when there was nothing to do). */
  applied: boolean;
  /** The failing step's error, when one failed (later steps were not run). */
  error?: { step: string; code: string; message: string };
  /** The requirements after setup (with --dry-run: as found). */
  requirements: Requirement[];
  /** Passes the check after setup (with --dry-run: has a plan without problems). */
  ok: boolean;
}

/** The outcome of {@link setupNodes}. */
export interface SetupResult {
  dryRun: boolean;
  /** Some node was changed. */
  changed: boolean;
  ok: boolean;
  nodes: NodeSetup[];
}

/**
 * Installs and configures what `checkNodes` finds missing, with each node's package manager (apt-get, dnf or
 * yum; `sudo -n` when not root): git, rsync and Node 20 on workers, collectd with e3's config of the node's
 * flavour (e3-home/config/collectd-{worker,bitbucket}.conf), started and enabled, and the data dir.
 * Idempotent: a node that has everything gets no step. `dryRun` plans only. Node problems are reported,
 * not thrown; throws E3_USAGE, E3_FILE_NOT_FOUND and E3_INVALID_FILE for bad arguments or files.
 */
export async function setupNodes(options: SetupOptions): Promise<SetupResult> {
  const { home, probed } = await probeAll({ ...options, withStatusUrl: false });
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const nodes = await Promise.all(
    probed.map(async (p): Promise<NodeSetup> => {
      const base = { node: p.node, instance: p.target.name, file: p.target.file, role: p.target.role };
      if (!p.handle || !p.probe) {
        const blocking = p.requirements.filter((r) => r.status !== 'ok' && r.status !== 'skipped');
        return { ...base, steps: [], problems: blocking.map((r) => `${r.id}: ${r.detail}${r.fix ? ` — fix: ${r.fix}` : ''}`), applied: false, requirements: p.requirements, ok: false };
      }
      const handle = p.handle;
      try {
        const config = await collectdConfig(home, p.target.role);
        const { steps, problems } = planSetup(p.probe, { role: p.target.role, dataDir: nodeDataDir(p.target.instance, p.node), collectd: { ...config, file: config.file }, limits });
        const shown = steps.map(({ upload, ...s }) => ({ ...s, ...(upload ? { upload: { from: upload.from, to: upload.to } } : {}) }));
        if (options.dryRun || (!steps.length && !problems.length)) {
          const ok = options.dryRun ? !problems.length : passes(p.requirements);
          return { ...base, steps: shown, problems, applied: false, requirements: p.requirements, ok };
        }
        let error: NodeSetup['error'];
        for (const step of steps) {
          options.log?.(`${p.node}: ${step.description}`);
          try {
            if (step.upload) await handle.putFile(step.upload.from, step.upload.to, { mode: 0o644, signal: options.signal });
            for (const command of step.commands) {
              await handle.exec(['sh', '-c', command], { check: true, timeoutMs: 15 * 60_000, signal: options.signal });
            }
          } catch (err) {
            if (!isE3Error(err)) throw err;
            error = { step: step.id, code: err.code, message: err.message };
            break;
          }
        }
        await handle.close();
        const after = await probeAndJudge({ target: p.target, node: p.node, config, insecureHostKeys: options.insecureHostKeys, limits, signal: options.signal, log: options.log });
        await after.handle?.close();
        return { ...base, steps: shown, problems, applied: true, ...(error ? { error } : {}), requirements: after.requirements, ok: !error && !problems.length && passes(after.requirements) };
      } finally {
        await handle.close();
      }
    }),
  );
  return { dryRun: !!options.dryRun, changed: nodes.some((n) => n.applied && n.steps.length > 0), ok: nodes.every((n) => n.ok), nodes };
}
