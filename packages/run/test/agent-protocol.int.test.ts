import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AGENT_PROTOCOL_VERSION, readPhaseStatus, readStages, runDirPaths } from '@e3/model';
import { makeTmpDir } from '@e3/test-utils';

import { runExperiment } from '@e3/run';

import { statusServer, writeRunHome } from './helpers.js';

let server: Awaited<ReturnType<typeof statusServer>>;
beforeAll(async () => {
  server = await statusServer();
});
afterAll(() => server.close());

const hello = { type: 'hello', protocol: AGENT_PROTOCOL_VERSION, version: '0.1.0', host: 'w', cpus: 1, node: process.version, pid: 1 };

/** An "agent bundle" that says `first` and then waits for its stdin to close, like an agent would. */
async function fakeBundle(dir: string, first: unknown): Promise<string> {
  const file = join(dir, 'fake-agent.cjs');
  await writeFile(file, `process.stdout.write(${JSON.stringify(JSON.stringify(first) + '\n')});\nprocess.stdin.resume();\nprocess.stdin.on('end', () => process.exit(0));\n`);
  return file;
}

async function runWith(first: unknown) {
  const home = await makeTmpDir();
  const run = 'proto-20261125T000000Z';
  await writeRunHome(home, { run, url: server.url, durationMs: 500, threads: [{ name: 'a', workers: ['localhost'], stages: [{ clients: 1 }] }] });
  const agentBundle = await fakeBundle(home, first);
  const err = await runExperiment({ run, home, agentBundle }).catch((e: unknown) => e);
  const runDir = join(home, 'runs', run);
  const samples = await access(runDirPaths(runDir).samplesFile(0, 0, 0)).then(() => true, () => false);
  return { err, runDir, samples };
}

describe('e3 run with an agent of another kind', () => {
  it('refuses an agent that speaks another protocol version: E3_AGENT_PROTOCOL (exit 3), no load, the run failed', async () => {
    const { err, runDir, samples } = await runWith({ ...hello, protocol: AGENT_PROTOCOL_VERSION + 1, version: '9.9.9' });
    expect(err).toMatchObject({ code: 'E3_AGENT_PROTOCOL', exitCode: 3, hint: expect.stringMatching(/--agent-bundle/) });
    expect((err as Error).message).toContain(`speaks control protocol ${AGENT_PROTOCOL_VERSION + 1} (agent 9.9.9), this e3 speaks ${AGENT_PROTOCOL_VERSION}`);
    expect(samples).toBe(false);
    expect(await readPhaseStatus(runDir, 'run')).toMatchObject({ status: 'failed', error: { code: 'E3_AGENT_PROTOCOL' } });
    expect((await readStages(runDir, 0))!.stages[0]!.status).toBe('pending');
  });

  it('refuses an agent whose hello breaks the schema: E3_AGENT naming the field', async () => {
    const { err, samples } = await runWith({ ...hello, cpus: 'many' });
    expect(err).toMatchObject({ code: 'E3_AGENT', message: expect.stringContaining('sent a malformed message: /cpus: must be integer') });
    expect(samples).toBe(false);
  });
});
