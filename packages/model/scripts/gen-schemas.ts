/** Writes schemas/*.schema.json from the TypeBox schemas in packages/model/src/schemas. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { jsonSchemas } from '../src/schemas/index.js';

const out = fileURLToPath(new URL('../../../schemas/', import.meta.url));
mkdirSync(out, { recursive: true });
for (const [file, schema] of Object.entries(jsonSchemas())) {
  writeFileSync(join(out, file), JSON.stringify(schema, null, 2) + '\n');
}
process.stdout.write(`wrote ${Object.keys(jsonSchemas()).length} schemas to schemas/\n`);
