import { existsSync } from 'node:fs';
import { cp, mkdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';

import { E3Error, findHomeFile, homeFilePath, nodeCollectdCsvDir, type Instance } from '@e3/model';
import type { DeletedResource, Provider, ProviderContext, ProvisionedParts, ProvisionRequest } from '@e3/provision';
import { keygen } from '@e3/snapshot';
import { seedTarget, startDetachedTarget, stopTarget } from '@e3/target';

/** Dataset sizes of a local target, from `instance.settings` of the experiment thread. */
interface LocalSettings {
  projects: number;
  repos: number;
  users: number;
  commits: number;
  files: number;
  fileKb: number;
  maxGitOps?: number;
  gitLatencyMs?: number;
  adminPassword: string;
}

const DEFAULTS: LocalSettings = { projects: 2, repos: 3, users: 20, commits: 20, files: 20, fileKb: 4, adminPassword: 'admin' };

function settingsOf(req: ProvisionRequest): LocalSettings {
  const s = req.thread.instance.settings ?? {};
  const num = (key: keyof LocalSettings): number | undefined => {
    const v = s[key];
    if (v === undefined) return undefined;
    const min = key === 'gitLatencyMs' ? 0 : 1;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      throw new E3Error('INVALID_FILE', `threads[${req.index}].instance.settings.${key}: must be a whole number ≥ ${min}; got ${JSON.stringify(v)}`, {
        hint: 'Edit the experiment file',
      });
    }
    return v;
  };
  return {
    projects: num('projects') ?? DEFAULTS.projects,
    repos: num('repos') ?? DEFAULTS.repos,
    users: num('users') ?? DEFAULTS.users,
    commits: num('commits') ?? DEFAULTS.commits,
    files: num('files') ?? DEFAULTS.files,
    fileKb: num('fileKb') ?? DEFAULTS.fileKb,
    ...(num('maxGitOps') !== undefined ? { maxGitOps: num('maxGitOps') } : {}),
    ...(num('gitLatencyMs') !== undefined ? { gitLatencyMs: num('gitLatencyMs') } : {}),
    adminPassword: typeof s.adminPassword === 'string' ? s.adminPassword : DEFAULTS.adminPassword,
  };
}

const targetsDir = (home: string) => join(home, 'tmp', 'local-targets');

/**
 * The `local` provider: the system under test is an `@e3/target` on this machine, the workers are
 * `localhost`. The snapshot named by the thread is seeded once (with a key pool of the same name) into
 * `e3-home/tmp/local-targets/<snapshot>/`; each thread gets its own copy of that data, its own free ports
 * and its own settings (e.g. `maxGitOps`), started detached. Deprovision stops the targets and removes
 * their copies; the seeded base stays for the next run.
 */
export function localProvider(): Provider {
  return {
    name: 'local',
    async preflight(req) {
      settingsOf(req);
      if (!req.thread.instance.snapshot && req.parts.includes('instance')) {
        throw new E3Error('INVALID_FILE', `threads[${req.index}].instance.snapshot: the local target needs a snapshot name to seed`, {
          hint: 'Add "snapshot": "local-small" (any name) to the thread\'s instance in the experiment',
        });
      }
    },
    async provision(req, ctx) {
      const out: ProvisionedParts = {};
      const label = `thread-${String(req.index + 1).padStart(3, '0')}`;
      if (req.parts.includes('worker')) out.worker = { Name: `local-workers-${ctx.run}-${label}`, ClusterNodes: ['localhost'] } as Instance;
      if (!req.parts.includes('instance')) return out;

      const settings = settingsOf(req);
      const snapshot = req.thread.instance.snapshot!;
      const base = join(targetsDir(ctx.home), snapshot);
      await ctx.once(`seed:${snapshot}`, () => seedBase(ctx, snapshot, base, settings));
      const data = join(targetsDir(ctx.home), ctx.run, label);
      const name = `local-${ctx.run}-${label}`;
      const started = await ctx.ledger.track(
        'local',
        'create',
        { type: 'target', name, id: data },
        async () => {
          await rm(data, { recursive: true, force: true });
          await mkdir(join(data, '..'), { recursive: true });
          await cp(base, data, { recursive: true });
          await rm(join(data, 'log'), { recursive: true, force: true });
          await rm(nodeCollectdCsvDir(data), { recursive: true, force: true });
          return startDetachedTarget({
            data,
            httpPort: 0,
            sshPort: 0,
            adminPassword: settings.adminPassword,
            ...(settings.maxGitOps ? { maxGitOps: settings.maxGitOps } : {}),
            ...(settings.gitLatencyMs ? { gitLatencyMs: settings.gitLatencyMs } : {}),
          });
        },
        () => data,
      );
      ctx.log(`${label}: local target at ${started.url} (ssh port ${started.sshPort}${settings.maxGitOps ? `, ${settings.maxGitOps} git ops at once` : ''})`);
      out.instance = {
        Name: name,
        ClusterNodes: ['localhost'],
        URL: started.url,
        SshPort: started.sshPort,
        snapshot,
        RunConfig: { admin_password: settings.adminPassword },
        reset: 'restore',
        healthTimeoutMs: 60_000,
        logDirs: [join(data, 'log')],
        // The target writes its JMX-style series to nodeCollectdCsvDir(data), where gather looks.
        dataDir: data,
      } as Instance;
      return out;
    },
    async deprovision(resources, ctx) {
      const done: DeletedResource[] = [];
      for (const resource of resources) {
        const data = resource.id;
        try {
          await ctx.ledger.track('local', 'delete', resource, async () => {
            if (data && existsSync(data)) {
              await stopTarget({ data });
              await rm(data, { recursive: true, force: true });
            }
            // The run's folder goes once its last target is gone.
            if (data) await rmdir(join(data, '..')).catch(() => undefined);
          });
          done.push({ provider: 'local', resource, ok: true });
        } catch (err) {
          done.push({ provider: 'local', resource, ok: false, error: (err as Error).message });
        }
      }
      return done;
    },
  };
}

/** Seeds the base dataset once: a key pool `keys/<snapshot>.json`, then `snapshots/<snapshot>.json` and the data. */
async function seedBase(ctx: ProviderContext, snapshot: string, base: string, s: LocalSettings): Promise<void> {
  const ready = existsSync(join(base, 'target.db')) && findHomeFile(ctx.home, 'snapshot', snapshot);
  if (ready) return;
  const keys = homeFilePath(ctx.home, 'keys', snapshot);
  if (!existsSync(keys)) await keygen({ home: ctx.home, name: snapshot, count: s.users, log: ctx.log });
  ctx.log(`seeding local target data "${snapshot}": ${s.projects} projects × ${s.repos} repos, ${s.users} users …`);
  await seedTarget({
    data: base,
    home: ctx.home,
    name: snapshot,
    projects: s.projects,
    repos: s.repos,
    users: s.users,
    keys,
    commits: s.commits,
    files: s.files,
    fileKb: s.fileKb,
    adminPassword: s.adminPassword,
    force: true,
    log: ctx.log,
  });
}
