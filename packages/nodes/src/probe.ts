import { shellQuote, type NodeHandle } from '@e3/remote';

/** What one POSIX-sh pass over a node found; every field is read-only observation, nothing is changed. */
export interface Probe {
  uid: number;
  user: string;
  /** `git version 2.39.5`, when git is on the PATH. */
  git?: string;
  /** `v20.20.2`, when node is on the PATH. */
  node?: string;
  rsync: boolean;
  sudo: boolean;
  systemd: boolean;
  /** The package manager: the first of apt-get, dnf, yum on the PATH. */
  packageManager?: 'apt-get' | 'dnf' | 'yum';
  /** The data dir: writable (exists, a file can be created), readonly (exists, cannot write), creatable (absent, parent writable), blocked (absent, parent not writable). */
  dataDir: 'writable' | 'readonly' | 'creatable' | 'blocked';
  /** Free space (KiB) on the file system holding the data dir (or its nearest existing parent). */
  freeKb?: number;
  /** Path of the collectd binary, when installed. */
  collectdBin?: string;
  /** Pid of a running collectd. */
  collectdPid?: number;
  /** The config file collectd runs with (its -C), or the distribution's default path. */
  collectdConfig: string;
  /** sha256 of that file, when readable. */
  collectdConfigSha?: string;
  /** Its `# e3-collectd-config: <flavour> <version>` marker, when present. */
  collectdMarker?: string;
  /** Whether 127.0.0.1:<jmxPort> accepted a TCP connection (when a port was asked for). */
  jmxOpen?: boolean;
  /** sshd's login settings, from `sshd -T` (needs root: tried with `sudo -n`) or else /etc/ssh/sshd_config. */
  sshd?: SshdLogins;
}

/** What sshd lets in: lower-case values as sshd prints them; absent when the source does not say. */
export interface SshdLogins {
  source: 'sshd -T' | 'sshd_config';
  passwordAuthentication?: string;
  permitRootLogin?: string;
}

/**
 * The login settings from `sshd -T` output or sshd_config text: the first value of each keyword wins
 * (sshd's rule), `Match` blocks are not global and are skipped. For sshd_config, unset keywords take
 * OpenSSH's defaults (password logins yes, root logins prohibit-password).
 */
export function parseSshdLogins(text: string, source: SshdLogins['source']): SshdLogins {
  const found: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [key, value = ''] = line.split(/[\s=]+/, 2);
    const k = key!.toLowerCase();
    if (k === 'match') break;
    if ((k === 'passwordauthentication' || k === 'permitrootlogin') && !(k in found)) found[k] = value.toLowerCase();
  }
  const defaults: Record<string, string> = source === 'sshd_config' ? { passwordauthentication: 'yes', permitrootlogin: 'prohibit-password' } : {};
  const all: Record<string, string> = { ...defaults, ...found };
  return { source, ...(all.passwordauthentication ? { passwordAuthentication: all.passwordauthentication } : {}), ...(all.permitrootlogin ? { permitRootLogin: all.permitrootlogin } : {}) };
}

/** The distribution's collectd config path: Debian/Ubuntu keep it in /etc/collectd/, RHEL-likes in /etc/. */
export function defaultCollectdConfig(packageManager: Probe['packageManager']): string {
  return packageManager === 'apt-get' ? '/etc/collectd/collectd.conf' : '/etc/collectd.conf';
}

/** The probe script: POSIX sh, one `key=value` per line, changes nothing on the node. */
export function probeScript(dataDir: string, jmxPort?: number): string {
  const d = shellQuote(dataDir);
  return [
    'PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin"',
    'echo "uid=$(id -u)"; echo "user=$(id -un)"',
    'command -v git >/dev/null 2>&1 && echo "git=$(git --version 2>/dev/null | head -n 1)"',
    'command -v node >/dev/null 2>&1 && echo "node=$(node --version 2>/dev/null)"',
    'command -v rsync >/dev/null 2>&1 && echo rsync=1',
    'command -v sudo >/dev/null 2>&1 && echo sudo=1',
    '[ -d /run/systemd/system ] && echo systemd=1',
    'for pm in apt-get dnf yum; do if command -v $pm >/dev/null 2>&1; then echo "pm=$pm"; break; fi; done',
    `D=${d}`,
    'if [ -d "$D" ]; then t="$D/.e3-check-$$"; if ( : > "$t" ) 2>/dev/null; then rm -f "$t"; echo datadir=writable; else echo datadir=readonly; fi; E="$D";',
    'else E=$(dirname "$D"); while [ ! -d "$E" ]; do E=$(dirname "$E"); done; if [ -w "$E" ]; then echo datadir=creatable; else echo datadir=blocked; fi; fi',
    'df -Pk "$E" 2>/dev/null | awk \'NR==2 {print "freekb=" $4}\'',
    'c=$(command -v collectd 2>/dev/null); [ -n "$c" ] && echo "collectdbin=$c"',
    'p=$(pidof collectd 2>/dev/null | awk \'{print $1}\'); [ -z "$p" ] && command -v pgrep >/dev/null 2>&1 && p=$(pgrep -x collectd | head -n 1)',
    'conf=""; if [ -n "$p" ]; then echo "collectdpid=$p"; conf=$(tr \'\\0\' \'\\n\' < /proc/$p/cmdline 2>/dev/null | awk \'f {print; exit} $0 == "-C" {f=1}\'); fi',
    'if [ -z "$conf" ]; then if [ -e /etc/collectd/collectd.conf ] || [ -d /etc/collectd ]; then conf=/etc/collectd/collectd.conf; else conf=/etc/collectd.conf; fi; fi',
    'echo "collectdconf=$conf"',
    'if [ -r "$conf" ]; then echo "collectdsha=$(sha256sum "$conf" | cut -c1-64)"; m=$(grep -m 1 "^# e3-collectd-config:" "$conf" | cut -d: -f2-); [ -n "$m" ] && echo "collectdmarker=$(echo $m)"; fi',
    ...(jmxPort
      ? [`if command -v bash >/dev/null 2>&1 && timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/${jmxPort}' 2>/dev/null; then echo jmx=open; else echo jmx=closed; fi`]
      : []),
    // sshd's settings, base64 on one line: `sshd -T` (with sudo -n when not root), else the config files (drop-ins first, as Debian's Include).
    's=$( (sshd -T || sudo -n sshd -T) 2>/dev/null | grep -iE "^(passwordauthentication|permitrootlogin) "); if [ -n "$s" ]; then echo "sshdsrc=sshd -T"; else s=$(cat /etc/ssh/sshd_config.d/*.conf /etc/ssh/sshd_config 2>/dev/null); [ -n "$s" ] && echo "sshdsrc=sshd_config"; fi',
    '[ -n "$s" ] && echo "sshd=$(printf \'%s\\n\' "$s" | base64 | tr -d \'\\n\')"',
    'exit 0',
  ].join('\n');
}

