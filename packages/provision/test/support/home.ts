import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { makeTree, repoRoot, type Tree } from '@e3/test-utils';

import type { FakeAws } from './fake-aws.js';

const stages = [{ clients: 10 }];

/** A Data Center instance + worker cluster thread, as E³'s horizontal-scaling experiments. */
export const awsExperiment = {
  duration: 60000,
  workload: 'mixed',
  threads: [
    {
      name: 'dc',
      instance: { template: 'BitbucketDataCenter', version: '8.9.0', snapshot: 'aws-small', properties: ['feature.x=true'], parameters: { ClusterNodeMin: '2' } },
      worker: { template: 'WorkerCluster', parameters: { ClusterSize: '2' } },
      stages,
    },
  ],
};

/** Two threads: a Server instance with workers, and byo instance + aws workers. */
export const mixedExperiment = {
  duration: 60000,
  workload: 'mixed',
  threads: [
    { name: 'server', instance: { template: 'BitbucketServer', snapshot: 'aws-small' }, worker: { template: 'WorkerCluster' }, stages },
    { name: 'byo-instance', instance: { stack: { Name: 'my-bitbucket' } }, worker: { template: 'WorkerCluster', parameters: { ClusterSize: 1 } }, stages },
  ],
};

export const byoExperiment = {
  duration: 60000,
  workload: 'mixed',
  threads: [{ name: 'byo', instance: { stack: { Name: 'my-bitbucket' } }, worker: { stack: { Name: 'my-workers' } }, stages }],
};

/** The templates e3 ships, as the repository has them. */
export const shippedTemplate = (name: 'WorkerCluster' | 'PublicNetwork' | 'BitbucketServer' | 'BitbucketDataCenter'): string => readFileSync(join(repoRoot, 'e3-home/templates', `${name}.template`), 'utf8');

/** A scratch e3-home with experiments, a snapshot with AWS ids, the shipped templates and byo instance files. */
export async function awsHome(extra: Tree = {}): Promise<string> {
  const root = await makeTree({
    'e3-home/experiments/aws-dc.json': awsExperiment,
    'e3-home/experiments/aws-mixed.json': mixedExperiment,
    'e3-home/experiments/byo.json': byoExperiment,
    'e3-home/snapshots/aws-small.json': {
      name: 'aws-small',
      projects: [],
      users: [{ username: 'u', password: 'p' }],
      ebs: { 'us-east-1': 'snap-0e3a0b0c' },
      rds: { account: '123456789012', id: 'bb-db' },
      es: { snapshot: 'es1', bucket: 'e3-es' },
    },
    'e3-home/templates/BitbucketDataCenter.template': shippedTemplate('BitbucketDataCenter'),
    'e3-home/templates/BitbucketServer.template': shippedTemplate('BitbucketServer'),
    'e3-home/templates/WorkerCluster.template': shippedTemplate('WorkerCluster'),
    'e3-home/templates/PublicNetwork.template': shippedTemplate('PublicNetwork'),
    'e3-home/instances/my-bitbucket.json': { ClusterNodes: ['ec2-user@bitbucket.example.com'], URL: 'http://bitbucket.example.com:7990', RunConfig: { admin_password: 'hunter2' } },
    'e3-home/instances/my-bitbucket.pem': '-----BEGIN OPENSSH PRIVATE KEY-----\nBYO\n-----END OPENSSH PRIVATE KEY-----\n',
    'e3-home/instances/my-workers.json': { ClusterNodes: ['localhost'] },
    ...extra,
  });
  return join(root, 'e3-home');
}

/** Makes the snapshots of `aws-small` exist in the fake. */
export function withSnapshots(aws: FakeAws): FakeAws {
  aws.snapshots.add('snap-0e3a0b0c');
  aws.dbSnapshots.add('arn:aws:rds:us-east-1:123456789012:snapshot:bb-db');
  aws.objects.add('e3-es/snap-es1.dat');
  return aws;
}

/** Fixed random hex: 000001, 000002, … (per call). */
export function counterHex(): (bytes: number) => string {
  let n = 0;
  return (bytes) => (++n).toString(16).padStart(bytes * 2, '0');
}
