// `pnpm orchestrate -e <experiment> [--run <name>] [--retain] [--only <phase>]`: e3's phases as Turbo
// tasks (turbo.json: e3:provision → e3:run → e3:gather → e3:analyze → e3:deprovision). `--only` re-runs
// one phase of an existing run; an analyze whose inputs did not change is a Turbo cache hit.
import { spawnSync } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.findIndex((a) => a === name || a === name.replace(/^--/, '-').slice(0, 2));
  return i >= 0 ? argv[i + 1] : undefined;
};
const experiment = opt('--experiment') ?? opt('-e');
const only = opt('--only');
const retain = argv.includes('--retain');
const phases = ['provision', 'run', 'gather', 'analyze', 'deprovision'];
if (argv.includes('--help') || (!experiment && !only) || (only && !phases.includes(only))) {
  process.stdout.write(
    'Usage: pnpm orchestrate -e <experiment> [--run <name>] [--retain]\n' +
      `       pnpm orchestrate --run <name> --only <${phases.join('|')}>\n\n` +
      "Runs e3's phases as Turbo tasks (see docs/orchestrate.md).\n",
  );
  process.exit(argv.includes('--help') ? 0 : 2);
}
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
const run = opt('--run') ?? `${basename(experiment ?? '', '.json')}-${stamp}`;
const task = only ?? (retain ? 'analyze' : 'deprovision');
const r = spawnSync(
  join(root, 'node_modules/.bin/turbo'),
  ['run', `e3:${task}`, '--filter=@e3/pipeline', '--env-mode=loose', '--output-logs=full', ...(only ? ['--only'] : [])],
  { stdio: 'inherit', env: { ...process.env, E3_RUN: run, ...(experiment ? { E3_EXPERIMENT: experiment } : {}) } },
);
process.stdout.write(`run: ${run}\n`);
process.exit(r.status ?? 1);
