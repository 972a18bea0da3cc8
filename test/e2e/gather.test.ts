import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, cp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readGatherManifest, readPhaseStatus, readStages, readSamples } from '@e3/model';
import { makeTmpDir, repoRoot, useNetnsHosts, writeTree } from '@e3/test-utils';

import { gather } from '@e3/gather';
import { runExperiment } from '@e3/run';

const agentBundle = join(repoRoot, 'packages/agent/dist/e3-agent.cjs');
const net = useNetnsHosts(3);
const PORT = 18081;
let server: ChildProcess;
let sutUrl: string;

beforeAll(async () => {
  const h = net.current.hosts[2]!;
  const script = `require('node:http').createServer((q, s) => s.end('{"state":"RUNNING"}')).listen(${PORT}, '0.0.0.0'); setTimeout(() => process.exit(0), 600000).unref();`;
  server = spawn('ip', ['netns', 'exec', h.netns, process.execPath, '-e', script], { stdio: 'ignore' });
  sutUrl = `http://${h.ip}:${PORT}`;
  for (let i = 0; i < 100 && !(await fetch(`${sutUrl}/status`).then((r) => r.ok, () => false)); i++) await sleep(100);
});
afterAll(() => {
  server?.kill('SIGKILL');
});

/** Every file under `dir` with its content, relative paths as keys. */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath, e.name);
    out[relative(dir, p)] = (await readFile(p)).toString('base64');
  }
  return out;
}

describe('e3 gather from SSH workers', () => {
  it('gathers during and after a run incrementally, equal to one gather after it; survives deprovision; reports an unreachable node', async () => {
    const home = await makeTmpDir();
    const dataDir = join(home, 'node-data');
    const run = 'g-20261125T000000Z';
    const hosts = net.current.hosts;
    const workers = { Name: 'workers', ClusterNodes: [hosts[0]!.node, hosts[1]!.node], dataDir };
    const keyFile = net.current.keyFile;
    await writeTree(home, {
      'workloads/status.json': [{ script: 'bitbucket.web.Status', description: 'Status', weight: 1 }],
      'snapshots/s.json': { name: 's', projects: [{ name: 'P', repos: [{ name: 'r', weight: 1, branches: [{ id: 'refs/heads/master', displayId: 'master' }] }] }], users: [{ username: 'u', password: 'p' }] },
      'instances/workers.json': { ClusterNodes: workers.ClusterNodes, dataDir, KeyFile: net.current.keyFile },
      [`runs/${run}/${run}.json`]: {
        run_name: run, duration: 2500, workload: 'status',
        threads: [{ name: 't', instance: { snapshot: 's', stack: { Name: 'sut', ClusterNodes: ['localhost'], URL: sutUrl, reset: 'none', logDirs: [join(home, 'sut-log')] } }, worker: { stack: { ...workers, KeyFile: keyFile } }, stages: [{ clients: 2 }, { clients: 3 }] }],
      },
      'sut-log/atlassian-bitbucket.log': 'started\n',
    });
    const runDir = join(home, 'runs', run);

    // Gather while the second stage runs, then again after the run.
    const running = runExperiment({ run, home, agentBundle, graceMs: 300 });
    for (let i = 0; i < 300 && (await readStages(runDir, 0).catch(() => undefined))?.stages[1]?.status !== 'running'; i++) await sleep(100);
    await sleep(800);
    const during = await gather({ run, home });
    expect(during.status).toBe('succeeded');
    expect(during.nodes.find((n) => n.dir === 'thread-001/worker-node-001')!.filesMoved).toBeGreaterThan(0);
    await running;
    const after = await gather({ run, home });
    expect(after.status).toBe('succeeded');
    await writeFile(join(home, 'sut-log/atlassian-bitbucket.log'), 'started\nstopped\n');

    // One gather of the finished run into a fresh copy of the run dir (no node folders yet).
    const fresh = await makeTmpDir();
    await cp(join(home, 'instances'), join(fresh, 'instances'), { recursive: true });
    await cp(join(home, 'workloads'), join(fresh, 'workloads'), { recursive: true });
    await mkdir(join(fresh, 'runs', run), { recursive: true });
    for (const f of [`${run}.json`, 'phases', 'thread-001/stages.json']) await cp(join(runDir, f), join(fresh, 'runs', run, f), { recursive: true });
    expect((await gather({ run, home: fresh })).status).toBe('succeeded');
    await gather({ run, home });
    for (const w of ['worker-node-001', 'worker-node-002', 'cluster-node-001']) {
      expect(await tree(join(runDir, 'thread-001', w))).toEqual(await tree(join(fresh, 'runs', run, 'thread-001', w)));
    }
    let rows = 0;
    for await (const _ of readSamples(join(runDir, 'thread-001/worker-node-002/stage-001/samples.csv'))) rows++;
    expect(rows).toBeGreaterThan(0);

    // Nothing changed: a second gather moves no sample bytes.
    const again = await gather({ run, home });
    expect(again.nodes.reduce((a, n) => a + n.sampleBytesMoved, 0)).toBe(0);
    expect(again.bytesMoved).toBe(0);
    const manifest = (await readGatherManifest(runDir))!;
    const w1 = manifest.nodes.find((n) => n.dir === 'thread-001/worker-node-001')!;
    expect(w1.files['thread-001/worker-node-001/stage-001/samples.csv']).toMatchObject({ size: (await stat(join(runDir, 'thread-001/worker-node-001/stage-001/samples.csv'))).size });
    expect(w1.files['thread-001/worker-node-001/stage-001/samples.csv']!.sha256).toMatch(/^[0-9a-f]{64}$/);

    // Deprovision archived the instance files: the run file's copy and the archived pem still reach every node.
    await rm(join(home, 'instances'), { recursive: true });
    await mkdir(join(runDir, 'instances'), { recursive: true });
    await copyFile(net.current.keyFile, join(runDir, 'instances/workers.pem'));
    const runFile = JSON.parse(await readFile(join(runDir, `${run}.json`), 'utf8'));
    runFile.threads[0].worker.stack = { ...workers, HostKeys: { [hosts[0]!.node]: hosts[0]!.hostKey, [hosts[1]!.node]: hosts[1]!.hostKey } };
    await writeFile(join(runDir, `${run}.json`), JSON.stringify(runFile));
    const archived = await gather({ run, home });
    expect(archived.nodes.map((n) => [n.dir, n.error?.code])).toEqual([
      ['thread-001/cluster-node-001', undefined],
      ['thread-001/worker-node-001', undefined],
      ['thread-001/worker-node-002', undefined],
    ]);

    // An unreachable node: its error, the others complete, a partial status.
    runFile.threads[0].worker.stack.ClusterNodes.push(`root@${net.current.unusedIp}`);
    await writeFile(join(runDir, `${run}.json`), JSON.stringify(runFile));
    const partial = await gather({ run, home, insecureHostKeys: true });
    expect(partial.status).toBe('partial');
    expect(partial.nodes.filter((n) => n.error).map((n) => [n.dir, n.error!.code])).toEqual([
      ['thread-001/worker-node-003', expect.stringMatching(/^E3_NODE_(UNREACHABLE|TIMEOUT)$/)],
    ]);
    expect(await readPhaseStatus(runDir, 'gather')).toMatchObject({ status: 'partial', error: { code: 'E3_GATHER_PARTIAL' } });
  });
});
