import { spawn } from 'node:child_process';
import { join } from 'node:path';

import { E3Error } from '@e3/model';

export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs `git <args>` in `cwd`, collecting output. Never throws on a non-zero exit; throws E3_ENVIRONMENT if git is missing. */
export function runGit(
  args: string[],
  options: { cwd: string; input?: string | Buffer; env?: NodeJS.ProcessEnv; maxBuffer?: number },
): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd: options.cwd,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let size = 0;
    const max = options.maxBuffer ?? 64 * 1024 * 1024;
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      size += d.length;
      if (size <= max) out.push(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 65536) err += d.toString();
    });
    child.on('error', (cause) =>
      reject(new E3Error('ENVIRONMENT', `could not run git: ${cause.message}`, { cause, hint: 'Install git ≥ 2.38 and put it on PATH.' })),
    );
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.on('error', () => undefined);
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

/** Like runGit but throws E3_TARGET with git's stderr when git fails. Returns stdout as text. */
export async function git(args: string[], options: { cwd: string; input?: string | Buffer; env?: NodeJS.ProcessEnv }): Promise<string> {
  const r = await runGit(args, options);
  if (r.code !== 0) throw new E3Error('TARGET', `git ${args[0]} failed in ${options.cwd}: ${r.stderr.trim()}`);
  return r.stdout.toString();
}

/** Folder holding a repository's bare git dir, `<data>/repos/<KEY>/<slug>.git`. */
export function repoDir(dataDir: string, key: string, slug: string): string {
  return join(dataDir, 'repos', key.toUpperCase(), `${slug.toLowerCase()}.git`);
}

export interface BranchInfo {
  name: string;
  commit: string;
}

export async function listBranches(dir: string): Promise<BranchInfo[]> {
  const out = await git(['for-each-ref', '--format=%(refname:lstrip=2) %(objectname)', 'refs/heads/'], { cwd: dir });
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const i = line.lastIndexOf(' ');
      return { name: line.slice(0, i), commit: line.slice(i + 1) };
    });
}

/** The branch HEAD points at (`master` when HEAD is unreadable). */
export async function defaultBranch(dir: string): Promise<string> {
  const r = await runGit(['symbolic-ref', '--short', 'HEAD'], { cwd: dir });
  return r.code === 0 ? r.stdout.toString().trim() : 'master';
}

export async function resolveCommit(dir: string, rev: string): Promise<string | undefined> {
  if (rev.startsWith('-')) return undefined;
  const r = await runGit(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], { cwd: dir });
  return r.code === 0 ? r.stdout.toString().trim() : undefined;
}

export interface Commit {
  id: string;
  parents: string[];
  authorName: string;
  authorEmail: string;
  authorTime: number;
  committerName: string;
  committerEmail: string;
  committerTime: number;
  message: string;
}

/** Commits reachable from `from` and not from `exclude`, newest first. */
export async function logCommits(dir: string, from: string, exclude: string | undefined, max: number): Promise<Commit[]> {
  const args = ['log', `--max-count=${max}`, '--format=%H%x00%P%x00%an%x00%ae%x00%at%x00%cn%x00%ce%x00%ct%x00%B%x1e', from];
  if (exclude) args.push(`^${exclude}`);
  args.push('--');
  const out = await git(args, { cwd: dir });
  return out
    .split('\x1e')
    .map((s) => s.replace(/^\n/, ''))
    .filter(Boolean)
    .map((rec) => {
      const [id, parents, an, ae, at, cn, ce, ct, msg] = rec.split('\0');
      return {
        id: id!,
        parents: parents ? parents.split(' ') : [],
        authorName: an!,
        authorEmail: ae!,
        authorTime: Number(at) * 1000,
        committerName: cn!,
        committerEmail: ce!,
        committerTime: Number(ct) * 1000,
        message: (msg ?? '').trimEnd(),
      };
    });
}

export interface Change {
  type: 'ADD' | 'MODIFY' | 'DELETE' | 'MOVE' | 'COPY';
  path: string;
  srcPath?: string;
  fromContentId: string;
  contentId: string;
  executable: boolean;
}

