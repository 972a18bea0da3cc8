import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { beforeAll, describe, expect, it } from '@jest/globals';
import { bundleUserScript } from '@e3/agent';
import { Value } from '@sinclair/typebox/value';
import { AgentMessageSchema, StageSummarySchema, type AgentMessage } from '@e3/model';
import { makeTmpDir } from '@e3/test-utils';

import { listen } from './helpers.js';


const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(pkg, 'dist', 'e3-agent.cjs');

beforeAll(() => {
  execFileSync(process.execPath, [join(pkg, 'scripts', 'bundle.mjs')], { stdio: 'pipe' });
});

interface Agent {
  child: ChildProcessWithoutNullStreams;
  send(msg: unknown): void;
  next(type?: AgentMessage['type']): Promise<AgentMessage>;
  all: AgentMessage[];
  exited: Promise<number | null>;
}

function startAgent(): Agent {
  const child = spawn(process.execPath, [bundle], { stdio: 'pipe' });
  const all: AgentMessage[] = [];
  const waiting: (() => void)[] = [];
  let cursor = 0;
  createInterface({ input: child.stdout }).on('line', (line) => {
    const msg = JSON.parse(line) as AgentMessage;
    expect(Value.Check(AgentMessageSchema, msg)).toBe(true);
    all.push(msg);
    waiting.splice(0).forEach((w) => w());
  });
  let stderr = '';
  let dead = false;
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) =>
    child.on('exit', (code) => {
      dead = true;
      waiting.splice(0).forEach((w) => w());
      r(code);
    }),
  );
  return {
    child,
    all,
    exited,
    send: (msg) => child.stdin.write(JSON.stringify(msg) + '\n'),
    async next(type) {
      for (;;) {
        while (cursor < all.length) {
          const m = all[cursor++]!;
          if (!type || m.type === type || m.type === 'error') return m;
        }
        if (dead) throw new Error(`the agent exited: ${stderr.slice(0, 2000)}`);
        await new Promise<void>((r) => waiting.push(r));
      }
    },
  };
}

async function prepareMessage(dir: string, url: string) {
  const file = join(dir, 'ping.ts');
  await writeFile(
    file,
    `import { defineScript } from '@e3/agent';\nconst path: string = '/ping';\nexport const script = defineScript({ name: 'user.Ping', async run(ctx) { await ctx.http.get(path); } });\n`,
  );
  return {
    type: 'prepare',
    stageDir: join(dir, 'worker-node-001', 'stage-000'),
    workDir: join(dir, 'work'),
    workload: [{ script: 'ping.ts', description: 'Ping', weight: 1 }],
    instance: { URL: url },
    snapshot: { projects: [{ name: 'P', repos: [{ name: 'r' }] }] },
    scripts: { 'ping.ts': await bundleUserScript(file) },
    worker: 'worker-node-001',
  };
}

