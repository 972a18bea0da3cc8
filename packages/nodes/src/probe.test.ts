import { execFileSync } from 'node:child_process';
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { makeTmpDir } from '@e3/test-utils';

import { parseProbe, parseSshdLogins, probeScript } from './probe.js';

const run = (dataDir: string) => parseProbe(execFileSync('sh', ['-c', probeScript(dataDir)], { encoding: 'utf8' }));

describe('probeScript', () => {
  it('finds this machine’s tools and a writable data dir without creating it', async () => {
    const dir = join(await makeTmpDir(), 'a/b');
    const p = run(dir);
    expect(p).toMatchObject({ dataDir: 'creatable', uid: process.getuid!() });
    expect(p.node).toBe(process.version);
    expect(p.freeKb).toBeGreaterThan(0);
    expect(execFileSync('sh', ['-c', `test -e ${dir} && echo yes || echo no`], { encoding: 'utf8' }).trim()).toBe('no');
    await mkdir(dir, { recursive: true });
    expect(run(dir).dataDir).toBe('writable');
  });

  it('says blocked when the data dir cannot be created (non-root only)', async () => {
    if (process.getuid!() === 0) return;
    const dir = await makeTmpDir();
    await chmod(dir, 0o500);
    expect(run(join(dir, 'x')).dataDir).toBe('blocked');
  });
});

describe('parseProbe', () => {
  it('reads key=value lines and ignores noise', () => {
    expect(parseProbe('uid=1000\nuser=e3\nnoise\npm=dnf\ndatadir=readonly\ncollectdconf=/etc/collectd.conf\njmx=closed\n')).toEqual({
      uid: 1000,
      user: 'e3',
      rsync: false,
      sudo: false,
      systemd: false,
      packageManager: 'dnf',
      dataDir: 'readonly',
      collectdConfig: '/etc/collectd.conf',
      jmxOpen: false,
    });
  });
});

describe('sshd login settings', () => {
  it('takes the first value of each keyword, stops at Match, and fills OpenSSH defaults for config files', () => {
    const config = '# PasswordAuthentication yes\nPermitRootLogin no\nPasswordAuthentication=No\npasswordauthentication yes\nMatch User git\n  PermitRootLogin yes\n';
    expect(parseSshdLogins(config, 'sshd_config')).toEqual({ source: 'sshd_config', passwordAuthentication: 'no', permitRootLogin: 'no' });
    expect(parseSshdLogins('UsePAM yes\n', 'sshd_config')).toEqual({ source: 'sshd_config', passwordAuthentication: 'yes', permitRootLogin: 'prohibit-password' });
    expect(parseSshdLogins('passwordauthentication no\npermitrootlogin without-password\n', 'sshd -T')).toEqual({ source: 'sshd -T', passwordAuthentication: 'no', permitRootLogin: 'without-password' });
  });

  it("reads this machine's sshd as `sshd -T` itself reports it", () => {
    let truth: string;
    try {
      truth = execFileSync('sh', ['-c', 'PATH="$PATH:/usr/sbin:/sbin"; sshd -T 2>/dev/null'], { encoding: 'utf8' });
    } catch {
      return; // not root or no sshd here: the script falls back to the config files, covered above
    }
    const line = (k: string) => new RegExp(`^${k} (\\S+)$`, 'm').exec(truth)?.[1];
    expect(run('/tmp').sshd).toEqual({ source: 'sshd -T', passwordAuthentication: line('passwordauthentication'), permitRootLogin: line('permitrootlogin') });
  });
});
