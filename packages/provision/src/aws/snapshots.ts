import { DescribeDBSnapshotsCommand } from '@aws-sdk/client-rds';
import { DescribeSnapshotsCommand } from '@aws-sdk/client-ec2';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { E3Error, findHomeFile, loadFile, type Snapshot } from '@e3/model';

import type { AwsClients } from './clients.js';
import { awsErrorName, awsFailure } from './clients.js';

/** Missing credentials are not a snapshot problem: report them as such. */
function noCredentials(err: unknown): void {
  const f = awsFailure(err, 'checking snapshots');
  if (f?.code === 'E3_ENVIRONMENT') throw f;
}

/** The snapshot ids a Bitbucket stack is created from, each checked to exist. */
export interface CheckedSnapshot {
  homeVolumeSnapshotId?: string;
  dbSnapshotArn?: string;
  /** The descriptor's `es`: an OpenSearch snapshot repository bucket and the snapshot's name in it. */
  searchSnapshot?: { bucket: string; name: string };
}

export interface SnapshotCheckInput {
  home: string;
  snapshot: string;
  region: string;
  /** Data Center needs the RDS snapshot too. */
  needsDatabase: boolean;
  clients: AwsClients;
}

/**
 * Checks that the snapshot descriptor names an EBS snapshot for `region` (and, for Data Center, an RDS
 * snapshot, public ones included), and that an `es` S3 object exists when one is named. Creates nothing.
 * Throws E3_FILE_NOT_FOUND / E3_INVALID_FILE for the descriptor, E3_PROVISION naming the field for AWS.
 */
export async function checkSnapshot(input: SnapshotCheckInput): Promise<CheckedSnapshot> {
  const { home, snapshot, region, clients } = input;
  const file = findHomeFile(home, 'snapshot', snapshot);
  if (!file) {
    throw new E3Error('FILE_NOT_FOUND', `snapshot descriptor snapshots/${snapshot}.json not found in ${home}`, {
      hint: `Create it with \`e3 snapshot\`, or fix "snapshot" in the experiment`,
    });
  }
  const value = await loadFile<Snapshot & { es?: { snapshot?: string; id?: string; bucket?: string } }>('snapshot', file);
  const out: CheckedSnapshot = {};
  const ebs = value.ebs?.[region];
  if (!ebs) {
    throw new E3Error('PROVISION', `${file}: /ebs/${region}: no EBS snapshot for region ${region}`, {
      hint: `Add "ebs": {"${region}": "snap-…"} to ${file}, or provision in a region it has (${Object.keys(value.ebs ?? {}).join(', ') || 'none'})`,
    });
  }
  try {
    const res = await clients.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [ebs] }));
    const snap = res.Snapshots?.[0];
    if (!snap) throw Object.assign(new Error(`snapshot ${ebs} not found`), { name: 'InvalidSnapshot.NotFound' });
    if (snap.State === 'error') throw new Error(`snapshot ${ebs} is in state error`);
  } catch (err) {
    noCredentials(err);
    throw new E3Error('PROVISION', `${file}: /ebs/${region}: EBS snapshot ${ebs} cannot be used: ${awsErrorName(err) || 'error'}: ${(err as Error).message}`, {
      cause: err,
      hint: `Check that ${ebs} exists in ${region} and is shared with your account, then fix ${file}`,
    });
  }
  out.homeVolumeSnapshotId = ebs;
  if (input.needsDatabase) {
    if (!value.rds) {
      throw new E3Error('PROVISION', `${file}: /rds: Bitbucket Data Center needs an RDS snapshot`, {
        hint: `Add "rds": {"account": "<aws account>", "id": "<snapshot id>"} to ${file}`,
      });
    }
    const arn = `arn:aws:rds:${region}:${value.rds.account}:snapshot:${value.rds.id}`;
    try {
      const res = await clients.rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: arn, IncludePublic: true, IncludeShared: true }));
      if (!res.DBSnapshots?.length) throw Object.assign(new Error(`DB snapshot ${arn} not found`), { name: 'DBSnapshotNotFoundFault' });
    } catch (err) {
      noCredentials(err);
      throw new E3Error('PROVISION', `${file}: /rds: RDS snapshot ${arn} cannot be used: ${awsErrorName(err) || 'error'}: ${(err as Error).message}`, {
        cause: err,
        hint: `Check that the snapshot is public or shared with your account in ${region}, then fix ${file}`,
      });
    }
    out.dbSnapshotArn = arn;
  }
  const es = value.es;
  if (es?.bucket && (es.snapshot ?? es.id)) {
    const key = `snap-${es.snapshot ?? es.id}.dat`;
    try {
      await clients.s3.send(new HeadObjectCommand({ Bucket: es.bucket, Key: key }));
    } catch (err) {
      noCredentials(err);
      throw new E3Error('PROVISION', `${file}: /es: S3 object s3://${es.bucket}/${key} cannot be read: ${awsErrorName(err) || 'error'}`, {
        cause: err,
        hint: `Check the bucket and object exist and are readable, then fix ${file}`,
      });
    }
    out.searchSnapshot = { bucket: es.bucket, name: (es.snapshot ?? es.id)! };
  }
  return out;
}
