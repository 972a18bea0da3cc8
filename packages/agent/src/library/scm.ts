import { appendFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { defineScript, type Script, type ScriptContext } from '../script/api.js';
import { exists, pickOne, randomWord, remote, tempDir, textFiles, type Transport } from './helpers.js';

/** E³ scm/base/GitClone: `git clone <url> <temp dir>` of a weighted random repo, then remove the clone. */
function gitClone(name: string, transport: Transport): Script {
  return defineScript({
    name,
    async run(ctx: ScriptContext) {
      await cloneOnce(ctx, transport);
    },
  });
}

export async function cloneOnce(ctx: ScriptContext, transport: Transport): Promise<void> {
  const repo = ctx.data.repo(ctx.random);
  const { url, as } = remote(ctx, repo, transport);
  const dir = await tempDir(ctx, 'clone-');
  try {
    await ctx.git(['clone', '--quiet', url, dir], { as });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** E³ scm/base/GitLsRemote, fixed: `git ls-remote <url>` without the temp-dir "ref pattern". */
function gitLsRemote(name: string, transport: Transport): Script {
  return defineScript({
    name,
    async run(ctx: ScriptContext) {
      await lsRemoteOnce(ctx, transport);
    },
  });
}

export async function lsRemoteOnce(ctx: ScriptContext, transport: Transport): Promise<void> {
  const repo = ctx.data.repo(ctx.random);
  const { url, as } = remote(ctx, repo, transport);
  const res = await ctx.git(['ls-remote', url], { as });
  ctx.check(res.stdout.includes('refs/'), 'ls-remote listed no ref');
}

interface PushState {
  /** clone dir → remote url, identity, and the branches pushed there. */
  pushed?: Record<string, { branches: string[]; as: unknown }>;
}

/**
 * E³ scm/base/PushChanges, fixed: a working clone per client and repo; a new `bugfix/<time>-<client>` branch
 * from the target branch; 1–3 text files get a line (E³ touched every file of the first directory); add,
 * commit, `push -f --set-upstream`. Pushed branches are deleted when the stage ends (teardown).
 */
function pushChanges(name: string, transport: Transport): Script {
  return defineScript({
    name,
    async run(ctx: ScriptContext) {
      const repo = ctx.data.repo(ctx.random);
      const branch = ctx.data.defaultBranch(repo);
      const { url, as } = remote(ctx, repo, transport);
      const dir = join(ctx.workDir, 'work', repo.project, `${repo.slug}_${transport}`);
      if (!(await exists(join(dir, '.git')))) {
        await mkdir(join(dir, '..'), { recursive: true });
        await rm(dir, { recursive: true, force: true });
        await ctx.git(['clone', '--quiet', '-b', branch, url, dir], { as });
      }
      const stamp = new Date().toISOString().replace(/:/g, '.').replace('Z', '');
      const feature = `bugfix/${stamp}${String(Math.floor(ctx.random() * 1000)).padStart(3, '0')}-${ctx.client}`;
      await ctx.git(['branch', feature, `origin/${branch}`], { cwd: dir, as });
      await ctx.git(['checkout', '--quiet', feature], { cwd: dir, as });
      const files = await textFiles(dir);
      const count = Math.min(files.length, 1 + Math.floor(ctx.random() * 3));
      for (let i = 0; i < count; i++) await appendFile(join(dir, pickOne(ctx, files)!), 'foo\n');
      if (count === 0) await writeFile(join(dir, `${randomWord(ctx)}.txt`), 'foo\n');
      await ctx.git(['add', '.'], { cwd: dir, as });
      await ctx.git(['commit', '--quiet', '-m', 'do it'], { cwd: dir, as });
      const state = ctx.state as PushState;
      const entry = ((state.pushed ??= {})[dir] ??= { branches: [], as });
      entry.branches.push(feature);
      await ctx.git(['push', '--quiet', '-f', '--set-upstream', 'origin', feature], { cwd: dir, as });
    },
    async teardown(ctx: ScriptContext) {
      const state = ctx.state as PushState;
      for (const [dir, entry] of Object.entries(state.pushed ?? {})) {
        if (!(await exists(dir))) continue;
        for (let i = 0; i < entry.branches.length; i += 50) {
          await ctx.git(['push', '--quiet', 'origin', '--delete', ...entry.branches.slice(i, i + 50)], {
            cwd: dir,
            as: entry.as as never,
            throwOnFailure: false,
          });
        }
      }
    },
  });
}

export const scmScripts: Script[] = [
  gitClone('bitbucket.scm.GitCloneOverSsh', 'ssh'),
  gitClone('bitbucket.scm.GitCloneOverHttp', 'http'),
  gitClone('bitbucket.scm.GitCloneOverHttpDirect', 'httpDirect'),
  gitLsRemote('bitbucket.scm.GitLsRemoteSsh', 'ssh'),
  gitLsRemote('bitbucket.scm.GitLsRemoteHttp', 'http'),
  gitLsRemote('bitbucket.scm.GitLsRemoteHttpDirect', 'httpDirect'),
  pushChanges('bitbucket.scm.PushChangesSsh', 'ssh'),
  pushChanges('bitbucket.scm.PushChangesHttp', 'http'),
  pushChanges('bitbucket.scm.PushChangesHttpDirect', 'httpDirect'),
];
