import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { readRunFile, type Instance } from '@e3/model';
import type { CommandContext } from '@e3/model/cli';

import { normalCidr, resolveIngress } from './aws/ingress.js';
import { provisionCommandWith } from './commands.js';
import { awsHome, awsExperiment, counterHex, mixedExperiment, withSnapshots } from '../test/support/home.js';
import { fakeAws, fakeClock, type FakeAws } from '../test/support/fake-aws.js';
import { provision } from './provision.js';

const env = { AWS_REGION: 'us-east-1' };
const CONTROLLER = '198.51.100.7/32';
const MACHINES = ['WorkerCluster', 'BitbucketServer', 'BitbucketDataCenter'];

/** Every parameter value of every ingress (CidrBlock*) parameter the fake AWS received, by template. */
const ingressOf = (aws: FakeAws) =>
  aws.stacks.map((s) => ({ template: s.template, cidrs: Object.entries(s.params).filter(([k]) => /^CidrBlock\d*$/.test(k)).map(([, v]) => v) }));

async function provisionBoth(aws: FakeAws, extra: Partial<Parameters<typeof provision>[0]> = {}, tree = {}) {
  const home = await awsHome(tree);
  const logs: string[] = [];
  const common = { home, env, owner: 'alice', clients: aws.clients, clock: fakeClock(), randomHex: counterHex(), log: (m: string) => logs.push(m), ...extra };
  await provision({ ...common, experiment: 'aws-dc', run: 'dc' });
  await provision({ ...common, experiment: 'aws-mixed', run: 'mixed' });
  return { home, logs };
}

