// bench/agent-http: e3-agent vs autocannon vs wrk, loopback keep-alive GET against the same minimal server,
// server pinned to CPU 0 and each load generator to CPU 1, one after the other in the same run.
// Usage: node bench/agent-http/run.mjs [--duration 10] [--connections 32]   (needs dist/e3-agent.cjs: pnpm build)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..', '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const duration = Number(arg('duration', '10'));
const connections = Number(arg('connections', '32'));
const cpus = Number(execFileSync('nproc').toString());
const [serverCpu, loadCpu] = cpus >= 2 ? ['0', '1'] : ['0', '0'];
const has = (cmd) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
};
const pin = (cpu, cmd, args) => (has('taskset') ? ['taskset', ['-c', cpu, cmd, ...args]] : [cmd, args]);

async function startServer() {
  const [cmd, args] = pin(serverCpu, process.execPath, [join(here, 'server.mjs')]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => createInterface({ input: child.stdout }).once('line', (l) => resolve(Number(l))));
  return { child, url: `http://127.0.0.1:${port}` };
}

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const [c, a] = pin(loadCpu, cmd, args);
    const child = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${err.slice(-500)}`))));
  });
}

async function wrk(url) {
  const out = await run('wrk', ['-t1', `-c${connections}`, `-d${duration}s`, url]);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
}

async function autocannon(url) {
  const bin = join(pkg, 'node_modules', 'autocannon', 'autocannon.js');
  const out = await run(process.execPath, [bin, '-c', String(connections), '-d', String(duration), '--json', url]);
  const r = JSON.parse(out.slice(out.indexOf('{')));
  return r.requests.total / (r.duration || duration);
}

async function agent(url) {
  const dir = mkdtempSync(join(tmpdir(), 'e3-bench-http-'));
  writeFileSync(join(dir, 'workload.json'), JSON.stringify([{ script: join(here, 'get.mjs'), description: 'Get', weight: 1 }]));
  writeFileSync(join(dir, 'instance.json'), JSON.stringify({ URL: url }));
  writeFileSync(join(dir, 'snapshot.json'), JSON.stringify({ projects: [{ name: 'P', repos: [{ name: 'r' }] }] }));
  try {
    await run(process.execPath, [
      join(pkg, 'dist', 'e3-agent.cjs'), '--workload', join(dir, 'workload.json'), '--instance', join(dir, 'instance.json'),
      '--snapshot', join(dir, 'snapshot.json'), '--clients', String(connections), '--duration', `${duration}s`,
      '--out', join(dir, 'stage'), '--work-dir', join(dir, 'work'), '--quiet',
    ]);
    const summary = JSON.parse(readFileSync(join(dir, 'stage', 'summary.json'), 'utf8'));
    const req = summary.ops.find((o) => o.kind === 'request');
    const lines = readFileSync(join(dir, 'stage', 'samples.csv'), 'utf8').split('\n').filter(Boolean).length - 1;
    if (lines !== summary.samples) throw new Error(`samples.csv has ${lines} rows, summary says ${summary.samples}`);
    return { rps: req.count / (summary.durationMs / 1000), samples: summary.samples, errors: req.errors };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const server = await startServer();
try {
  const results = {};
  if (has('wrk')) results.wrk = await wrk(server.url);
  results.autocannon = await autocannon(server.url);
  const a = await agent(server.url);
  results['e3-agent'] = a.rps;
  const rows = Object.entries(results).map(([k, v]) => `${k.padEnd(12)} ${v.toFixed(0).padStart(8)} req/s`);
  process.stdout.write(`loopback keep-alive GET, ${connections} connections, ${duration} s, server on CPU ${serverCpu}, load on CPU ${loadCpu}\n`);
  process.stdout.write(rows.join('\n') + '\n');
  process.stdout.write(`e3-agent / autocannon = ${(results['e3-agent'] / results.autocannon).toFixed(2)}\n`);
  if (results.wrk) process.stdout.write(`e3-agent / wrk        = ${(results['e3-agent'] / results.wrk).toFixed(2)}\n`);
  process.stdout.write(`e3-agent wrote ${a.samples} samples (every request and every pass), ${a.errors} errors\n`);
} finally {
  server.child.kill();
}
