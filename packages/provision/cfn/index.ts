import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { bitbucketDataCenter } from './bitbucket-data-center.js';
import { bitbucketServer } from './bitbucket-server.js';
import type { JsonObject } from './common.js';

/** The templates e3 generates, by name: `e3-home/templates/<name>.template`. */
export const GENERATED = { BitbucketServer: bitbucketServer, BitbucketDataCenter: bitbucketDataCenter } as const;
export type GeneratedTemplate = keyof typeof GENERATED;

/** A template as committed: JSON, 2-space indent, trailing newline. */
export const templateText = (template: JsonObject): string => `${JSON.stringify(template, null, 2)}\n`;

/** Every generated template's object, built with the collectd config of the repository at `root`. */
export async function buildTemplates(root: string): Promise<Record<GeneratedTemplate, JsonObject>> {
  const config = await readFile(join(root, 'e3-home/config/collectd-bitbucket.conf'), 'utf8');
  return { BitbucketServer: GENERATED.BitbucketServer(config), BitbucketDataCenter: GENERATED.BitbucketDataCenter(config) };
}
