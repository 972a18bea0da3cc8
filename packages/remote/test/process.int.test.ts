import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { connectNode, isRunning, startDetached, stopByPidFile, type NodeHandle } from '@e3/remote';
import { useNetnsHosts } from '@e3/test-utils';

const net = useNetnsHosts(1);

describe.each(['localhost', 'ssh'] as const)('pid-file process control on a %s node', (kind) => {
  let node: NodeHandle;
  let dir: string;

  beforeAll(async () => {
    const host = net.current.hosts[0]!;
    node =
      kind === 'localhost'
        ? await connectNode({ node: 'localhost' })
        : await connectNode({ node: host.node, privateKey: net.current.privateKey, hostKey: { pinned: host.hostKey } });
    dir = (await node.exec('mktemp -d /tmp/e3-proc-XXXXXX', { check: true })).stdout.trim();
  });
  afterAll(async () => {
    await node.exec(['rm', '-rf', dir]);
    await node.close();
  });

  // The [x] keeps pgrep's own shell from matching.
  const count = async (tag: string) => Number((await node.exec(`pgrep -f -c '${tag.slice(0, -1)}[${tag.slice(-1)}]' || true`)).stdout.trim() || '0');

  test('starts a detached process tree that outlives its channel and stops it with TERM', async () => {
    const tag = `e3tag${process.pid}x${kind}a`;
    const pidFile = `${dir}/run/agent.pid`;
    const pid = await startDetached(node, {
      command: `sleep 300 & sleep 301 & echo started $E3_V in $PWD; wait # ${tag}`,
      pidFile,
      logFile: `${dir}/logs/agent.log`,
      cwd: dir,
      env: { E3_V: 'v1' },
    });
    expect(pid).toBeGreaterThan(1);
    expect(await isRunning(node, pidFile)).toBe(true);
    expect(await count(tag)).toBeGreaterThanOrEqual(1);
    await expect(startDetached(node, { command: 'true', pidFile, logFile: `${dir}/logs/x.log` })).rejects.toMatchObject({ code: 'E3_ENVIRONMENT' });

    const stopped = await stopByPidFile(node, pidFile, { graceMs: 5000 });
    expect(stopped).toEqual({ pid, wasRunning: true, killed: false });
    expect(await isRunning(node, pidFile)).toBe(false);
    expect((await node.exec(`ps -eo pgid= | grep -cw ${pid} || true`)).stdout.trim()).toBe('0');
    expect(await count(tag)).toBe(0);
    expect((await node.exec(['cat', `${dir}/logs/agent.log`])).stdout).toBe(`started v1 in ${dir}\n`);
    expect((await node.stat(pidFile))).toBeUndefined();
  });

  test('kills a process that ignores TERM after the grace period', async () => {
    const tag = `e3tag${process.pid}x${kind}b`;
    const pidFile = `${dir}/stubborn.pid`;
    const pid = await startDetached(node, { command: `trap '' TERM; while :; do sleep 0.2; done # ${tag}`, pidFile, logFile: `${dir}/stubborn.log` });
    const stopped = await stopByPidFile(node, pidFile, { graceMs: 500 });
    expect(stopped).toEqual({ pid, wasRunning: true, killed: true });
    expect(await count(tag)).toBe(0);
  });

  test('a missing or stale pid file is not running and stops quietly', async () => {
    expect(await isRunning(node, `${dir}/none.pid`)).toBe(false);
    expect(await stopByPidFile(node, `${dir}/none.pid`)).toEqual({ wasRunning: false, killed: false });
    await node.exec(`echo 999999 > ${dir}/stale.pid`);
    expect(await isRunning(node, `${dir}/stale.pid`)).toBe(false);
    expect(await stopByPidFile(node, `${dir}/stale.pid`)).toEqual({ pid: 999999, wasRunning: false, killed: false });
  });
});
