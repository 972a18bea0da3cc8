import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { e3OriginalHome, makeTree, mutatedJsonText, repoRoot, runE3 } from '@e3/test-utils';

const e3 = (args: string[], options?: Parameters<typeof runE3>[2]) => runE3(repoRoot, args, options);

async function listing(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const p = join(e.parentPath, e.name);
    out.push(`${p} ${(await stat(p)).mtimeMs}`);
  }
  return out.sort();
}

describe('e3 validate', () => {
  it('accepts the original E³ home unchanged (exit 0)', async () => {
    const r = await e3(['validate', '--home', e3OriginalHome, '--all']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('11 file(s) checked: 0 invalid, 0 error(s)');
  });

  it('prints every problem of a broken experiment with file and JSON path, exit 2', async () => {
    const home = await makeTree({
      'e3-home/experiments/broken.json':
        '{"duration": 1000, "workload": "mixd", "threads": [{"name": "t", "instance": {"template": "local"}, "worker": {"template": "local"},\n' +
        ' "stages": [{"clients": 1, "clients": 2}, {"duration": 5}]}]}',
      'e3-home/workloads/mixed.json': [
        { script: 'bitbucket.scm.GitCloneOverSsh', description: 'A', weight: 0.5 },
        { script: 'bitbucket.scm.GitCloneOverHttp', description: 'B', weight: 0.4 },
      ],
    });
    const r = await e3(['validate', '--all'], { cwd: home });
    expect(r.code).toBe(2);
    const f = 'e3-home/experiments/broken.json';
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('  error'));
    expect(lines).toEqual([
      `  error    ${f}: /threads/0/stages/0: key "clients" appears 2 times in one stage (line 2); JSON keeps only the last, so this is one stage, not 2. Write one stage per level: "stages": [{"clients": <level 1>}, {"clients": <level 2>}]`,
      `  error    ${f}: /threads/0/stages/1: a stage needs "clients" (closed model) or "rate" (open model)`,
      `  error    ${f}: /workload: workload "mixd" not found in e3-home/workloads (did you mean "mixed"?)`,
      `  error    e3-home/workloads/mixed.json: /: job weights sum to 0.9, expected 1 (within 0.000001)`,
    ]);
  });

  it('exits 2 on a folder of fuzzed files and writes nothing', async () => {
    const base = JSON.parse((await import('node:fs')).readFileSync(join(e3OriginalHome, 'experiments/mixed-test.json'), 'utf8'));
    const texts = fc.sample(mutatedJsonText(base), { numRuns: 200, seed: 42 });
    const home = await makeTree(Object.fromEntries(texts.map((t, i) => [`experiments/f${i}.json`, t])));
    const before = await listing(home);
    const r = await e3(['validate', join(home, 'experiments'), '--home', home]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/TypeError|at .*\.ts:\d+/);
    expect(await listing(home)).toEqual(before);
  });

  it('asks for something to validate with a coded usage error and a hint', async () => {
    const r = await e3(['validate', '--home', e3OriginalHome]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      '[E3_USAGE] nothing to validate: name files or folders, or pass --all\n\n' +
        'Run `e3 validate --all` to check every file in e3-home, or `e3 validate e3-home/experiments/<name>.json`\n',
    );
  });
});

describe('e3 list', () => {
  it('prints the experiments as JSON', async () => {
    const r = await e3(['list', 'experiments', '--home', e3OriginalHome, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(['adaptive-scaling', 'cluster-scaling-ssh', 'mixed-test', 'pull-request']);
  });
});

describe('the e3 bin', () => {
  it('rejects an unknown command with E3_USAGE, exit 2', async () => {
    const r = await e3(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^\[E3_USAGE\] Unknown argument: frobnicate\n\nRun `e3 --help`/);
  });

  it('prints JSON errors with --json', async () => {
    const r = await e3(['validate', '--home', '/nonexistent', '--all', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      error: {
        code: 'E3_HOME_NOT_FOUND',
        message: 'e3-home /nonexistent does not exist (from --home)',
        hint: 'Create it with `mkdir -p /nonexistent/experiments`, or pass an existing folder with --home',
      },
    });
  });

  it('prints a usage error as JSON on stdout with --json, nothing on stderr', async () => {
    const r = await e3(['frobnicate', '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).error.code).toBe('E3_USAGE');
  });

  it('prints a bash completion script with `e3 completion`, and completes command names', async () => {
    const r = await e3(['completion']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('complete -o bashdefault -o default -F _e3_yargs_completions e3');
    const words = await e3(['--get-yargs-completions', 'e3', '']);
    expect(words.stdout.split('\n')).toEqual(expect.arrayContaining(['analyze', 'orchestrate', 'list', 'completion']));
  });

  it('suggests the closest experiment name when -e names none (exit 2, nothing created)', async () => {
    const home = await makeTree({ 'experiments/nightly-scaling.json': { threads: [] } });
    const r = await e3(['orchestrate', '-e', 'nightly-scalin', '--home', home]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('experiment "nightly-scalin" not found in ' + join(home, 'experiments') + ' (did you mean "nightly-scaling"?)');
    expect(await readdir(home)).toEqual(['experiments']);
  });

  it('shows help for every command', async () => {
    for (const cmd of ['validate', 'list']) {
      const r = await e3([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`e3 ${cmd}`);
    }
  });
});
