// bench/agent-http: e3-agent vs autocannon vs wrk, loopback keep-alive GET against the same minimal server,
// server pinned to CPU 0 and each load generator to CPU 1, one after the other in the same run.
// Usage: node bench/agent-http/run.mjs [--duration 10] [--connections 32] [--rounds 3]   (needs dist/e3-agent.cjs: pnpm build)
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..', '..', 'packages', 'agent');
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

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
let lastCpu = NaN;

/** Runs a load generator pinned to the load CPU; records its CPU seconds (user + system) in lastCpu. */
function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const [c0, a0] = pin(loadCpu, cmd, args);
    const [c, a] = TIME ? [TIME, ['-f', 'E3CPU %U %S', c0, ...a0]] : [c0, a0];
    const child = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const m = /E3CPU ([\d.]+) ([\d.]+)/.exec(err);
      lastCpu = m ? Number(m[1]) + Number(m[2]) : NaN;
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} exited ${code}: ${err.slice(-500)}`));
    });
  });
}

async function wrk(url) {
  const out = await run('wrk', ['-t1', `-c${connections}`, `-d${duration}s`, url]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  return { rps, cpuUs: (lastCpu * 1e6) / (rps * duration) };
}

async function autocannon(url) {
  const bin = join(here, '..', 'node_modules', 'autocannon', 'autocannon.js');
  const out = await run(process.execPath, [bin, '-c', String(connections), '-d', String(duration), '--json', url]);
  const r = JSON.parse(out.slice(out.indexOf('{')));
  return { rps: r.requests.total / (r.duration || duration), cpuUs: (lastCpu * 1e6) / r.requests.total };
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
    return { rps: req.count / (summary.durationMs / 1000), cpuUs: (lastCpu * 1e6) / req.count, samples: summary.samples, errors: req.errors };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rounds = Number(arg('rounds', '3'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const server = await startServer();
try {
  const tools = { ...(has('wrk') ? { wrk } : {}), autocannon, 'e3-agent': agent };
  const results = Object.fromEntries(Object.keys(tools).map((k) => [k, []]));
  const cpu = Object.fromEntries(Object.keys(tools).map((k) => [k, []]));
  const srvCost = Object.fromEntries(Object.keys(tools).map((k) => [k, []]));
  const stats = async () => (await fetch(`${server.url}/__stats`)).json();
  const ratios = [];
  for (let r = 0; r < rounds; r++) {
    // rotate the order so no tool always runs first (the machine may be shared)
    const names = Object.keys(tools);
    const order = names.slice(r % names.length).concat(names.slice(0, r % names.length));
    const round = {};
    for (const name of order) {
      await stats();
      const r = await tools[name](server.url);
      const st = await stats();
      srvCost[name].push(st.cpuUs / st.requests);
      round[name] = r.rps;
      cpu[name].push(r.cpuUs);
    }
    for (const name of names) results[name].push(round[name]);
    ratios.push(round['e3-agent'] / round.autocannon);
    process.stderr.write(`round ${r + 1}: ${names.map((n) => `${n} ${round[n].toFixed(0)}`).join(', ')}\n`);
  }
  const last = await agent(server.url);
  process.stdout.write(`loopback keep-alive GET, ${connections} connections, ${duration} s × ${rounds} rounds, server on CPU ${serverCpu}, load on CPU ${loadCpu}\n`);
  for (const [name, xs] of Object.entries(results)) {
    process.stdout.write(`${name.padEnd(12)} ${median(xs).toFixed(0).padStart(8)} req/s (median; ${xs.map((x) => x.toFixed(0)).join(', ')})   ${median(cpu[name]).toFixed(1).padStart(6)} µs CPU/request, server ${median(srvCost[name]).toFixed(1)} µs/request\n`);
  }
  process.stdout.write(`e3-agent / autocannon = ${median(ratios).toFixed(2)} (median of per-round ratios: ${ratios.map((x) => x.toFixed(2)).join(', ')})\n`);
  if (results.wrk) process.stdout.write(`e3-agent / wrk        = ${(median(results['e3-agent']) / median(results.wrk)).toFixed(2)}\n`);
  process.stdout.write(`e3-agent writes every sample: ${last.samples} rows (each request and each pass) in a ${duration} s stage, ${last.errors} errors\n`);
} finally {
  server.child.kill();
}
