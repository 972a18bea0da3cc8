import { shellQuote } from '@e3/remote';

import { defaultCollectdConfig, type Probe } from './probe.js';
import type { Limits, NodeRole } from './requirements.js';

/** The Node version setup installs where a worker has none (or one older than 20). */
export const NODE_VERSION = '20.18.1';

/** One setup step on one node: the exact shell commands, run in order with `sh -c`. */
export interface SetupStep {
  /** The requirement it fixes: git, node, rsync, collectd-package, collectd-config, collectd-start, data-dir. */
  id: string;
  description: string;
  /** Upload this local file to `to` on the node before the commands run. */
  upload?: { from: string; to: string; content: string };
  commands: string[];
}

/** What a node needs from setup (from its probe), besides the probe itself. */
export interface PlanContext {
  role: NodeRole;
  dataDir: string;
  /** e3's collectd config of the node's flavour. */
  collectd: { file: string; content: string; sha256: string; flavour: string };
  limits: Pick<Limits, 'minNodeMajor'>;
}

function packagesFor(pm: NonNullable<Probe['packageManager']>, what: 'git' | 'rsync' | 'collectd' | 'node-tools', role: NodeRole): string[] {
  if (what === 'git') return ['git'];
  if (what === 'rsync') return ['rsync'];
  if (what === 'node-tools') return pm === 'apt-get' ? ['curl', 'xz-utils', 'ca-certificates'] : ['curl', 'xz', 'ca-certificates'];
  // collectd-core holds the daemon and every plugin e3's configs load (java, GenericJMX jar included); the
  // rrdtool plugin needs librrd. RHEL-likes split the plugins into packages (EPEL).
  if (pm === 'apt-get') return ['collectd-core', 'librrd8'];
  return ['collectd', 'collectd-rrdtool', ...(role === 'cluster' ? ['collectd-java', 'collectd-generic-jmx'] : [])];
}

function installCommand(pm: NonNullable<Probe['packageManager']>, pkgs: string[], sudo: string): string {
  const list = pkgs.join(' ');
  if (pm === 'apt-get') {
    const install = `${sudo}env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${list}`;
    return `${install} || { ${sudo}apt-get update && ${install}; }`;
  }
  return `${sudo}${pm} install -y ${list}`;
}

/**
 * The steps that bring a probed node to e3's requirements; empty when it has them all (so a second setup
 * changes nothing). Pure: the same probe gives the same plan, which `--dry-run` prints.
 */
export function planSetup(p: Probe, ctx: PlanContext): { steps: SetupStep[]; problems: string[] } {
  const steps: SetupStep[] = [];
  const problems: string[] = [];
  const sudo = p.uid === 0 ? '' : 'sudo -n ';
  if (p.uid !== 0 && !p.sudo) problems.push(`${p.user} is not root and sudo is missing: install sudo and allow ${p.user} to use it without a password`);
  const pm = p.packageManager;
  const worker = ctx.role === 'worker';
  const major = p.node ? Number(/^v?(\d+)/.exec(p.node)?.[1]) : undefined;
  const needNode = worker && !(major !== undefined && major >= ctx.limits.minNodeMajor);
  const wanted: string[] = [];
  if (worker && !p.git) wanted.push(...(pm ? packagesFor(pm, 'git', ctx.role) : ['git']));
  if (!p.rsync) wanted.push(...(pm ? packagesFor(pm, 'rsync', ctx.role) : ['rsync']));
  if (needNode) wanted.push(...(pm ? packagesFor(pm, 'node-tools', ctx.role) : []));
  const conf = defaultCollectdConfig(pm);
  const configPath = p.collectdPid ? p.collectdConfig : conf;
  const configOk = p.collectdConfigSha === ctx.collectd.sha256;

  if (!configOk) {
    const tmp = `/tmp/e3-collectd-${ctx.collectd.flavour}.conf`;
    steps.push({
      id: 'collectd-config',
      description: `install e3's ${ctx.collectd.flavour} collectd config (${ctx.collectd.file}) as ${configPath}`,
      upload: { from: ctx.collectd.file, to: tmp, content: ctx.collectd.content },
      commands: [
        `${sudo}mkdir -p ${shellQuote(configPath.replace(/\/[^/]+$/, ''))} /var/lib/collectd/csv /var/lib/collectd/rrd`,
        ...(p.collectdConfigSha ? [`${sudo}cp -p ${shellQuote(configPath)} ${shellQuote(`${configPath}.before-e3`)}`] : []),
        `${sudo}install -m 0644 ${tmp} ${shellQuote(configPath)}`,
        `rm -f ${tmp}`,
      ],
    });
  }
  if (!p.collectdBin) wanted.push(...(pm ? packagesFor(pm, 'collectd', ctx.role) : ['collectd']));
  if (wanted.length) {
    if (!pm) problems.push(`no apt-get, dnf or yum on the node: install ${wanted.join(', ')} by hand`);
    else steps.push({ id: 'packages', description: `install ${wanted.join(', ')} with ${pm}`, commands: [installCommand(pm, wanted, sudo)] });
  }
  if (needNode) {
    steps.push({
      id: 'node',
      description: `install Node ${NODE_VERSION} from nodejs.org into /usr/local (${p.node ? `found ${p.node}` : 'none found'})`,
      commands: [
        `arch=$(uname -m); case "$arch" in x86_64) a=x64;; aarch64) a=arm64;; *) echo "no Node build for $arch" >&2; exit 1;; esac; curl -fsSL "https://nodejs.org/dist/v${NODE_VERSION}/node-v${NODE_VERSION}-linux-$a.tar.xz" | ${sudo}tar -xJ -C /usr/local --strip-components=1`,
        '/usr/local/bin/node --version',
      ],
    });
  }
  if (!configOk || !p.collectdPid) {
    steps.push({
      id: 'collectd-start',
      description: p.collectdPid ? 'restart collectd with the new config' : 'start collectd (and enable it at boot where systemd runs)',
      commands: [
        `if [ -d /run/systemd/system ]; then ${sudo}systemctl enable collectd && ${sudo}systemctl restart collectd; elif [ -x /etc/init.d/collectd ]; then ${sudo}/etc/init.d/collectd restart; else ${sudo}sh -c 'if [ -r /var/run/collectd.pid ]; then kill $(cat /var/run/collectd.pid) 2>/dev/null; sleep 1; fi; PATH="$PATH:/usr/sbin:/sbin" collectd -C ${shellQuote(configPath)}'; fi`,
        'i=0; until pidof collectd >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 50 ] && { echo "collectd did not start; see /var/log/collectd.log" >&2; exit 1; }; sleep 0.2; done',
      ],
    });
  }
  if (p.dataDir === 'creatable') steps.push({ id: 'data-dir', description: `create ${ctx.dataDir}`, commands: [`mkdir -p ${shellQuote(ctx.dataDir)}`] });
  else if (p.dataDir === 'blocked' || p.dataDir === 'readonly') {
    if (p.dataDir === 'readonly' && p.uid === 0) problems.push(`${ctx.dataDir} is not writable even by root (a read-only mount?): remount it read-write or set "dataDir" to another folder`);
    else {
      steps.push({
        id: 'data-dir',
        description: `${p.dataDir === 'blocked' ? 'create' : 'take over'} ${ctx.dataDir} for ${p.user}`,
        commands: [`${sudo}mkdir -p ${shellQuote(ctx.dataDir)}`, `${sudo}chown ${shellQuote(p.user)} ${shellQuote(ctx.dataDir)}`],
      });
    }
  }
  return { steps, problems };
}
