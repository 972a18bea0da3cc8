import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { makeTmpDir, makeTree } from '@e3/test-utils';

import { E3Error } from '../errors/e3-error.js';
import { validateValue } from '../validate/validate.js';
import { E3_VERSION } from '../version.js';
import { readPhaseStatus, writePhaseStatus } from './io.js';
import { nodeDataDir } from './layout.js';
import { abortActivePhasesSync, errorRecord, onForcedExit, requirePhase, withPhase } from './phase.js';
import { isArchivedRunDir, resolveRunDir } from './resolve.js';

const valid = async (dir: string, phase: 'run' | 'gather') => {
  const text = await readFile(join(dir, 'phases', `${phase}.json`), 'utf8');
  const r = validateValue('phase', JSON.parse(text), `${phase}.json`);
  expect(r.errors).toEqual([]);
  return JSON.parse(text) as Record<string, unknown>;
};

describe('errorRecord', () => {
  it('keeps an E3Error, names an abort E3_INTERRUPTED and anything else E3_BUG', () => {
    expect(errorRecord(new E3Error('RUN_FAILED', 'stage 0 failed', { hint: 'see logs' }))).toEqual({ code: 'E3_RUN_FAILED', message: 'stage 0 failed', hint: 'see logs' });
    expect(errorRecord(Object.assign(new Error('This operation was aborted'), { name: 'AbortError' }))).toEqual({ code: 'E3_INTERRUPTED', message: 'interrupted' });
    expect(errorRecord(new TypeError('x is undefined'))).toEqual({ code: 'E3_BUG', message: 'x is undefined' });
    expect(errorRecord('thrown string')).toEqual({ code: 'E3_BUG', message: 'thrown string' });
  });
});

describe('withPhase', () => {
  it('writes running with its pid while fn runs, then succeeded with E3_VERSION', async () => {
    const dir = await makeTmpDir();
    let during: unknown;
    const r = await withPhase(dir, 'gather', async () => {
      during = await readPhaseStatus(dir, 'gather');
      return 7;
    });
    expect(r).toBe(7);
    expect(during).toMatchObject({ status: 'running', pid: process.pid, version: E3_VERSION });
    const end = await valid(dir, 'gather');
    expect(end).toMatchObject({ status: 'succeeded', version: E3_VERSION });
    expect(end.pid).toBeUndefined();
    expect(end.error).toBeUndefined();
  });

  it('writes failed with the coded error, E3_BUG for an unknown error, aborted for an interrupt, and rethrows', async () => {
    const dir = await makeTmpDir();
    const coded = new E3Error('IO', 'disk full', { hint: 'free space' });
    await expect(withPhase(dir, 'run', () => Promise.reject(coded))).rejects.toBe(coded);
    expect(await valid(dir, 'run')).toMatchObject({ status: 'failed', error: { code: 'E3_IO', message: 'disk full', hint: 'free space' } });
    await expect(withPhase(dir, 'run', () => Promise.reject(new RangeError('boom')), { bugHint: 'clean up' })).rejects.toThrow('boom');
    expect(await valid(dir, 'run')).toMatchObject({ status: 'failed', error: { code: 'E3_BUG', message: 'boom', hint: 'clean up' } });
    await expect(withPhase(dir, 'run', () => Promise.reject(new E3Error('INTERRUPTED', 'interrupted')))).rejects.toThrow();
    expect(await valid(dir, 'run')).toMatchObject({ status: 'aborted', error: { code: 'E3_INTERRUPTED' } });
    const ac = new AbortController();
    ac.abort();
    await expect(withPhase(dir, 'run', () => Promise.reject(new Error('socket closed')), { signal: ac.signal })).rejects.toThrow();
    expect(await valid(dir, 'run')).toMatchObject({ status: 'aborted', error: { code: 'E3_INTERRUPTED' } });
  });

  it("writes the outcome's partial with its error", async () => {
    const dir = await makeTmpDir();
    await withPhase(dir, 'gather', async () => 'x', { outcome: () => ({ status: 'partial', error: { code: 'E3_GATHER_PARTIAL', message: '1 of 2' } }) });
    expect(await valid(dir, 'gather')).toMatchObject({ status: 'partial', error: { code: 'E3_GATHER_PARTIAL' } });
  });

  it('writes nothing at the end when fn removed the run dir', async () => {
    const parent = await makeTmpDir();
    const dir = join(parent, 'r');
    await mkdir(dir);
    await expect(withPhase(dir, 'provision', () => rm(dir, { recursive: true }).then(() => Promise.reject(new E3Error('ENVIRONMENT', 'no credentials'))))).rejects.toThrow();
    expect(await readdir(parent)).toEqual([]);
  });

  it('abortActivePhasesSync marks a phase under way aborted at once, and forgets it', async () => {
    const dir = await makeTmpDir();
    let release!: () => void;
    const p = withPhase(dir, 'run', () => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setTimeout(r, 20));
    expect(await readPhaseStatus(dir, 'run')).toMatchObject({ status: 'running' });
    abortActivePhasesSync();
    expect(await valid(dir, 'run')).toMatchObject({ status: 'aborted', error: { code: 'E3_INTERRUPTED' } });
    release();
    await p;
  });

  it('abortActivePhasesSync first kills what onForcedExit registered (a real process), once; unregistered stops are skipped', async () => {
    const child = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    const closed = new Promise<NodeJS.Signals | null>((r) => child.on('close', (_c, sig) => r(sig)));
    onForcedExit(() => process.kill(-child.pid!, 'SIGKILL'));
    let calls = 0;
    const unregister = onForcedExit(() => calls++);
    unregister();
    abortActivePhasesSync();
    abortActivePhasesSync();
    expect(await closed).toBe('SIGKILL');
    expect(calls).toBe(0);
  });
});

