import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { buildTemplates, templateText } from '../cfn/index.js';

/** Writes e3-home/templates/BitbucketServer.template and BitbucketDataCenter.template from packages/provision/cfn. */
const root = join(import.meta.dirname, '../../..');
for (const [name, template] of Object.entries(await buildTemplates(root))) {
  const file = join(root, 'e3-home/templates', `${name}.template`);
  await writeFile(file, templateText(template));
  process.stdout.write(`wrote ${file}\n`);
}
