// One phase of the Turbo pipeline (pipeline/package.json): runs `e3 <phase>` for $E3_RUN from source.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const phase = process.argv[2];
const run = process.env.E3_RUN;
if (!run) {
  process.stderr.write('[E3_USAGE] E3_RUN is not set\n\nStart the pipeline with `pnpm orchestrate -e <experiment>`\n');
  process.exit(2);
}
const args = phase === 'provision' ? ['provision', '-e', process.env.E3_EXPERIMENT ?? '', '--run', run] : [phase, '-r', run];
const loader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const r = spawnSync(process.execPath, ['--import', loader, '--conditions=source', join(root, 'packages/cli/src/bin.ts'), ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
