import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { describe, expect, it } from '@jest/globals';
import { makeTmpDir, repoRoot, runE3 } from '@e3/test-utils';

import { generateRun } from './helpers/generate-run.js';

const exec = promisify(execFile);

/** Parsed by Python's XML parser (not e3's code): suites, then each test case's name and failure message. */
async function parseJunit(file: string): Promise<{ root: string; suites: Array<{ tests: string; failures: string; cases: Array<{ name: string; failure?: string }> }> }> {
  const py = `
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
out = {"root": root.tag, "suites": []}
for s in root.iter("testsuite"):
    cases = []
    for c in s.iter("testcase"):
        f = c.find("failure")
        cases.append({"name": c.get("name"), **({"failure": f.get("message")} if f is not None else {})})
    out["suites"].append({"tests": s.get("tests"), "failures": s.get("failures"), "cases": cases})
print(json.dumps(out))`;
  const { stdout } = await exec('python3', ['-c', py, file]);
  return JSON.parse(stdout);
}

describe('e3 analyze --junit', () => {
  it('writes valid JUnit XML with one test case per threshold check and a failure, worded as one, per failed check', async () => {
    const dir = await makeTmpDir();
    const stages = [{ clients: 2, durationMs: 3000 }, { clients: 4, durationMs: 3000 }];
    const g = await generateRun({
      dir, seed: 3, collectd: false,
      tests: [{ test: 'clone <ssh> & "more"', ops: [{ op: 'git clone', medianMs: 80 }] }],
      threads: [{ name: 'a', stages }],
      // 80 ms medians: a 1 ms p95 fails in both stages, a 10-minute one passes in both.
      thresholds: [{ p95: 1 }, { p95: 600_000 }],
    });
    const cwd = await makeTmpDir();
    const r = await runE3(repoRoot, ['analyze', '-r', g.runDir, '--junit', 'out/verdict.xml'], { cwd, timeoutMs: 120_000 });
    expect(r.code).toBe(5);
    const junit = await parseJunit(join(cwd, 'out/verdict.xml'));
    expect(junit.root).toBe('testsuites');
    expect(junit.suites).toHaveLength(1);
    const [suite] = junit.suites;
    expect(suite!.cases).toHaveLength(4);
    expect([suite!.tests, suite!.failures]).toEqual(['4', '2']);
    const failed = suite!.cases.filter((c) => c.failure !== undefined);
    expect(failed.map((c) => c.name)).toEqual(['a stage 000 clone <ssh> & "more" p95', 'a stage 001 clone <ssh> & "more" p95']);
    for (const c of failed) expect(c.failure).toMatch(/^FAILED: a stage \d{3} clone <ssh> & "more" \(transaction\): p95 [\d.]+ ms exceeds 1 ms$/);
    const summary = JSON.parse(await readFile(join(g.runDir, 'analysis/summary.json'), 'utf8'));
    expect(failed.map((c) => c.failure)).toEqual(summary.verdict.failed);
    expect(r.stdout).toContain('exceeds 1 ms');
  }, 120_000);
});
