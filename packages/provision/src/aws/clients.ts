import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { EC2Client } from '@aws-sdk/client-ec2';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { E3Error, isE3Error } from '@e3/model';

import { checkipPublicIp, type DiscoverPublicIp } from './ingress.js';

/** The AWS SDK v3 clients e3 uses. Inject them (tests pass mocked ones); missing ones are made on first use. */
export interface AwsClients {
  cloudformation: CloudFormationClient;
  ec2: EC2Client;
  rds: RDSClient;
  s3: S3Client;
  autoscaling: AutoScalingClient;
  /** Read-only quota lookups for the plan. */
  serviceQuotas: ServiceQuotasClient;
  /** Read-only lookup of the controller's public address (default: AWS's checkip endpoint); the fake answers it in tests. */
  discoverPublicIp: DiscoverPublicIp;
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
    serviceQuotas: () => new ServiceQuotasClient({ region }),
    discoverPublicIp: () => checkipPublicIp,
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

const NETWORK_CODES = new Set(['ENOTFOUND', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'EHOSTUNREACH']);

/**
 * An AWS SDK failure as an E3Error: missing credentials → E3_ENVIRONMENT, anything the SDK or the network
 * refused → E3_PROVISION, both naming `doing`. Undefined for errors that are not AWS failures (bugs).
 */
export function awsFailure(err: unknown, doing: string, hint?: string): E3Error | undefined {
  if (typeof err !== 'object' || err === null || isE3Error(err)) return undefined;
  const e = err as Error & { code?: string; $metadata?: unknown };
  if (e.name === 'CredentialsProviderError' || /Could not load credentials/i.test(e.message ?? '')) {
    return new E3Error('ENVIRONMENT', `no AWS credentials while ${doing}: ${e.message}`, {
      cause: err,
      hint: 'Set AWS_PROFILE (see `aws configure list-profiles`) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, then run the command again',
    });
  }
  if ('$metadata' in e || e.name === 'TimeoutError' || (e.code !== undefined && NETWORK_CODES.has(e.code))) {
    return new E3Error('PROVISION', `AWS failed while ${doing}: ${e.name}: ${e.message}`, { cause: err, hint });
  }
  return undefined;
}
