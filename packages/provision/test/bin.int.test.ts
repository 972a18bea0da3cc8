import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { repoRoot, runBin } from '@e3/test-utils';

import { awsHome } from './support/home.js';

const bin = 'packages/provision/src/bin.ts';
// No region and no credentials: nothing here may reach AWS.
const env = { AWS_REGION: '', AWS_DEFAULT_REGION: '', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '', E3_OWNER: 'tester' };

describe('e3-provision bin', () => {
  it('provisions a bring-your-own experiment, then deprovisions and archives it, twice harmlessly', async () => {
    const home = await awsHome();
    const p = await runBin(repoRoot, bin, ['-e', 'byo', '--run', 'b1', '--home', home], { env });
    expect(p.stderr.replace(/.*NodeVersionSupportWarning[\s\S]*?a\.co\/\S+\n*/m, '')).toBe('');
    expect(p.code).toBe(0);
    expect(p.stdout).toContain('provisioned run b1');
    expect(p.stdout).toContain('instance my-bitbucket (byo), workers my-workers (byo)');
    const rf = JSON.parse(await readFile(join(home, 'runs/b1/b1.json'), 'utf8'));
    expect(rf.threads[0].instance.stack.Name).toBe('my-bitbucket');
    expect(JSON.parse(await readFile(join(home, 'runs/b1/phases/provision.json'), 'utf8')).status).toBe('succeeded');

    const d = await runBin(repoRoot, bin, ['deprovision', '-r', 'b1', '--home', home], { env });
    expect(d.code).toBe(0);
    expect(d.stdout).toContain(`archived to ${join(home, 'archive/b1')}`);
    expect(await readdir(join(home, 'instances'))).toContain('my-bitbucket.json');
    const again = await runBin(repoRoot, bin, ['deprovision', '-r', 'b1', '--home', home, '--json'], { env });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ mode: 'run', run: 'b1', alreadyArchived: true });
  });

  it('fails an AWS experiment without a region with exit 3 and a hint, before creating anything', async () => {
    const home = await awsHome();
    const r = await runBin(repoRoot, bin, ['-e', 'aws-dc', '--run', 'a1', '--home', home, '--json'], { env });
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toEqual({
      error: { code: 'E3_ENVIRONMENT', message: 'no AWS region: the aws provider needs one', hint: 'Pass --region <region> or set AWS_REGION (e.g. `export AWS_REGION=us-east-1`)' },
    });
    expect(await readFile(join(home, 'runs/a1/ledger.ndjson'), 'utf8').catch(() => '')).toBe('');
  });

  it('reports usage errors with exit 2', async () => {
    const home = await awsHome();
    const r = await runBin(repoRoot, bin, ['deprovision', '--home', home], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[E3_USAGE] deprovision needs exactly one of -r <run>, --stack <name>, --all --owner <owner>, --expired');
  });
});