/** Parses the probe's output. */
export function parseProbe(stdout: string): Probe {
  const kv = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) kv.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  const pm = kv.get('pm');
  const dataDir = kv.get('datadir');
  const num = (k: string) => (kv.has(k) && /^\d+$/.test(kv.get(k)!) ? Number(kv.get(k)) : undefined);
  return {
    uid: num('uid') ?? -1,
    user: kv.get('user') ?? '',
    ...(kv.get('git') ? { git: kv.get('git') } : {}),
    ...(kv.get('node') ? { node: kv.get('node') } : {}),
    rsync: kv.has('rsync'),
    sudo: kv.has('sudo'),
    systemd: kv.has('systemd'),
    ...(pm === 'apt-get' || pm === 'dnf' || pm === 'yum' ? { packageManager: pm } : {}),
    dataDir: dataDir === 'writable' || dataDir === 'readonly' || dataDir === 'creatable' ? dataDir : 'blocked',
    ...(num('freekb') !== undefined ? { freeKb: num('freekb') } : {}),
    ...(kv.get('collectdbin') ? { collectdBin: kv.get('collectdbin') } : {}),
    ...(num('collectdpid') !== undefined ? { collectdPid: num('collectdpid') } : {}),
    collectdConfig: kv.get('collectdconf') || '/etc/collectd/collectd.conf',
    ...(kv.get('collectdsha') ? { collectdConfigSha: kv.get('collectdsha') } : {}),
    ...(kv.get('collectdmarker') ? { collectdMarker: kv.get('collectdmarker') } : {}),
    ...(kv.has('jmx') ? { jmxOpen: kv.get('jmx') === 'open' } : {}),
    ...(kv.get('sshd') && (kv.get('sshdsrc') === 'sshd -T' || kv.get('sshdsrc') === 'sshd_config')
      ? { sshd: parseSshdLogins(Buffer.from(kv.get('sshd')!, 'base64').toString('utf8'), kv.get('sshdsrc') as SshdLogins['source']) }
      : {}),
  };
}

/** Runs the probe on a node. */
export async function probeNode(handle: NodeHandle, options: { dataDir: string; jmxPort?: number; signal?: AbortSignal }): Promise<Probe> {
  const r = await handle.exec(['sh', '-c', probeScript(options.dataDir, options.jmxPort)], { timeoutMs: 30_000, signal: options.signal, check: true });
  return parseProbe(r.stdout);
}

/**
 * The node's clock minus the controller's, in ms, from the exchange with the shortest round trip of three
 * (`date +%s%N` on the node, compared with the midpoint of the controller's send and receive times).
 */
export async function clockOffset(handle: NodeHandle, signal?: AbortSignal): Promise<{ offsetMs: number; uncertaintyMs: number }> {
  let best: { offsetMs: number; uncertaintyMs: number } | undefined;
  for (let i = 0; i < 3; i++) {
    const t0 = Date.now();
    const r = await handle.exec(['date', '+%s%N'], { timeoutMs: 10_000, signal, check: true });
    const t1 = Date.now();
    const remote = Number(r.stdout.trim()) / 1e6;
    if (!Number.isFinite(remote)) continue;
    const sample = { offsetMs: Math.round(remote - (t0 + t1) / 2), uncertaintyMs: Math.ceil((t1 - t0) / 2) };
    if (!best || sample.uncertaintyMs < best.uncertaintyMs) best = sample;
  }
  return best ?? { offsetMs: Number.NaN, uncertaintyMs: Number.NaN };
}
