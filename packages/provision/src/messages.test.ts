import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { renderError } from '@e3/model';

import { awsHome, withSnapshots } from '../test/support/home.js';
import { fakeAws, fakeClock } from '../test/support/fake-aws.js';
import { deprovision } from './deprovision.js';
import { provision } from './provision.js';

const env = { AWS_REGION: 'us-east-1' };

/** The error as the bin prints it, with the scratch home replaced by <home>. */
async function printed(home: string, p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  return renderError(err, { json: false }).text.split(home).join('<home>');
}

describe('user-facing messages', () => {
  it('no region', async () => {
    const home = await awsHome();
    expect(await printed(home, provision({ experiment: 'aws-dc', run: 'r1', home, env: {}, clock: fakeClock() }))).toMatchInlineSnapshot(`
"[E3_ENVIRONMENT] no AWS region: the aws provider needs one

Pass --region <region> or set AWS_REGION (e.g. \`export AWS_REGION=us-east-1\`)"
`);
  });

  it('EBS snapshot missing', async () => {
    const home = await awsHome();
    expect(await printed(home, provision({ experiment: 'aws-dc', run: 'r1', home, env, clients: fakeAws().clients, clock: fakeClock() }))).toMatchInlineSnapshot(`
"[E3_PROVISION] <home>/snapshots/aws-small.json: /ebs/us-east-1: EBS snapshot snap-0e3a0b0c cannot be used: InvalidSnapshot.NotFound: The snapshot 'snap-0e3a0b0c' does not exist.

Check that snap-0e3a0b0c exists in us-east-1 and is shared with your account, then fix <home>/snapshots/aws-small.json"
`);
  });

  it('template missing', async () => {
    const home = await awsHome();
    const aws = withSnapshots(fakeAws());
    expect(
  await printed(home, provision({ experiment: 'aws-dc', run: 'r1', home, env, clients: aws.clients, clock: fakeClock(), aws: { templateDir: join(home, 'tpl') } }))
).toMatchInlineSnapshot(`
"[E3_PROVISION] no CloudFormation template BitbucketDataCenter.template in <home>/tpl

Put BitbucketDataCenter.template in <home>/tpl (e3 ships every one in its own e3-home/templates: copy it from there), or pass --template-url"
`);
  });

  it('byo key missing', async () => {
    const home = await awsHome({ 'e3-home/instances/my-workers.json': { ClusterNodes: ['me@w1'] } });
    expect(await printed(home, provision({ experiment: 'byo', run: 'r1', home, env: {}, clock: fakeClock() }))).toMatchInlineSnapshot(`
"[E3_FILE_NOT_FOUND] <home>/instances/my-workers.json: /ClusterNodes: nodes are reached over SSH but the private key <home>/instances/my-workers.pem does not exist

Copy the key for me@w1 to <home>/instances/my-workers.pem (chmod 600), or set "KeyFile" in <home>/instances/my-workers.json"
`);
  });

  it('template local without a local provider', async () => {
    const home = await awsHome({
      'e3-home/experiments/local.json': { duration: 1000, workload: 'mixed', threads: [{ name: 'l', instance: { template: 'local' }, worker: { template: 'local' }, stages: [{ clients: 1 }] }] },
    });
    expect(await printed(home, provision({ experiment: 'local', run: 'r1', home, env: {}, clock: fakeClock() }))).toMatchInlineSnapshot(`
"[E3_INVALID_FILE] <home>/experiments/local.json: /threads/0/instance.template: no provider for "local" (known: PublicNetwork, WorkerCluster, BitbucketServer, BitbucketDataCenter)

The local provider comes with \`e3 orchestrate\`/\`e3 demo\`; use \`e3 demo\`, or a "stack": {"Name": …} instance file"
`);
  });

  it('a stack that fails to create', async () => {
    const home = await awsHome();
    const aws = withSnapshots(fakeAws({ faults: { failTemplates: ['PublicNetwork'] } }));
    expect(await printed(home, provision({ experiment: 'aws-dc', run: 'r1', home, env, owner: 'al', clients: aws.clients, clock: fakeClock(), randomHex: () => 'abcdef' }))).toMatchInlineSnapshot(`
"[E3_PROVISION] stack stack-network-al-abcdef ended in CREATE_FAILED: The following resource(s) failed to create: [ClusterNodeGroup].

Look at the stack's events in the CloudFormation console, then \`e3 deprovision -r r1\`"
`);
  });

  it('an AWS call refused', async () => {
    const home = await awsHome();
    const aws = withSnapshots(fakeAws({ faults: { failAt: 3 } }));
    expect(await printed(home, provision({ experiment: 'aws-dc', run: 'r1', home, env, owner: 'al', clients: aws.clients, clock: fakeClock(), randomHex: () => 'abcdef' }))).toMatchInlineSnapshot(`
"[E3_PROVISION] AWS failed while trying to create stack stack-network-al-abcdef: InternalFailure: injected failure of CreateStack (call 3)

Run \`e3 deprovision -r r1\` to delete whatever was created, fix the cause, then provision again"
`);
  });

  it('no credentials', async () => {
    const home = await awsHome();
    const aws = fakeAws({ faults: { noCredentials: true } });
    expect(await printed(home, provision({ experiment: 'aws-dc', run: 'r1', home, env, clients: aws.clients, clock: fakeClock() }))).toMatchInlineSnapshot(`
"[E3_ENVIRONMENT] no AWS credentials while checking snapshots: Could not load credentials from any providers

Set AWS_PROFILE (see \`aws configure list-profiles\`) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, then run the command again"
`);
    expect(await printed(home, deprovision({ expired: true, home, env, clients: aws.clients, clock: fakeClock() }))).toMatchInlineSnapshot(`
"[E3_ENVIRONMENT] no AWS credentials while deprovisioning: Could not load credentials from any providers

Set AWS_PROFILE (see \`aws configure list-profiles\`) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, then run the command again"
`);
  });

  it('deprovision modes', async () => {
    const home = await awsHome();
    expect(await printed(home, deprovision({ home, env }))).toMatchInlineSnapshot(`
"[E3_USAGE] deprovision needs exactly one of -r <run>, --stack <name>, --all --owner <owner>, --expired

Run \`e3 deprovision -r <run>\` to delete what a run created (see \`e3 list runs\`)"
`);
    expect(await printed(home, deprovision({ all: true, home, env: { ...env, E3_OWNER: 'me' } }))).toMatchInlineSnapshot(`
"[E3_USAGE] --all deletes every e3 resource of one owner: --owner is required

Run \`e3 deprovision --all --owner me\`"
`);
    expect(await printed(home, deprovision({ run: 'nope', home, cwd: home, env }))).toMatchInlineSnapshot(`
"[E3_RUN_NOT_FOUND] run "nope" not found: no run folder (holding nope.json) in <home>/runs, <home>/archive or <home>/nope

Run \`e3 list runs\` to see the runs in e3-home, or pass the path of a run folder"
`);
  });
});
