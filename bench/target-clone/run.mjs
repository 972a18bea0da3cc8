// Clone throughput through @e3/target (smart HTTP and SSH) beside `git clone file://` of the same repo, in
// the same run. Usage: node --import tsx --conditions=source bench/target-clone/run.mjs [--seconds 10]
// [--concurrency 4] [--commits 200] [--files 100] [--file-kb 8]. Loopback only; everything in a temp dir.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { seedTarget, startTarget } from '../../packages/target/src/index.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '4' },
    commits: { type: 'string', default: '200' },
    files: { type: 'string', default: '100' },
    'file-kb': { type: 'string', default: '8' },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);

function git(args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn('git', args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, GIT_TERMINAL_PROMPT: '0', ...env } });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code, err }));
  });
}

async function measure(name, url, env, work) {
  const deadline = Date.now() + seconds * 1000;
  let done = 0;
  let failed = 0;
  let n = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        const dir = join(work, `${name}-${n++}`);
        const r = await git(['clone', '-q', url, dir], env);
        if (r.code === 0) done++;
        else if (failed++ === 0) process.stderr.write(`${name}: ${r.err}`);
        await rm(dir, { recursive: true, force: true });
      }
    }),
  );
  return { name, clones: done, failed, perSecond: done / ((Date.now() - started) / 1000) };
}

const root = await mkdtemp(join(tmpdir(), 'e3-bench-target-'));
try {
  const data = join(root, 'data');
  // A one-key pool made here with ssh-keygen (E³ keys format).
  const keyFile = join(root, 'id_bench');
  await new Promise((r) => spawn('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', keyFile], { stdio: 'ignore' }).on('close', r));
  const keysPath = join(root, 'keys.json');
  const publicKey = readFileSync(`${keyFile}.pub`, 'utf8').trim();
  await writeFile(keysPath, JSON.stringify({ name: 'bench', count: 1, key_pairs: [{ public_key: publicKey, private_key: readFileSync(keyFile, 'utf8') }] }));
  await seedTarget({ data, home: join(root, 'home'), name: 'bench', projects: 1, repos: 1, users: 1, commits: Number(values.commits), files: Number(values.files), fileKb: Number(values['file-kb']), keys: keysPath });
  const target = await startTarget({ data, httpPort: 0, sshPort: 0, maxGitOps: Math.max(8, concurrency * 2), log: () => undefined });
  const sshEnv = { GIT_SSH_COMMAND: `ssh -F /dev/null -i ${keyFile} -o IdentitiesOnly=yes -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR -o BatchMode=yes` };
  const u = new URL(target.url);
  const work = join(root, 'work');
  const results = [];
  results.push(await measure('file', `file://${join(data, 'repos', 'PROJECT_1', 'repo-1.git')}`, {}, work));
  results.push(await measure('http', `http://user-0001:test@${u.host}/scm/PROJECT_1/repo-1.git`, {}, work));
  results.push(await measure('ssh', `ssh://git@127.0.0.1:${target.sshPort}/PROJECT_1/repo-1.git`, sshEnv, work));
  await target.close();
  const base = results[0].perSecond;
  process.stdout.write(`clone throughput, ${concurrency} concurrent clients, ${seconds} s each (repo: ${values.commits} commits, ${values.files} files × ${values['file-kb']} KiB)\n`);
  for (const r of results) {
    process.stdout.write(`${r.name.padEnd(5)} ${r.perSecond.toFixed(2).padStart(8)} clone/s  ${String(r.clones).padStart(5)} clones  ${r.failed} failed  ratio to file:// ${(r.perSecond / base).toFixed(2)}\n`);
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