/** Changes between `base` and `head` (`git diff-tree -r -M`). */
export async function diffChanges(dir: string, base: string, head: string): Promise<Change[]> {
  const out = await git(['diff-tree', '-r', '-M', '-z', '--no-commit-id', base, head], { cwd: dir });
  const parts = out.split('\0');
  const changes: Change[] = [];
  for (let i = 0; i < parts.length - 1; ) {
    const meta = parts[i++]!;
    if (!meta.startsWith(':')) continue;
    const [, newMode, fromId, toId, status] = meta.slice(1).split(' ') as [string, string, string, string, string];
    const letter = status[0];
    if (letter === 'R' || letter === 'C') {
      const src = parts[i++]!;
      const dst = parts[i++]!;
      changes.push({ type: letter === 'R' ? 'MOVE' : 'COPY', path: dst, srcPath: src, fromContentId: fromId, contentId: toId, executable: newMode === '100755' });
    } else {
      const p = parts[i++]!;
      const type = letter === 'A' ? 'ADD' : letter === 'D' ? 'DELETE' : 'MODIFY';
      changes.push({ type, path: p, fromContentId: fromId, contentId: toId, executable: newMode === '100755' });
    }
  }
  return changes;
}

export async function mergeBase(dir: string, a: string, b: string): Promise<string | undefined> {
  const r = await runGit(['merge-base', a, b], { cwd: dir });
  return r.code === 0 ? r.stdout.toString().trim() : undefined;
}

export async function isAncestor(dir: string, ancestor: string, of: string): Promise<boolean> {
  const r = await runGit(['merge-base', '--is-ancestor', ancestor, of], { cwd: dir });
  return r.code === 0;
}

export interface DiffLine {
  source: number;
  destination: number;
  line: string;
  truncated: boolean;
}
export interface DiffSegment {
  type: 'ADDED' | 'REMOVED' | 'CONTEXT';
  lines: DiffLine[];
  truncated: boolean;
}
export interface DiffHunk {
  sourceLine: number;
  sourceSpan: number;
  destinationLine: number;
  destinationSpan: number;
  segments: DiffSegment[];
  truncated: boolean;
}
export interface FileDiff {
  source: string | null;
  destination: string | null;
  hunks: DiffHunk[];
  binary: boolean;
}

/** Parses `git diff` unified output into Bitbucket's hunk/segment shape. */
export function parseUnifiedDiff(text: string): FileDiff[] {
  const files: FileDiff[] = [];
  let file: FileDiff | undefined;
  let hunk: DiffHunk | undefined;
  let src = 0;
  let dst = 0;
  const push = (type: DiffSegment['type'], line: string): void => {
    if (!hunk) return;
    let seg = hunk.segments[hunk.segments.length - 1];
    if (!seg || seg.type !== type) {
      seg = { type, lines: [], truncated: false };
      hunk.segments.push(seg);
    }
    seg.lines.push({ source: src, destination: dst, line, truncated: false });
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('diff --git ')) {
      file = { source: null, destination: null, hunks: [], binary: false };
      files.push(file);
      hunk = undefined;
    } else if (!file) {
      continue;
    } else if (!hunk && line.startsWith('--- ')) {
      file.source = line === '--- /dev/null' ? null : line.slice(6);
    } else if (!hunk && line.startsWith('+++ ')) {
      file.destination = line === '+++ /dev/null' ? null : line.slice(6);
    } else if (!hunk && line.startsWith('Binary files')) {
      file.binary = true;
    } else if (line.startsWith('@@')) {
      const m = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(line);
      if (!m) continue;
      src = Number(m[1]);
      dst = Number(m[3]);
      hunk = {
        sourceLine: src,
        sourceSpan: m[2] === undefined ? 1 : Number(m[2]),
        destinationLine: dst,
        destinationSpan: m[4] === undefined ? 1 : Number(m[4]),
        segments: [],
        truncated: false,
      };
      file.hunks.push(hunk);
    } else if (hunk) {
      const c = line[0];
      const body = line.slice(1);
      if (c === '+') {
        push('ADDED', body);
        dst++;
      } else if (c === '-') {
        push('REMOVED', body);
        src++;
      } else if (c === ' ') {
        push('CONTEXT', body);
        src++;
        dst++;
      }
    }
  }
  return files;
}

/** The unified diff between two commits, optionally for one path, parsed. */
export async function diffFiles(
  dir: string,
  options: { base: string; head: string; path?: string; contextLines?: number },
): Promise<FileDiff[]> {
  const ctx = options.contextLines === undefined || options.contextLines < 0 ? 10000 : Math.min(options.contextLines, 10000);
  const args = ['diff', '--no-color', '--no-ext-diff', '-M', `-U${ctx}`, options.base, options.head, '--'];
  if (options.path) args.push(options.path);
  return parseUnifiedDiff(await git(args, { cwd: dir }));
}
