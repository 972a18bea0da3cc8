import { describe, expect, it } from '@jest/globals';

import type { Probe } from './probe.js';
import { DEFAULT_LIMITS, evaluateProbe, passes, type NodeContext } from './requirements.js';

const probe: Probe = {
  uid: 0,
  user: 'root',
  git: 'git version 2.39.5',
  node: 'v20.20.2',
  rsync: true,
  sudo: true,
  systemd: false,
  packageManager: 'apt-get',
  dataDir: 'writable',
  freeKb: 10_000_000,
  collectdBin: '/usr/sbin/collectd',
  collectdPid: 42,
  collectdConfig: '/etc/collectd/collectd.conf',
  collectdConfigSha: 'a'.repeat(64),
};
const ctx: NodeContext = {
  role: 'worker',
  dataDir: '/tmp/e3',
  setupCommand: 'e3 nodes setup -i w',
  collectdSha: 'a'.repeat(64),
  collectdFile: 'e3-home/config/collectd-worker.conf',
  clock: { offsetMs: 3, uncertaintyMs: 1 },
  limits: DEFAULT_LIMITS,
};
const byId = (p: Probe, c: NodeContext = ctx) => Object.fromEntries(evaluateProbe(p, c).map((r) => [r.id, r]));

describe('evaluateProbe', () => {
  it('passes a ready worker', () => {
    const reqs = evaluateProbe(probe, ctx);
    expect(reqs.map((r) => `${r.id}:${r.status}`)).toEqual(['node:ok', 'git:ok', 'data-dir:ok', 'disk:ok', 'clock:ok', 'collectd:ok', 'rsync:ok', 'ssh-logins:skipped']);
    expect(passes(reqs)).toBe(true);
  });

  it('warns, without failing the node, when sshd takes password or root logins', () => {
    const hardened = byId({ ...probe, sshd: { source: 'sshd -T', passwordAuthentication: 'no', permitRootLogin: 'no' } })['ssh-logins']!;
    expect(hardened).toMatchObject({ status: 'ok', optional: true });
    const open = evaluateProbe({ ...probe, sshd: { source: 'sshd_config', passwordAuthentication: 'yes', permitRootLogin: 'prohibit-password' } }, ctx);
    expect(open.find((r) => r.id === 'ssh-logins')).toMatchObject({
      status: 'wrong',
      optional: true,
      detail: 'sshd accepts password logins (PasswordAuthentication yes) and root logins (PermitRootLogin prohibit-password) (sshd_config)',
      fix: expect.stringContaining('PasswordAuthentication no'),
    });
    expect(passes(open)).toBe(true);
    expect(byId({ ...probe, sshd: { source: 'sshd -T', passwordAuthentication: 'no', permitRootLogin: 'yes' } })['ssh-logins']!.detail).toBe('sshd accepts root logins (PermitRootLogin yes) (sshd -T)');
  });

  it('reports missing git with the setup fix', () => {
    expect(byId({ ...probe, git: undefined }).git).toEqual({ id: 'git', status: 'missing', detail: 'git is not on the PATH', fix: 'e3 nodes setup -i w (installs git)' });
  });

  it('reports a read-only data dir as wrong, with what to do', () => {
    const r = byId({ ...probe, dataDir: 'readonly' })['data-dir']!;
    expect(r.status).toBe('wrong');
    expect(r.fix).toBe('sudo chown -R root /tmp/e3 (or mount it read-write), or set "dataDir" in the instance file to a writable folder');
  });

  it('fails a clock off by more than a second, but not one within the measurement error', () => {
    expect(byId(probe, { ...ctx, clock: { offsetMs: 1500, uncertaintyMs: 10 } }).clock!.status).toBe('wrong');
    expect(byId(probe, { ...ctx, clock: { offsetMs: 1005, uncertaintyMs: 10 } }).clock!.status).toBe('ok');
  });

  it('tells a collectd with another config from one that is not running', () => {
    expect(byId({ ...probe, collectdConfigSha: 'b'.repeat(64), collectdMarker: 'worker 0' }).collectd!.detail).toBe(
      'collectd (pid 42) runs with /etc/collectd/collectd.conf: an e3 config (worker 0) that differs from e3-home/config/collectd-worker.conf',
    );
    expect(byId({ ...probe, collectdPid: undefined }).collectd!.status).toBe('missing');
  });

  it('treats missing rsync as a recommendation only', () => {
    const reqs = evaluateProbe({ ...probe, rsync: false }, ctx);
    expect(reqs.find((r) => r.id === 'rsync')).toMatchObject({ status: 'missing', optional: true });
    expect(passes(reqs)).toBe(true);
  });

  it('checks the restart command and JMX on cluster nodes only, not Node and git', () => {
    const r = byId({ ...probe, node: undefined, git: undefined, jmxOpen: false }, { ...ctx, role: 'cluster', restartCommand: 'sudo service atlbitbucket restart', restartAllowed: false, jmxPort: 3333 });
    expect(r.node).toBeUndefined();
    expect(r.restart!.fix).toBe("allow it without a password, e.g. `echo 'root ALL=(root) NOPASSWD: /usr/sbin/service atlbitbucket restart' | sudo tee /etc/sudoers.d/e3-restart` (use the command's full path)");
    expect(r.jmx!.status).toBe('missing');
  });
});
