import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { E3Error } from '@e3/model';

import type { Script } from './api.js';

/** True when a workload `script` names a file (a user script) rather than a library script. */
export function isUserScriptPath(script: string): boolean {
  return /\.(m?[jt]s|cjs)$/.test(script);
}

/**
 * Bundles a user script file (TypeScript or JavaScript, with its imports) into one ESM source string with
 * esbuild; `@e3/agent` imports resolve to a tiny shim (`defineScript`). Run on the controller or wherever
 * esbuild is installed; the string travels in the `prepare` message's `scripts`.
 * Throws E3_INVALID_FILE when the file does not build.
 */
export async function bundleUserScript(file: string): Promise<string> {
  const esbuild = await import('esbuild');
  try {
    const out = await esbuild.build({
      entryPoints: [file],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'silent',
      plugins: [
        {
          name: 'e3-agent-shim',
          setup(build) {
            build.onResolve({ filter: /^@e3\/agent$/ }, () => ({ path: 'e3-agent-shim', namespace: 'e3' }));
            build.onLoad({ filter: /.*/, namespace: 'e3' }, () => ({ contents: 'export const defineScript = (s) => s;', loader: 'js' }));
          },
        },
      ],
    });
    return out.outputFiles[0]!.text;
  } catch (err) {
    throw new E3Error('INVALID_FILE', `could not bundle the user script ${file}: ${(err as Error).message.split('\n')[0]}`, {
      cause: err,
      hint: `Fix ${file}; it must export a script made with defineScript (see docs/agent.md#script-api).`,
    });
  }
}

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
