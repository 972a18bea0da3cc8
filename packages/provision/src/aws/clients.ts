import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { EC2Client } from '@aws-sdk/client-ec2';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';

/** The AWS SDK v3 clients e3 uses. Inject them (tests pass mocked ones); missing ones are made on first use. */
export interface AwsClients {
  cloudformation: CloudFormationClient;
  ec2: EC2Client;
  rds: RDSClient;
  s3: S3Client;
  autoscaling: AutoScalingClient;
}

/** Returns a getter per client: the injected one, or a real client for `region` made the first time it is asked for. */
export function lazyClients(region: string, injected: Partial<AwsClients> = {}): () => AwsClients {
  const made: Partial<AwsClients> = { ...injected };
  const factories: { [K in keyof AwsClients]: () => AwsClients[K] } = {
    cloudformation: () => new CloudFormationClient({ region }),
    ec2: () => new EC2Client({ region }),
    rds: () => new RDSClient({ region }),
    s3: () => new S3Client({ region }),
    autoscaling: () => new AutoScalingClient({ region }),
  };
  const proxy = {} as AwsClients;
  for (const key of Object.keys(factories) as Array<keyof AwsClients>) {
    Object.defineProperty(proxy, key, {
      enumerable: true,
      get: () => (made[key] ??= factories[key]() as never),
    });
  }
  return () => proxy;
}

/** The AWS error name (`ValidationError`, `InvalidSnapshot.NotFound`, …) of a thrown SDK error. */
export function awsErrorName(err: unknown): string {
  return typeof err === 'object' && err !== null ? String((err as { name?: unknown; Code?: unknown }).name ?? (err as { Code?: unknown }).Code ?? '') : '';
}

/** True for a CloudFormation "Stack with id X does not exist" error. */
export function isStackMissing(err: unknown): boolean {
  return awsErrorName(err) === 'ValidationError' && /does not exist/.test((err as Error).message ?? '');
}