describe('ingress of provisioned machines', () => {
  it('lets only the controller in by default: every machine stack of every kind gets its /32, none the world', async () => {
    const aws = withSnapshots(fakeAws());
    const { home, logs } = await provisionBoth(aws);
    const seen = ingressOf(aws);
    expect(new Set(seen.map((s) => s.template))).toEqual(new Set(['PublicNetwork', ...MACHINES]));
    for (const s of seen) expect(s.cidrs).toEqual(s.template === 'PublicNetwork' ? [] : [CONTROLLER]);
    for (const s of aws.stacks) expect(JSON.stringify(s.params)).not.toContain('0.0.0.0/0');
    const rf = await readRunFile(join(home, 'runs/dc'));
    expect((rf.threads[0]!.instance.stack as unknown as Instance).RunConfig).toMatchObject({ ingress: CONTROLLER });
    expect(JSON.stringify(rf)).not.toContain('ingressWarning');
    expect(logs).toContain(`machines will accept SSH, HTTP and git from ${CONTROLLER} (${CONTROLLER}: this machine)`);
    expect(logs.join('\n')).not.toContain('warning');
  });

  it("adds the experiment's allowCidrs and --allow-cidr after the controller, without duplicates", async () => {
    const aws = withSnapshots(fakeAws());
    const exp = { ...awsExperiment, allowCidrs: ['10.9.0.0/16', '198.51.100.7/32'] };
    await provisionBoth(aws, { aws: { allowCidrs: ['192.0.2.10'] } }, { 'e3-home/experiments/aws-dc.json': exp, 'e3-home/experiments/aws-mixed.json': { ...mixedExperiment, allowCidrs: ['10.9.0.0/16'] } });
    const dc = aws.stacks.find((s) => s.template === 'BitbucketDataCenter')!;
    expect(dc.params).toMatchObject({ CidrBlock: CONTROLLER, CidrBlock2: '10.9.0.0/16', CidrBlock3: '192.0.2.10/32' });
    expect(dc.params).not.toHaveProperty('CidrBlock4');
    for (const s of ingressOf(aws).filter((x) => x.template !== 'PublicNetwork')) expect(s.cidrs).toEqual([CONTROLLER, '10.9.0.0/16', '192.0.2.10/32']);
  });

  it('opens to the world only when asked, and says so in the log and the run file', async () => {
    const aws = withSnapshots(fakeAws());
    const { home, logs } = await provisionBoth(aws, { aws: { allowCidrs: ['0.0.0.0/0'] } });
    for (const s of ingressOf(aws).filter((x) => x.template !== 'PublicNetwork')) expect(s.cidrs).toEqual([CONTROLLER, '0.0.0.0/0']);
    expect(logs.some((l) => /^warning: ingress 0\.0\.0\.0\/0 was asked for/.test(l))).toBe(true);
    const worker = (await readRunFile(join(home, 'runs/mixed'))).threads[0]!.worker.stack as unknown as Instance;
    expect(worker.RunConfig).toMatchObject({ ingress: `${CONTROLLER},0.0.0.0/0`, ingressWarning: expect.stringContaining('open to the whole internet') });
  });

  it('refuses to guess when the controller address cannot be found and no CIDR is named: nothing created, no run left', async () => {
    const aws = withSnapshots(fakeAws());
    aws.publicIp = new Error('getaddrinfo ENOTFOUND checkip.amazonaws.com');
    const home = await awsHome();
    const err = await provision({ experiment: 'aws-dc', run: 'r1', home, env, clients: aws.clients, clock: fakeClock() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E3_ENVIRONMENT', hint: expect.stringContaining('--allow-cidr') });
    expect(aws.stacks).toEqual([]);
    expect(await readdir(join(home, 'runs'))).toEqual([]);
  });

  it('resolves the rules on their own: normal forms, bad CIDRs, too many, a lookup answering garbage', async () => {
    expect(['10.0.0.1', '10.0.0.0/8', '10.0.0.0/08', '256.0.0.0/8', '10.0.0.0/33', '::1/128'].map(normalCidr)).toEqual(['10.0.0.1/32', '10.0.0.0/8', '10.0.0.0/8', undefined, undefined, undefined]);
    const discover = async () => '203.0.113.9\n';
    await expect(resolveIngress({ discover, cli: ['nope'] })).rejects.toMatchObject({ code: 'E3_USAGE', message: expect.stringContaining('--allow-cidr') });
    await expect(resolveIngress({ discover, experiment: ['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4'] })).rejects.toMatchObject({ code: 'E3_USAGE', message: expect.stringContaining('at most 4') });
    const garbage = await resolveIngress({ discover: async () => '<html>', cli: ['10.1.0.0/16'] });
    expect(garbage).toMatchObject({ cidrs: ['10.1.0.0/16'], worldOpen: false, warnings: [expect.stringContaining('not an IPv4 address')] });
  });
});

describe('generated passwords', () => {
  it('never reach the run file, the logs, instance files or the command output; the secrets file (0600) beside the ledger holds them', async () => {
    const aws = fakeAws();
    const home = await awsHome({ 'e3-home/experiments/fresh-dc.json': { ...awsExperiment, threads: [{ ...awsExperiment.threads[0]!, instance: { template: 'BitbucketDataCenter', version: '9.2.0' } }] } });
    const logs: string[] = [];
    const ctx: CommandContext = { json: false, log: (m) => logs.push(m), event: () => undefined, signal: new AbortController().signal, tty: false, cwd: home, env, progress: () => undefined };
    const cmd = provisionCommandWith({ clients: aws.clients, clock: fakeClock() });
    const out = await cmd.run!({ experiment: 'fresh-dc', run: 'r1', home, json: false, ttl: '24h', internal: false } as never, ctx);
    const dc = aws.stacks.find((s) => s.template === 'BitbucketDataCenter')!;
    const generated = [dc.params.DBMasterUserPassword!, dc.params.DBPassword!];
    expect(generated.every((p) => /^e3[0-9a-f]{24}$/.test(p))).toBe(true);

    const runDir = join(home, 'runs/r1');
    const secretsFile = join(runDir, 'secrets.json');
    expect((await stat(secretsFile)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(secretsFile, 'utf8'))).toEqual({ [dc.name]: { DBMasterUserPassword: generated[0], DBPassword: generated[1] } });
    const instance = (await readRunFile(runDir)).threads[0]!.instance.stack as unknown as Instance;
    expect(instance.RunConfig).toMatchObject({ secretsFile: 'secrets.json' });

    const texts: Array<[string, string]> = [['output', JSON.stringify(out)], ['logs', logs.join('\n')]];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (p !== secretsFile) texts.push([p, await readFile(p, 'utf8')]);
      }
    };
    await walk(home);
    expect(texts.length).toBeGreaterThan(5);
    for (const [where, text] of texts) for (const secret of generated) expect(`${where}: ${text.includes(secret)}`).toBe(`${where}: false`);
  });
});
