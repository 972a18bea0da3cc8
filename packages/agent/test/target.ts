import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

import { e3OriginalHome } from '@e3/test-utils';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A seeded @e3/target driven through the `e3` CLI as a separate process (phase packages never import each
 * other): `e3 target seed`, `e3 target start --detach` on free ports, `e3 target stop`.
 */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

const originalHome = () => e3OriginalHome;

function e3(args: string[]): Promise<string> {
  return new Promise((res, rej) =>
    execFile(join(repoRoot, 'node_modules', '.bin', 'tsx'), ['--conditions=source', join(repoRoot, 'packages/cli/src/bin.ts'), ...args], { timeout: 120_000 }, (err, stdout, stderr) =>
      err ? rej(new Error(`e3 ${args.join(' ')} failed: ${stderr || err.message}`)) : res(stdout),
    ),
  );
}

export interface SeededTarget {
  instance: Record<string, unknown>;
  snapshot: Record<string, unknown>;
  url: string;
  stop(): Promise<void>;
}

export async function seededTarget(options: { data: string; home: string; contextPath?: string; users?: number }): Promise<SeededTarget> {
  const ctx = options.contextPath ? ['--context', options.contextPath] : [];
  const { mkdir } = await import('node:fs/promises');
  for (const sub of ['experiments', 'instances', 'snapshots']) await mkdir(join(options.home, sub), { recursive: true });
  await e3(['target', 'seed', '--data', options.data, '--home', options.home, '--projects', '2', '--repos', '2', '--users', String(options.users ?? 6),
    '--commits', '6', '--files', '8', '--file-kb', '2', '--keys', join(originalHome(), 'keys', '100-keys.json'), '--name', 'agent-test', ...ctx]);
  await e3(['target', 'start', '--data', options.data, '--http-port', '0', '--ssh-port', '0', '--max-git-ops', '8', '--detach', ...ctx]);
  const info = JSON.parse(readFileSync(join(options.data, 'target.json'), 'utf8')) as { url: string; sshPort: number };
  const instance = JSON.parse(readFileSync(join(options.home, 'instances', 'agent-test.json'), 'utf8')) as Record<string, unknown>;
  const snapshot = JSON.parse(readFileSync(join(options.home, 'snapshots', 'agent-test.json'), 'utf8')) as Record<string, unknown>;
  return {
    instance: { ...instance, URL: info.url, SshPort: info.sshPort },
    snapshot,
    url: info.url,
    stop: async () => void (await e3(['target', 'stop', '--data', options.data])),
  };
}
