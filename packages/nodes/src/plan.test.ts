import { describe, expect, it } from '@jest/globals';

import { planSetup } from './plan.js';
import type { Probe } from './probe.js';

const collectd = { file: '/repo/e3-home/config/collectd-worker.conf', content: 'Hostname "localhost"\n', sha256: 'a'.repeat(64), flavour: 'worker' };
const ready: Probe = {
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
const ctx = { role: 'worker' as const, dataDir: '/media/data', collectd, limits: { minNodeMajor: 20 } };
const ids = (p: Probe, c = ctx) => planSetup(p, c).steps.map((s) => s.id);

describe('planSetup', () => {
  it('plans nothing for a node that has everything (a second setup changes nothing)', () => {
    expect(planSetup(ready, ctx)).toEqual({ steps: [], problems: [] });
  });

  it('installs git with the node’s package manager, through sudo -n when not root', () => {
    const { steps } = planSetup({ ...ready, git: undefined, uid: 1000, user: 'ec2-user', packageManager: 'dnf' }, ctx);
    expect(steps).toEqual([{ id: 'packages', description: 'install git with dnf', commands: ['sudo -n dnf install -y git'] }]);
  });

  it('installs collectd-core and librrd8 on apt nodes, writing e3’s config first and starting it last', () => {
    const p = { ...ready, collectdBin: undefined, collectdPid: undefined, collectdConfigSha: undefined };
    expect(ids(p)).toEqual(['collectd-config', 'packages', 'collectd-start']);
    expect(planSetup(p, ctx).steps[1]!.commands[0]).toContain('apt-get install -y --no-install-recommends collectd-core librrd8');
  });

  it('replaces a foreign collectd config (keeping a backup) and restarts collectd', () => {
    const steps = planSetup({ ...ready, collectdConfigSha: 'b'.repeat(64) }, ctx).steps;
    expect(steps.map((s) => s.id)).toEqual(['collectd-config', 'collectd-start']);
    expect(steps[0]!.commands).toContain('cp -p /etc/collectd/collectd.conf /etc/collectd/collectd.conf.before-e3');
  });

  it('adds the java and GenericJMX plugins on RHEL-like cluster nodes and never installs Node there', () => {
    const p = { ...ready, node: undefined, git: undefined, packageManager: 'yum' as const, collectdBin: undefined, collectdPid: undefined, collectdConfigSha: undefined };
    const steps = planSetup(p, { ...ctx, role: 'cluster' }).steps;
    expect(steps.map((s) => s.id)).toEqual(['collectd-config', 'packages', 'collectd-start']);
    expect(steps[1]!.commands).toEqual(['yum install -y collectd collectd-rrdtool collectd-java collectd-generic-jmx']);
  });

  it('installs Node 20 from nodejs.org on a worker with an older one', () => {
    expect(ids({ ...ready, node: 'v18.19.0' })).toEqual(['packages', 'node']);
  });

  it('creates a missing data dir, and reports a read-only one that root cannot fix', () => {
    expect(planSetup({ ...ready, dataDir: 'creatable' }, ctx).steps).toEqual([{ id: 'data-dir', description: 'create /media/data', commands: ["mkdir -p /media/data"] }]);
    expect(planSetup({ ...ready, dataDir: 'readonly' }, ctx).problems).toEqual([
      '/media/data is not writable even by root (a read-only mount?): remount it read-write or set "dataDir" to another folder',
    ]);
    expect(planSetup({ ...ready, dataDir: 'blocked', uid: 1000, user: 'e3' }, ctx).steps[0]!.commands).toEqual(['sudo -n mkdir -p /media/data', 'sudo -n chown e3 /media/data']);
  });

  it('reports a node without a known package manager instead of guessing', () => {
    expect(planSetup({ ...ready, git: undefined, packageManager: undefined }, ctx).problems).toEqual(['no apt-get, dnf or yum on the node: install git by hand']);
  });
});