describe('e3-agent.cjs over stdio', () => {
  it('hello → prepare → ready → start → ticks → done, with a bundled user script', async () => {
    const dir = await makeTmpDir();
    const srv = await listen((_req, res) => res.end('pong'));
    const agent = startAgent();
    try {
      const hello = await agent.next('hello');
      expect(hello).toMatchObject({ type: 'hello', protocol: 1, cpus: expect.any(Number) });
      agent.send(await prepareMessage(dir, srv.url));
      expect(await agent.next('ready')).toEqual({ type: 'ready', jobs: ['user.Ping'] });
      agent.send({ type: 'start', clients: 2, durationMs: 2200, clientOffset: 4, totalClients: 6 });
      const done = await agent.next('done');
      if (done.type !== 'done') throw new Error(JSON.stringify(done));
      expect(Value.Check(StageSummarySchema, done.summary)).toBe(true);
      expect(done.summary).toMatchObject({ worker: 'worker-node-001', clients: 2, clientOffset: 4, totalClients: 6, stopped: false });
      expect(done.summary.ops.find((o) => o.kind === 'request')).toMatchObject({ op: 'GET /ping', errors: 0 });
      // done carries the stage's own accounting: every pass ended here (the server answers at once).
      const passes = done.summary.ops.find((o) => o.kind === 'transaction')!;
      expect(done.summary).toMatchObject({ completed: passes.count, cut: 0 });
      expect(done.summary.samples).toBe(passes.count + done.summary.ops.find((o) => o.kind === 'request')!.count);
      const ticks = agent.all.filter((m) => m.type === 'tick');
      expect(ticks.length).toBeGreaterThanOrEqual(2);
      const stageDir = join(dir, 'worker-node-001', 'stage-000');
      for (const f of ['samples.csv', 'summary.json', 'agent.log']) expect(existsSync(join(stageDir, f))).toBe(true);
      expect(JSON.parse(readFileSync(join(stageDir, 'summary.json'), 'utf8')).samples).toBe(done.summary.samples);
    } finally {
      agent.child.stdin.end();
      expect(await agent.exited).toBe(0);
      await srv.close();
    }
  });

  it('paces closed-model clients by the think time of start', async () => {
    const dir = await makeTmpDir();
    const srv = await listen((_req, res) => res.end('pong'));
    const agent = startAgent();
    try {
      await agent.next('hello');
      agent.send(await prepareMessage(dir, srv.url));
      await agent.next('ready');
      agent.send({ type: 'start', clients: 2, durationMs: 1200, thinkTimeMs: { min: 250, max: 250 } });
      const done = await agent.next('done');
      if (done.type !== 'done') throw new Error(JSON.stringify(done));
      const passes = done.summary.ops.find((o) => o.kind === 'transaction')!.count;
      expect(passes).toBeGreaterThanOrEqual(2 * 4);
      expect(passes).toBeLessThanOrEqual(2 * 6);
    } finally {
      agent.child.stdin.end();
      await agent.exited;
      await srv.close();
    }
  });

  it('answers a bad message with an error and stays up; stop ends the stage early', async () => {
    const dir = await makeTmpDir();
    const srv = await listen((_req, res) => res.end('pong'));
    const agent = startAgent();
    try {
      await agent.next('hello');
      agent.send({ type: 'start', durationMs: 10 });
      expect(await agent.next('error')).toMatchObject({ type: 'error', code: 'E3_AGENT', message: 'start before prepare' });
      agent.child.stdin.write('not json\n');
      expect(await agent.next('error')).toMatchObject({ code: 'E3_AGENT' });
      agent.send({ type: 'prepare', stageDir: dir });
      expect(await agent.next('error')).toMatchObject({ code: 'E3_AGENT', message: expect.stringContaining('bad control message') });
      agent.send({ ...(await prepareMessage(dir, srv.url)), workload: [{ script: 'bitbucket.scm.Nope', description: 'x', weight: 1 }] });
      expect(await agent.next('error')).toMatchObject({ code: 'E3_INVALID_FILE' });
      agent.send(await prepareMessage(dir, srv.url));
      await agent.next('ready');
      agent.send({ type: 'start', clients: 1, durationMs: 60_000 });
      await agent.next('tick');
      agent.send({ type: 'stop', reason: 'test' });
      const done = await agent.next('done');
      expect(done).toMatchObject({ type: 'done', summary: { stopped: true } });
    } finally {
      agent.child.stdin.end();
      await agent.exited;
      await srv.close();
    }
  });

  it('when the channel drops mid-stage, finishes its files and exits', async () => {
    const dir = await makeTmpDir();
    const srv = await listen((_req, res) => res.end('pong'));
    const agent = startAgent();
    try {
      await agent.next('hello');
      agent.send(await prepareMessage(dir, srv.url));
      await agent.next('ready');
      agent.send({ type: 'start', clients: 1, durationMs: 60_000 });
      await agent.next('tick');
      agent.child.stdin.end();
      expect(await agent.exited).toBe(0);
      const summary = JSON.parse(readFileSync(join(dir, 'worker-node-001', 'stage-000', 'summary.json'), 'utf8'));
      expect(summary.stopped).toBe(true);
      expect(summary.samples).toBeGreaterThan(0);
    } finally {
      await srv.close();
    }
  });
});
