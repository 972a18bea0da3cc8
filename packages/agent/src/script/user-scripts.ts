import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { E3Error } from '@e3/model';

export { bundleUserScript, isUserScriptPath } from '@e3/model/bundle';

import type { Script } from './api.js';

/**
 * Loads a bundled user script: writes it to `<dir>/<sha>.mjs` and imports it. The module must export a
 * Script (`defineScript({...})`) as `script`, `default`, or its only export. The script's name is forced
 * to `name` when it has none. Throws E3_INVALID_FILE when no script is exported.
 */
export async function loadUserScript(options: { name: string; code: string; dir: string }): Promise<Script> {
  await mkdir(options.dir, { recursive: true });
  const file = join(options.dir, createHash('sha256').update(options.code).digest('hex').slice(0, 16) + '.mjs');
  await writeFile(file, options.code);
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const candidates = [mod.script, mod.default, ...Object.values(mod)].filter(
    (v): v is Script => typeof v === 'object' && v !== null && typeof (v as Script).run === 'function',
  );
  const found = candidates[0];
  if (!found) {
    throw new E3Error('INVALID_FILE', `user script ${options.name} exports no script`, {
      hint: `Export one: export const script = defineScript({ name: '…', run: async (ctx) => { … } }).`,
    });
  }
  return found.name ? found : { ...found, name: options.name.replace(/\.(m?[jt]s|cjs)$/, '').replace(/[\\/]/g, '.') };
}
