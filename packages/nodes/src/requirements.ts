import type { Probe } from './probe.js';

/** What a node is for: a load-generating worker, or a node of the system under test (Bitbucket). */
export type NodeRole = 'worker' | 'cluster';

/** Which of e3's collectd configs a node gets: `worker` for workers, `bitbucket` (adds JMX) for cluster nodes. */
export type CollectdFlavour = 'worker' | 'bitbucket';

/** The flavour of collectd config for a role. */
export function flavourOf(role: NodeRole): CollectdFlavour {
  return role === 'worker' ? 'worker' : 'bitbucket';
}

/** One requirement's outcome on one node. */
export interface Requirement {
  /** Stable id: ssh, host-key, node, git, data-dir, disk, clock, collectd, rsync, ssh-logins, restart, status-url, jmx. */
  id: string;
  /** `ok`; `missing` (not there); `wrong` (there but not usable as it is); `skipped` (does not apply, or could not be checked). */
  status: 'ok' | 'missing' | 'wrong' | 'skipped';
  /** What was found. */
  detail: string;
  /** What to do, when not ok: a command to run or a file to edit. */
  fix?: string;
  /** A recommendation only: not ok does not fail the node. */
  optional?: boolean;
}

/** Limits the checks hold nodes to. */
export interface Limits {
  /** Least free disk in the data dir's file system, MiB (default 2048). */
  minFreeMb: number;
  /** Largest clock offset against the controller, ms (default 1000): stage windows are cut by controller time. */
  maxClockOffsetMs: number;
  /** Oldest Node major version on workers (20). */
  minNodeMajor: number;
}

export const DEFAULT_LIMITS: Limits = { minFreeMb: 2048, maxClockOffsetMs: 1000, minNodeMajor: 20 };

/** What the node-side requirements are judged against. */
export interface NodeContext {
  role: NodeRole;
  dataDir: string;
  /** `e3 nodes setup -i <ref>`: the fix for what setup fixes. */
  setupCommand: string;
  /** sha256 of e3's collectd config of the node's flavour. */
  collectdSha: string;
  /** The repo file of that config, for messages. */
  collectdFile: string;
  /** The restart command when the instance resets by restart (cluster nodes). */
  restartCommand?: string;
  /** Outcome of `sudo -n -l <command>` (or `command -v`) for the restart command. */
  restartAllowed?: boolean;
  jmxPort?: number;
  clock?: { offsetMs: number; uncertaintyMs: number };
  limits: Limits;
}

const ok = (id: string, detail: string, extra: Partial<Requirement> = {}): Requirement => ({ id, status: 'ok', detail, ...extra });

