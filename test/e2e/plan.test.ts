import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { expectExit, makeTmpDir, repoRoot, startLoopbackServer } from '@e3/test-utils';

/** `pnpm e3 …` from the repository root, as the README has users run it; stdout and stderr apart. */
function pnpmE3(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('pnpm', ['--silent', 'e3', ...args], { cwd: repoRoot, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const count = (text: string, re: RegExp) => text.match(new RegExp(re.source, 'gm'))?.length ?? 0;
const listing = async (dir: string) => (await readdir(dir).catch(() => [])).sort();

describe('e3 provision --plan, as a user with no AWS credentials runs it', () => {
  it("plans E³'s cluster-scaling-ssh from e3's own e3-home: four Data Center stacks and their workers, checks not made, nothing created", async () => {
    // No AWS_* variables, a HOME with no ~/.aws, no instance metadata: the SDK finds no credentials and sends nothing.
    // The controller's address comes from a loopback stand-in for checkip.amazonaws.com.
    const checkip = await startLoopbackServer((_req, res) => res.end('198.51.100.7\n'));
    const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
    Object.assign(env, { HOME: await makeTmpDir(), AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true', E3_CHECKIP_URL: checkip.url, NODE_OPTIONS: '', FORCE_COLOR: '0' });
    const home = join(repoRoot, 'e3-home');
    const before = { runs: await listing(join(home, 'runs')), instances: await listing(join(home, 'instances')), archive: await listing(join(home, 'archive')) };
    try {
      const r = await pnpmE3(['provision', '-e', 'cluster-scaling-ssh', '--plan'], env);
      expectExit(r, 0);
      const out = r.stdout;
      expect(out).toContain('(nothing is created)');
      expect(count(out, /^BitbucketDataCenter stack stack-bitbucket-data-center-\S+-<6 hex> {2}\[thread (1|3|6|10)-node, instance\]$/)).toBe(4);
      expect(count(out, /^WorkerCluster stack stack-worker-\S+-<6 hex> {2}\[thread (1|3|6|10)-node, worker\]$/)).toBe(4);
      expect(count(out, /^PublicNetwork stack /)).toBe(1);
      // The templates e3 ships, the controller's /32, the snapshot each cluster restores.
      expect(count(out, /^ {2}template: .*e3-home\/templates\/BitbucketDataCenter\.template$/)).toBe(4);
      expect(count(out, /^ {2}allows: 198\.51\.100\.7\/32$/)).toBe(8);
      expect(count(out, /^ {2}restores snapshot e3-small: EBS snap-6ff61170, RDS arn:aws:rds:us-east-1:098706035825:snapshot:e3-small — not checked: no AWS credentials$/)).toBe(4);
      expect(count(out, /^ {4}ClusterNodeMin = (1|3|6|10)$/)).toBe(4);
      // Read-only quota checks, none possible without credentials; the old release named; a cost.
      expect(out).toContain('quotas in us-east-1 (read-only checks):');
      expect(count(out, /^ {2}(EC2 Running On-Demand|VPCs per region|RDS DB instances|CloudFormation stacks)[^\n]*: not checked: no AWS credentials$/)).toBe(4);
      expect(out).toMatch(/^warning: Bitbucket 4\.11\.0 \(threads 1-node, 3-node, 6-node, 10-node\)/m);
      expect(out).toMatch(/^estimated cost: \$\d+\.\d\d per hour/m);
      expect(out + r.stderr).not.toMatch(/DBMasterUserPassword = e3[0-9a-f]/);
      // Nothing written: no run folder, no instance file, nothing archived.
      expect({ runs: await listing(join(home, 'runs')), instances: await listing(join(home, 'instances')), archive: await listing(join(home, 'archive')) }).toEqual(before);
    } finally {
      checkip.close();
    }
  }, 120_000);
});
