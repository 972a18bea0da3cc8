// bench/agent-git: e3-agent clones/s vs an `xargs -P` loop of the same `git clone` commands, both pinned to
// the same CPU, same repository (file:// URL, so git's upload-pack/pack-objects do the serving work).
// Usage: node bench/agent-git/run.mjs [--duration 10] [--concurrency 4] [--files 300] [--rounds 3]   (needs dist/e3-agent.cjs)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..', '..', 'packages', 'agent');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const duration = Number(arg('duration', '10'));
const concurrency = Number(arg('concurrency', '4'));
const files = Number(arg('files', '300'));
const cpu = Number(execFileSync('nproc').toString()) >= 2 ? '1' : '0';

const dir = mkdtempSync(join(tmpdir(), 'e3-bench-git-'));
const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: dir, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' };
const git = (args, cwd) => execFileSync('git', args, { cwd, env, stdio: 'pipe' });
try {
  const work = join(dir, 'src');
  mkdirSync(work);
  git(['init', '--quiet', '-b', 'master', work]);
  for (let i = 0; i < files; i++) writeFileSync(join(work, `f${i}.txt`), `file ${i}\n`.repeat(50 + (i % 50)));
  git(['add', '.'], work);
  git(['commit', '--quiet', '-m', 'init'], work);
  const bare = join(dir, 'repo.git');
  git(['clone', '--quiet', '--bare', work, bare]);
  const url = `file://${bare}`;

  const rounds = Number(arg('rounds', '3'));
  mkdirSync(join(dir, 'x'));
  const probe = Date.now();
  spawnSync('taskset', ['-c', cpu, 'sh', '-c', `git clone --quiet ${url} ${dir}/x/probe && rm -rf ${dir}/x/probe`], { env });
  const perClone = Math.max(5, Date.now() - probe);
  const count = Math.max(concurrency * 4, Math.round((duration * 1000) / perClone));

  /** xargs -P: a fixed number of clones (about `duration` worth), timed. */
  const xargs = () => {
    const t0 = Date.now();
    const r = spawnSync('taskset', ['-c', cpu, 'sh', '-c', `seq ${count} | xargs -P ${concurrency} -I{} sh -c 'git clone --quiet ${url} ${dir}/x/{} && rm -rf ${dir}/x/{}'`], { env, stdio: 'pipe' });
    if (r.status !== 0) throw new Error(`xargs loop failed: ${r.stderr}`);
    return count / ((Date.now() - t0) / 1000);
  };

  /**
   * e3-agent: closed model, `concurrency` clients, every clone a sample. Like the xargs loop (a count over the
   * time it took), the rate is every clone over the time from the stage start to the last clone's end
   * (clones still running at the end finish in the grace period).
   */
  writeFileSync(join(dir, 'workload.json'), JSON.stringify([{ script: join(here, 'clone.mjs'), description: 'Clone', weight: 1, options: { url } }]));
  writeFileSync(join(dir, 'instance.json'), JSON.stringify({ URL: 'http://127.0.0.1:9' }));
  writeFileSync(join(dir, 'snapshot.json'), JSON.stringify({ projects: [{ name: 'P', repos: [{ name: 'r' }] }] }));
  let last;
  const agent = () => {
    rmSync(join(dir, 'stage'), { recursive: true, force: true });
    const a = spawnSync('taskset', ['-c', cpu, process.execPath, join(pkg, 'dist', 'e3-agent.cjs'),
      '--workload', join(dir, 'workload.json'), '--instance', join(dir, 'instance.json'), '--snapshot', join(dir, 'snapshot.json'),
      '--clients', String(concurrency), '--duration', `${duration}s`, '--out', join(dir, 'stage'), '--work-dir', join(dir, 'work'), '--quiet'], { env, stdio: 'pipe' });
    if (a.status !== 0) throw new Error(`agent failed: ${a.stderr}`);
    const summary = JSON.parse(readFileSync(join(dir, 'stage', 'summary.json'), 'utf8'));
    const rows = readFileSync(join(dir, 'stage', 'samples.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    const clones = rows.filter((f) => f[3] === 'git clone' && f[7] === '1');
    const end = Math.max(...clones.map((f) => Number(f[0]) + Number(f[1])));
    last = summary.ops.find((o) => o.kind === 'request' && o.op === 'git clone');
    return clones.length / ((end - summary.start) / 1000);
  };

  const median = (xs) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];
  const xs = [];
  const as = [];
  const ratios = [];
  for (let r = 0; r < rounds; r++) {
    let x;
    let y;
    if (r % 2 === 0) {
      x = xargs();
      y = agent();
    } else {
      y = agent();
      x = xargs();
    }
    xs.push(x);
    as.push(y);
    ratios.push(y / x);
    process.stderr.write(`round ${r + 1}: xargs ${x.toFixed(2)}, e3-agent ${y.toFixed(2)} clones/s\n`);
  }
  process.stdout.write(`git clone of a ${files}-file repo (file://), ${concurrency} concurrent, CPU ${cpu}, ${rounds} rounds\n`);
  process.stdout.write(`xargs -P      ${median(xs).toFixed(2).padStart(7)} clones/s (median; ${xs.map((v) => v.toFixed(2)).join(', ')})\n`);
  process.stdout.write(`e3-agent      ${median(as).toFixed(2).padStart(7)} clones/s (median; ${as.map((v) => v.toFixed(2)).join(', ')}; last stage ${last.errors} errors, p95 ${last.p95} ms)\n`);
  process.stdout.write(`e3-agent / xargs = ${median(ratios).toFixed(2)} (median of per-round ratios: ${ratios.map((v) => v.toFixed(2)).join(', ')})\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
