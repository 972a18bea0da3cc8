import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { embedWorkerConfig } from '../src/template.js';

/** Embeds e3-home/config/collectd-worker.conf in e3-home/templates/WorkerCluster.template. */
const root = join(import.meta.dirname, '../../..');
const file = join(root, 'e3-home/templates/WorkerCluster.template');
const config = await readFile(join(root, 'e3-home/config/collectd-worker.conf'), 'utf8');
await writeFile(file, embedWorkerConfig(await readFile(file, 'utf8'), config));
process.stdout.write(`wrote ${file}\n`);
