import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface BinResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a TypeScript bin from source (`packages/<pkg>/src/bin.ts`) in a child process, as a user runs
 * `e3 …`, and collects its output. Killed after `timeoutMs`.
 */
export function runBin(
  repoRoot: string,
  bin: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
): Promise<BinResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', pathToFileURL(join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href, '--conditions=source', join(repoRoot, bin), ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, NODE_OPTIONS: '', FORCE_COLOR: '0', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Runs the `e3` CLI from source. */
export function runE3(repoRoot: string, args: string[], options?: Parameters<typeof runBin>[3]): Promise<BinResult> {
  return runBin(repoRoot, 'packages/cli/src/bin.ts', args, options);
}

/**
 * Throws unless a command exited with `expected`; the message carries the command's stderr tail (or
 * `out`, its merged output), so that a failing e2e test says why, not just "Expected: 0, Received: 3".
 */
export function expectExit(result: { code: number | null; stderr?: string; out?: string }, expected: number, lines = 40): void {
  if (result.code === expected) return;
  const text = (result.stderr ?? result.out ?? '').trimEnd().split('\n').slice(-lines).join('\n');
  throw new Error(`expected exit code ${expected}, got ${result.code}; the last ${lines} lines of its output:\n${text || '(nothing)'}`);
}