/** Node-side requirements from a probe (SSH, host key and the status URL are judged by the caller). */
export function evaluateProbe(p: Probe, ctx: NodeContext): Requirement[] {
  const out: Requirement[] = [];
  const setup = ctx.setupCommand;
  const worker = ctx.role === 'worker';

  if (worker) {
    const major = p.node ? Number(/^v?(\d+)/.exec(p.node)?.[1]) : undefined;
    if (major === undefined) out.push({ id: 'node', status: 'missing', detail: 'node is not on the PATH', fix: `${setup} (installs Node ${ctx.limits.minNodeMajor})` });
    else if (!(major >= ctx.limits.minNodeMajor)) out.push({ id: 'node', status: 'wrong', detail: `node ${p.node} is older than ${ctx.limits.minNodeMajor}`, fix: `${setup} (installs Node ${ctx.limits.minNodeMajor})` });
    else out.push(ok('node', `node ${p.node}`));
    out.push(p.git ? ok('git', p.git) : { id: 'git', status: 'missing', detail: 'git is not on the PATH', fix: `${setup} (installs git)` });
  }

  const dd = ctx.dataDir;
  if (p.dataDir === 'writable') out.push(ok('data-dir', `${dd} is writable by ${p.user}`));
  else if (p.dataDir === 'creatable') out.push({ id: 'data-dir', status: 'missing', detail: `${dd} does not exist (its parent is writable)`, fix: `${setup} (creates it), or: mkdir -p ${dd}` });
  else if (p.dataDir === 'readonly') out.push({ id: 'data-dir', status: 'wrong', detail: `${dd} exists but ${p.user} cannot write to it`, fix: `sudo chown -R ${p.user} ${dd} (or mount it read-write), or set "dataDir" in the instance file to a writable folder` });
  else out.push({ id: 'data-dir', status: 'missing', detail: `${dd} does not exist and ${p.user} cannot create it`, fix: `${setup} (creates it with sudo), or: sudo mkdir -p ${dd} && sudo chown ${p.user} ${dd}` });

  if (p.freeKb === undefined) out.push({ id: 'disk', status: 'skipped', detail: `df gave no free space for ${dd}` });
  else {
    const mb = Math.floor(p.freeKb / 1024);
    out.push(
      mb >= ctx.limits.minFreeMb
        ? ok('disk', `${mb} MiB free for ${dd}`)
        : { id: 'disk', status: 'wrong', detail: `${mb} MiB free for ${dd}, less than ${ctx.limits.minFreeMb} MiB`, fix: `free space on the file system of ${dd}, or set "dataDir" in the instance file to a larger one` },
    );
  }

  if (!ctx.clock || !Number.isFinite(ctx.clock.offsetMs)) out.push({ id: 'clock', status: 'skipped', detail: 'the node did not answer `date +%s%N`' });
  else {
    const { offsetMs, uncertaintyMs } = ctx.clock;
    const detail = `offset ${offsetMs >= 0 ? '+' : ''}${offsetMs} ms ± ${uncertaintyMs} ms against the controller`;
    out.push(
      Math.abs(offsetMs) - uncertaintyMs <= ctx.limits.maxClockOffsetMs
        ? ok('clock', detail)
        : { id: 'clock', status: 'wrong', detail: `${detail} (limit ${ctx.limits.maxClockOffsetMs} ms; stage windows are cut by the controller's clock)`, fix: 'sync the clocks of the node and the controller: install and enable chrony (or systemd-timesyncd) on both' },
    );
  }

  const flavour = flavourOf(ctx.role);
  if (!p.collectdBin) out.push({ id: 'collectd', status: 'missing', detail: 'collectd is not installed', fix: `${setup} (installs collectd with ${ctx.collectdFile})` });
  else if (!p.collectdPid) out.push({ id: 'collectd', status: 'missing', detail: `collectd is installed (${p.collectdBin}) but not running`, fix: `${setup} (installs ${ctx.collectdFile} and starts collectd)` });
  else if (p.collectdConfigSha !== ctx.collectdSha) {
    const what = p.collectdMarker ? `an e3 config (${p.collectdMarker}) that differs from ${ctx.collectdFile}` : p.collectdConfigSha ? 'a config that is not e3’s' : 'an unreadable config';
    out.push({ id: 'collectd', status: 'wrong', detail: `collectd (pid ${p.collectdPid}) runs with ${p.collectdConfig}: ${what}`, fix: `${setup} (installs the ${flavour} config and restarts collectd)` });
  } else out.push(ok('collectd', `collectd (pid ${p.collectdPid}) runs with e3's ${flavour} config ${p.collectdConfig}`));

  out.push(
    p.rsync
      ? ok('rsync', 'rsync is on the PATH (gather uses it)', { optional: true })
      : { id: 'rsync', status: 'missing', detail: 'rsync is not on the PATH: gather falls back to SFTP (slower)', fix: `${setup} (installs rsync)`, optional: true },
  );

  out.push(sshLogins(p));

  if (!worker) {
    if (ctx.restartCommand === undefined) out.push({ id: 'restart', status: 'skipped', detail: 'the instance does not reset by restart' });
    else if (ctx.restartAllowed) out.push(ok('restart', `\`${ctx.restartCommand}\` may run without a password`));
    else {
      const sudo = /^\s*sudo\s/.test(ctx.restartCommand);
      out.push({
        id: 'restart',
        status: 'wrong',
        detail: sudo ? `\`${ctx.restartCommand}\` needs a password (sudo -n -l refused it)` : `\`${ctx.restartCommand}\` is not a command on the node`,
        fix: sudo
          ? `allow it without a password, e.g. \`echo '${p.user} ALL=(root) NOPASSWD: ${ctx.restartCommand.replace(/^\s*sudo\s+/, '').replace(/^(\S+)/, '/usr/sbin/$1')}' | sudo tee /etc/sudoers.d/e3-restart\` (use the command's full path)`
          : 'set "restartCommand" in the instance file to a command that restarts Bitbucket on the node',
      });
    }
    if (ctx.jmxPort !== undefined) {
      out.push(
        p.jmxOpen
          ? ok('jmx', `JMX answers on 127.0.0.1:${ctx.jmxPort}`)
          : {
              id: 'jmx',
              status: 'missing',
              detail: `nothing listens on 127.0.0.1:${ctx.jmxPort} (collectd's GenericJMX reads Bitbucket's MBeans there)`,
              fix: `enable JMX in Bitbucket (JMX_REMOTE_PORT=${ctx.jmxPort}, see https://confluence.atlassian.com/bitbucketserver/enabling-jmx-counters-for-performance-monitoring-776640189.html) and restart it`,
            },
      );
    }
  }
  return out;
}

/**
 * A warning (optional: it does not fail the node) when sshd accepts password logins or root logins: a
 * machine holding a copy of your repositories should take keys only, and no root.
 */
export function sshLogins(p: Probe): Requirement {
  const id = 'ssh-logins';
  if (!p.sshd) return { id, status: 'skipped', detail: 'sshd settings not readable (no `sshd -T` and no /etc/ssh/sshd_config)', optional: true };
  const { passwordAuthentication: pw, permitRootLogin: root, source } = p.sshd;
  const bad = [
    ...(pw !== undefined && pw !== 'no' ? [`password logins (PasswordAuthentication ${pw})`] : []),
    ...(root !== undefined && root !== 'no' ? [`root logins (PermitRootLogin ${root})`] : []),
  ];
  if (bad.length === 0) return ok(id, `sshd takes neither password nor root logins (${source})`, { optional: true });
  return {
    id,
    status: 'wrong',
    detail: `sshd accepts ${bad.join(' and ')} (${source})`,
    fix: "set `PasswordAuthentication no` and `PermitRootLogin no` in /etc/ssh/sshd_config (or a file in /etc/ssh/sshd_config.d/), then `sudo systemctl reload ssh`",
    optional: true,
  };
}

/** Whether a node passes: every requirement that is not optional is ok or skipped. */
export function passes(requirements: readonly Requirement[]): boolean {
  return requirements.every((r) => r.optional || r.status === 'ok' || r.status === 'skipped');
}