describe('requirePhase', () => {
  const status = (s: string, extra: object = {}) => ({ formatVersion: 1, phase: 'provision', status: s, startedAt: 'a', version: '0.1.0', ...extra });

  it('says which phase to run first when a needed phase has not run, unless missing is allowed', async () => {
    const dir = await makeTree({ 'r1/r1.json': '{}' });
    await expect(requirePhase(join(dir, 'r1'), 'run', { next: 'gather' })).rejects.toMatchObject({
      code: 'E3_PHASE_NOT_READY',
      hint: 'Run `e3 run -r r1` first, or pass --force to `e3 gather -r r1` to go on anyway',
    });
    expect(await requirePhase(join(dir, 'r1'), 'provision', { next: 'run', allowMissing: true })).toBeUndefined();
  });

  it('refuses a failed phase with its error and a hint naming the command and --force; --force skips the check', async () => {
    const dir = await makeTree({ 'phases/provision.json': status('failed', { error: { code: 'E3_AWS', message: 'stack rolled back' } }) });
    const err = await requirePhase(dir, 'provision', { next: 'run' }).catch((e: unknown) => e as E3Error);
    expect(err).toMatchObject({ code: 'E3_PHASE_NOT_READY', exitCode: 2 });
    expect((err as E3Error).message).toContain('[E3_AWS] stack rolled back');
    expect((err as E3Error).hint).toMatch(/e3 deprovision -r .* --force to `e3 run -r /);
    expect(await requirePhase(dir, 'provision', { next: 'run', force: true })).toMatchObject({ status: 'failed' });
  });

  it('refuses a running phase whose process lives, accepts a stale one (dead pid) and allowRunning', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const live = await makeTree({ 'phases/run.json': { ...status('running', { pid: process.pid }), phase: 'run' } });
    await expect(requirePhase(live, 'run', { next: 'analyze' })).rejects.toMatchObject({ code: 'E3_PHASE_NOT_READY', message: expect.stringContaining(`still running (pid ${process.pid})`) });
    expect(await requirePhase(live, 'run', { next: 'gather', allowRunning: true })).toMatchObject({ status: 'running' });
    const stale = await makeTree({ 'phases/run.json': { ...status('running', { pid: dead }), phase: 'run' } });
    expect(await requirePhase(stale, 'run', { next: 'analyze' })).toMatchObject({ status: 'running', pid: dead });
  });

  it('accepts succeeded, partial and aborted', async () => {
    for (const s of ['succeeded', 'partial', 'aborted']) {
      const dir = await makeTmpDir();
      await writePhaseStatus(dir, { phase: 'run', status: s as 'succeeded', startedAt: 'a', version: 'v' });
      expect(await requirePhase(dir, 'run', { next: 'gather' })).toMatchObject({ status: s });
    }
  });
});

describe('resolveRunDir', () => {
  it('finds a name in runs/, then archive/, and a relative or absolute path, all to the same folder', async () => {
    const home = await makeTree({ 'runs/a-1/a-1.json': '{}', 'archive/b-2/b-2.json': '{}', 'elsewhere/c-3/c-3.json': '{}' });
    const a = join(home, 'runs/a-1');
    expect(resolveRunDir(home, 'a-1')).toBe(a);
    expect(resolveRunDir(home, 'runs/a-1', { cwd: home })).toBe(a);
    expect(resolveRunDir(home, a, { cwd: '/' })).toBe(a);
    expect(resolveRunDir(home, 'b-2')).toBe(join(home, 'archive/b-2'));
    expect(isArchivedRunDir(home, resolveRunDir(home, 'b-2'))).toBe(true);
    expect(isArchivedRunDir(home, a)).toBe(false);
    expect(resolveRunDir(home, '../elsewhere/c-3', { cwd: join(home, 'runs') })).toBe(join(home, 'elsewhere/c-3'));
  });

  it('throws E3_RUN_NOT_FOUND with the closest name, and never looks a `..` name up in e3-home', async () => {
    const home = await makeTree({ 'runs/demo-20261125T101500Z/demo-20261125T101500Z.json': '{}', 'x/x.json': '{}' });
    expect(() => resolveRunDir(home, 'demo-20261125T101501Z')).toThrow(expect.objectContaining({
      code: 'E3_RUN_NOT_FOUND', message: expect.stringContaining('did you mean "demo-20261125T101500Z"'), hint: expect.stringContaining('e3 list runs'),
    }));
    // `../x` is a path from cwd, not runs/../x.
    expect(() => resolveRunDir(home, '../x', { cwd: home })).toThrow(expect.objectContaining({ code: 'E3_RUN_NOT_FOUND' }));
    expect(() => resolveRunDir(home, 'runs')).toThrow(expect.objectContaining({ code: 'E3_RUN_NOT_FOUND' }));
  });
});

describe('nodeDataDir', () => {
  it("is the instance's dataDir, else the temp folder here for localhost, else /tmp/e3", () => {
    expect(nodeDataDir({ dataDir: '/data/e3' }, 'localhost')).toBe('/data/e3');
    expect(nodeDataDir({}, 'localhost')).toBe(join(process.env.TMPDIR ?? '/tmp', 'e3'));
    expect(nodeDataDir({}, 'e3@10.0.0.5')).toBe('/tmp/e3');
  });
});
