// Builds dist/e3-agent.cjs: the whole agent (its dependencies and @e3/model included) in one file that
// needs only Node ≥ 20 and git on a worker. esbuild stays external: it is only used to bundle user scripts
// where it is installed (the controller).
import { build } from 'esbuild';
import { chmod, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'dist', 'e3-agent.cjs');
await build({
  entryPoints: [join(root, 'src', 'bin.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  conditions: ['source'],
  external: ['esbuild'],
  // import.meta.url does not exist in CommonJS: give the bundled ESM sources the bundle's own URL.
  define: { 'import.meta.url': '__e3ImportMetaUrl' },
  banner: { js: "#!/usr/bin/env node\nconst __e3ImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  legalComments: 'none',
  logLevel: 'warning',
});
await chmod(outfile, 0o755);
const { size } = await stat(outfile);
console.log(`dist/e3-agent.cjs: ${size.toLocaleString('en-US')} bytes (${(size / 2 ** 20).toFixed(2)} MiB)`);
