import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';


/** A file tree: path → content. Objects and arrays are written as JSON, strings as they are. */
export type Tree = Record<string, string | Uint8Array | object>;

const created: string[] = [];

/** Jest's hooks when running under jest (injected globals); undefined in plain scripts such as benches. */
export const jestHooks = globalThis as unknown as Partial<Record<'afterEach' | 'afterAll' | 'beforeAll', (fn: () => unknown, timeout?: number) => void>>;

// Registered when a test file imports this module (hooks cannot be added from inside a test).
jestHooks.afterEach?.(async () => {
  const dirs = created.splice(0);
  if (process.env.E3_KEEP_TMP === '1') {
    for (const d of dirs) process.stderr.write(`kept ${d}\n`);
    return;
  }
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A fresh empty folder under the OS temp dir, removed after the current test (unless E3_KEEP_TMP=1). */
export async function makeTmpDir(prefix = 'e3-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** Writes `tree` into `root`; refuses paths that leave it. */
export async function writeTree(root: string, tree: Tree): Promise<void> {
  for (const [rel, content] of Object.entries(tree)) {
    const file = resolve(root, rel);
    if (!file.startsWith(resolve(root) + sep)) throw new Error(`tree path escapes the root: ${rel}`);
    await mkdir(dirname(file), { recursive: true });
    const data = typeof content === 'string' || content instanceof Uint8Array ? content : JSON.stringify(content, null, 2);
    await writeFile(file, data);
  }
}

/** A scratch folder holding `tree`, removed after the current test. */
export async function makeTree(tree: Tree, prefix?: string): Promise<string> {
  const dir = await makeTmpDir(prefix);
  await writeTree(dir, tree);
  return dir;
}

/** Absolute path of the repository root (the folder holding pnpm-workspace.yaml). */
export const repoRoot: string = resolve(dirname(new URL(import.meta.url).pathname), '../../..');

/**
 * Absolute path of `shared/fixtures/e3-original-home`, the original E³ files (read-only): in `shared/`
 * beside the repository, or beside any folder above it (git worktrees).
 */
export const e3OriginalHome: string = (() => {
  for (let dir = repoRoot; ; dir = dirname(dir)) {
    const candidate = join(dir, '..', 'shared/fixtures/e3-original-home');
    if (existsSync(candidate) || dirname(dir) === dir) return resolve(candidate);
  }
})();

export { mutatedJsonText } from './fuzz.js';
export { expectExit, runBin, runE3, type BinResult } from './bin.js';

export {
  assertNetnsAvailable,
  createNetnsHosts,
  removeStaleNetns,
  useNetnsHosts,
  type NetnsHost,
  type NetnsHosts,
  type NetnsOptions,
} from './netns.js';
export { startSlotServer, type SlotCompletion, type SlotServer } from './slot-server.js';
export { loopbackRunTree, startLoopbackServer, type LoopbackRunOptions, type LoopbackServer } from './loopback-run.js';
