import { execFileSync, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { beforeAll, describe, expect, it } from '@jest/globals';
import { bundleUserScript } from '@e3/agent';
import { readSamples, type AgentMessage } from '@e3/model';
import { makeTmpDir } from '@e3/test-utils';

import { listen } from './helpers.js';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(pkg, 'dist', 'e3-agent.cjs');

beforeAll(() => {
  execFileSync(process.execPath, [join(pkg, 'scripts', 'bundle.mjs')], { stdio: 'pipe' });
});

describe('samples.csv after kill -9', () => {
  it('holds every request the server saw complete more than a second before the kill', async () => {
    const dir = await makeTmpDir();
    // Ground truth: the server timestamps each response as it finishes sending it.
    const completedAt: number[] = [];
    const srv = await listen((_req, res) => {
      res.on('finish', () => completedAt.push(Date.now()));
      setTimeout(() => res.end('pong'), 10);
    });
    const script = join(dir, 'ping.ts');
    await writeFile(script, `import { defineScript } from '@e3/agent';\nexport const script = defineScript({ name: 'user.Ping', async run(ctx) { await ctx.http.get('/ping'); } });\n`);
    const stageDir = join(dir, 'worker-node-001', 'stage-000');
    const child = spawn(process.execPath, [bundle], { stdio: 'pipe' });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
    const messages: AgentMessage[] = [];
    let wake: (() => void) | undefined;
    createInterface({ input: child.stdout }).on('line', (line) => {
      messages.push(JSON.parse(line) as AgentMessage);
      wake?.();
    });
    const waitFor = async (pred: (m: AgentMessage[]) => boolean) => {
      for (let i = 0; i < 10_000 && !pred(messages); i++) await new Promise<void>((r) => (wake = r));
    };
    try {
      await waitFor((m) => m.some((x) => x.type === 'hello'));
      const send = (msg: unknown) => child.stdin.write(JSON.stringify(msg) + '\n');
      send({
        type: 'prepare', stageDir, workDir: join(dir, 'work'), workload: [{ script: 'ping.ts', description: 'Ping', weight: 1 }],
        instance: { URL: srv.url }, snapshot: { projects: [{ name: 'P', repos: [{ name: 'r' }] }] }, scripts: { 'ping.ts': await bundleUserScript(script) },
      });
      await waitFor((m) => m.some((x) => x.type === 'ready' || x.type === 'error'));
      expect(messages.find((x) => x.type === 'error')).toBeUndefined();
      send({ type: 'start', clients: 2, durationMs: 120_000 });
      // A few seconds of load, then the agent dies without a chance to close its files.
      await waitFor((m) => m.filter((x) => x.type === 'tick').length >= 4);
      const killedAt = Date.now();
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      const before = completedAt.filter((t) => t < killedAt - 1000).length;
      const served = completedAt.length;
      let requests = 0;
      for await (const row of readSamples(join(stageDir, 'samples.csv'))) if (row.kind === 'request' && row.ok) requests++;
      // The load was real, every request the server finished a second before the kill is on disk, and no
      // row was invented.
      expect(before).toBeGreaterThan(20);
      expect(requests).toBeGreaterThanOrEqual(before);
      expect(requests).toBeLessThanOrEqual(served);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await srv.close();
    }
  });
});
