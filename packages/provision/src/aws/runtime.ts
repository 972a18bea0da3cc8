import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { E3Error, TEMPLATES_DIR, builtinHome, templateFileName } from '@e3/model';

import type { InstanceSpec, ProviderContext } from '../types.js';
import { lazyClients, type AwsClients } from './clients.js';
import { resolveIngress, type Ingress } from './ingress.js';
import { checkSnapshot, type CheckedSnapshot } from './snapshots.js';
import type { AwsTemplate } from './templates.js';

/** Settings of the aws provider. */
export interface AwsProviderOptions {
  /** AWS region; `AWS_REGION`, then `AWS_DEFAULT_REGION` from `env` when absent. */
  region?: string;
  /** SDK v3 clients; the missing ones are created for `region` on first use (standard credential chain). */
  clients?: Partial<AwsClients>;
  /** Folder of `<Template>.template` files; default `<e3-home>/templates`, then e3's built-in `e3-home/templates`. */
  templateDir?: string;
  /** Base URL: `<templateUrl>/<Template>.template` is passed to CloudFormation as TemplateURL when no local file exists. */
  templateUrl?: string;
  /** An existing network instance file (`instances/<network>.json` with VPC, Subnet1, Subnet2); otherwise a PublicNetwork stack is created per run. */
  network?: string;
  /** Whether Bitbucket nodes get public addresses (E³ `--public`, the default). */
  public?: boolean;
  /** Limits for stack creation and deletion (default 60 and 30 minutes). */
  createTimeoutMs?: number;
  deleteTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** CIDRs allowed in besides the controller's address (`--allow-cidr`); the experiment's `allowCidrs` are added. */
  allowCidrs?: string[];
}

/** A template as CreateStack takes it: inline, or by URL. */
export interface TemplateSource {
  TemplateBody?: string;
  TemplateURL?: string;
}

/** What every stack kind shares: options, region, clients, templates, snapshot checks and ingress (memoized per run). */
export interface AwsRuntime {
  options: AwsProviderOptions;
  /** `recorded` (a region the ledger names), else the configured one; E3_ENVIRONMENT when there is none. */
  region(recorded?: string): string;
  /** Clients for `recorded` or the configured region. Injected clients serve every region. */
  clients(recorded?: string): AwsClients;
  templateSource(ctx: ProviderContext, template: AwsTemplate): Promise<TemplateSource>;
  snapshotOf(ctx: ProviderContext, spec: InstanceSpec, template: AwsTemplate): Promise<CheckedSnapshot>;
  ingress(ctx: ProviderContext): Promise<Ingress>;
}

const TEMPLATE_BODY_LIMIT = 51_200;

export function awsRuntime(options: AwsProviderOptions): AwsRuntime {
  const env = options.env ?? process.env;
  const clientsByRegion = new Map<string, () => AwsClients>();
  const region = (recorded?: string): string => {
    const r = recorded ?? options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (!r) {
      throw new E3Error('ENVIRONMENT', 'no AWS region: the aws provider needs one', {
        hint: 'Pass --region <region> or set AWS_REGION (e.g. `export AWS_REGION=us-east-1`)',
      });
    }
    return r;
  };
  const clients = (recorded?: string): AwsClients => {
    const r = region(recorded);
    let get = clientsByRegion.get(r);
    if (!get) clientsByRegion.set(r, (get = lazyClients(r, options.clients)));
    return get();
  };
  const rt: AwsRuntime = {
    options,
    region,
    clients,
    templateSource: (ctx, template) => ctx.once(`aws:template:${template}`, () => findTemplate(options, ctx.home, template)),
    snapshotOf(ctx, spec, template) {
      if (!spec.snapshot || template === 'WorkerCluster' || template === 'PublicNetwork') return Promise.resolve({});
      return ctx.once(`aws:snapshot:${spec.snapshot}:${template}`, () =>
        checkSnapshot({ home: ctx.home, snapshot: spec.snapshot!, region: region(), needsDatabase: template === 'BitbucketDataCenter', clients: clients() }),
      );
    },
    ingress: (ctx) =>
      ctx.once('aws:ingress', async () => {
        const found = await resolveIngress({ cli: options.allowCidrs, experiment: ctx.allowCidrs, discover: clients().discoverPublicIp, signal: ctx.signal });
        ctx.log(`machines will accept SSH, HTTP and git from ${found.cidrs.join(', ')}${found.controller ? ` (${found.controller}: this machine)` : ''}`);
        for (const w of found.warnings) ctx.log(`warning: ${w}`);
        return found;
      }),
  };
  return rt;
}

/** `<dir>/<Template>.template` inline when small enough, else `--template-url`; E3_PROVISION when neither. */
async function findTemplate(options: AwsProviderOptions, home: string, template: AwsTemplate): Promise<TemplateSource> {
  const dirs = options.templateDir ? [options.templateDir] : [join(home, TEMPLATES_DIR), ...(builtinHome() ? [join(builtinHome()!, TEMPLATES_DIR)] : [])];
  for (const dir of dirs) {
    const file = join(dir, templateFileName(template));
    const body = await readFile(file, 'utf8').catch(() => undefined);
    if (body === undefined) continue;
    if (Buffer.byteLength(body) > TEMPLATE_BODY_LIMIT) {
      if (options.templateUrl) break;
      throw new E3Error('PROVISION', `${file} is ${Buffer.byteLength(body)} bytes: CloudFormation takes at most ${TEMPLATE_BODY_LIMIT} inline`, {
        hint: `Upload it to S3 and pass --template-url <https://bucket.s3.amazonaws.com/prefix> (e3 appends /${templateFileName(template)})`,
      });
    }
    return { TemplateBody: body };
  }
  if (options.templateUrl) return { TemplateURL: `${options.templateUrl.replace(/\/$/, '')}/${templateFileName(template)}` };
  throw new E3Error('PROVISION', `no CloudFormation template ${templateFileName(template)} in ${dirs.join(' or ')}`, {
    hint: `Put ${templateFileName(template)} in ${dirs[0]} (e3 ships every one in its own e3-home/templates: copy it from there), or pass --template-url`,
  });
}
