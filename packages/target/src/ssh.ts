import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import ssh2, { type Connection, type ServerChannel } from 'ssh2';

import { findRepo } from './db.js';
import { repoDir } from './git.js';
import type { TargetState } from './http/context.js';

// ssh2 is CommonJS: Node's ESM loader offers only its default export.
const { Server, utils } = ssh2;

/** Loads `<data>/ssh_host_ed25519_key`, creating it on first start (mode 0600). */
export async function hostKey(dataDir: string): Promise<string> {
  const file = join(dataDir, 'ssh_host_ed25519_key');
  if (existsSync(file)) return readFileSync(file, 'utf8');
  const pair = utils.generateKeyPairSync('ed25519');
  await writeFile(file, pair.private, { mode: 0o600 });
  return pair.private;
}

const COMMAND = /^(git[ -](upload-pack|receive-pack))\s+'?\/?([A-Za-z0-9_~-]{1,128})\/([A-Za-z0-9._-]{1,128}?)(?:\.git)?\/?'?$/;

/** Parses `git-upload-pack '/KEY/slug.git'` (also `git upload-pack`); anything else → undefined. */
export function parseGitCommand(command: string): { service: 'upload-pack' | 'receive-pack'; key: string; slug: string } | undefined {
  const m = COMMAND.exec(command.trim());
  if (!m || m[4]!.startsWith('.') || m[4]!.includes('..')) return undefined;
  return { service: m[2] as 'upload-pack' | 'receive-pack', key: m[3]!, slug: m[4]! };
}

function lookupUser(state: TargetState, keyData: Buffer): { userId: number; text: string; name: string } | undefined {
  const row = state.db
    .prepare('SELECT k.user_id, k.text, u.name FROM ssh_keys k JOIN users u ON u.id = k.user_id WHERE k.key_data = ? AND u.active = 1')
    .get(keyData.toString('base64')) as { user_id: number; text: string; name: string } | undefined;
  return row ? { userId: row.user_id, text: row.text, name: row.name } : undefined;
}


interface ExecInfo {
  ip: string;
  user: string;
  started: number;
}

function logSsh(state: TargetState, info: ExecInfo, command: string, code: number): void {
  const ts = new Date(info.started).toISOString().replace('T', ' ').replace('Z', '').replace('.', ',');
  const shown = command.replace(/[^\x20-\x7e]|[|"]/g, '?').slice(0, 300);
  state.accessLog(`${info.ip} | ssh | s${info.started.toString(36)} | ${info.user} | ${ts} | "SSH - ${shown}" | "" "" | ${code} | ${Date.now() - info.started} | - |`);
}

function serveExec(state: TargetState, channel: ServerChannel, command: string, env: Record<string, string>, who: { ip: string; user: string }): void {
  const info: ExecInfo = { ...who, started: Date.now() };
  let exitCode = -1;
  channel.on('close', () => logSsh(state, info, command, exitCode));
  /** Sends the exit status and closes the channel (once). */
  const end = (code: number): void => {
    if (exitCode !== -1) return;
    exitCode = code;
    try {
      channel.exit(code);
      channel.end();
    } catch {
      /* channel already gone */
    }
  };
  const refuse = (message: string, code = 128): void => {
    channel.stderr.write(`fatal: ${message}\n`);
    end(code);
  };
  const parsed = parseGitCommand(command);
  if (!parsed) {
    const shown = command.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
    const m = /^git[ -](?:upload|receive)-pack\s+'?([^']*)'?$/.exec(command.trim());
    refuse(m ? `'${m[1]!.replace(/[^\x20-\x7e]/g, '?').slice(0, 200)}' does not appear to be a git repository` : `'${shown}' is not a command this server runs; only git-upload-pack and git-receive-pack are allowed.`);
    return;
  }
  const repo = findRepo(state.db, parsed.key, parsed.slug);
  if (!repo) {
    refuse(`'/${parsed.key}/${parsed.slug}.git' does not appear to be a git repository`);
    return;
  }
  const dir = repoDir(state.dataDir, repo.project_key, repo.slug);
  let cancelled = false;
  channel.on('close', () => (cancelled = true));
  state.tickets.acquire().then(
    (release) => {
      if (cancelled) {
        release();
        return;
      }
      if (parsed.service === 'receive-pack') state.counters.pushes++;
      else state.counters.pulls++;
      const childEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
      if (env.GIT_PROTOCOL && /^[a-z0-9=:.-]{1,64}$/i.test(env.GIT_PROTOCOL)) childEnv.GIT_PROTOCOL = env.GIT_PROTOCOL;
      const child = spawn('git', [parsed.service, dir], { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
      let done = false;
      const finish = (code: number): void => {
        if (done) return;
        done = true;
        release();
        end(code);
      };
      child.on('error', () => finish(128));
      child.on('close', (code) => finish(code ?? 128));
      // A client that goes away before git has answered stops git; once git's output is complete it finishes on its own.
      channel.on('close', () => {
        if (!done && !child.stdout.readableEnded) child.kill('SIGTERM');
      });
      child.stdin.on('error', () => undefined);
      channel.pipe(child.stdin);
      child.stdout.pipe(channel, { end: false });
      child.stderr.pipe(channel.stderr, { end: false });
    },
    (err: Error) => refuse(err.message, 1),
  );
}

/** The SSH front end: public-key auth against registered keys, `git upload-pack`/`receive-pack` only. */
export async function startSshServer(state: TargetState, options: { host: string; port: number; hostKey: string }): Promise<{ port: number; close(): Promise<void> }> {
  const connections = new Set<Connection>();
  // No chacha20-poly1305: without ssh2's native build it runs in JS; the AES ciphers use node's OpenSSL.
  const cipher = ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'aes128-ctr', 'aes192-ctr', 'aes256-ctr'] as const;
  const server = new Server({ hostKeys: [options.hostKey], ident: 'e3-target', algorithms: { cipher: [...cipher] } }, (client, clientInfo) => {
    let userName = '-';
    connections.add(client);
    // Without this, Nagle + delayed ACK add ~40 ms to each handshake round trip on loopback.
    (client as Connection & { setNoDelay(on: boolean): void }).setNoDelay(true);
    client.on('close', () => connections.delete(client));
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey') {
        ctx.reject(['publickey']);
        return;
      }
      const found = lookupUser(state, ctx.key.data);
      if (found) userName = found.name;
      if (!found) {
        ctx.reject(['publickey']);
        return;
      }
      if (!ctx.signature || !ctx.blob) {
        ctx.accept();
        return;
      }
      const key = utils.parseKey(found.text);
      const pk = Array.isArray(key) ? key[0] : key;
      if (!pk || pk instanceof Error || pk.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) {
        ctx.reject(['publickey']);
        return;
      }
      ctx.accept();
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        const env: Record<string, string> = {};
        session.on('env', (acceptEnv, rejectEnv, info) => {
          if (info.key === 'GIT_PROTOCOL') {
            env.GIT_PROTOCOL = info.val;
            acceptEnv?.();
          } else rejectEnv?.();
        });
        session.on('pty', (_a, reject) => reject?.());
        session.on('shell', (acceptShell) => {
          const ch = acceptShell();
          ch.stderr.write('fatal: interactive shell access is not supported; this server only serves git.\n');
          ch.exit(128);
          ch.end();
        });
        session.on('subsystem', (_a, reject) => reject());
        session.on('exec', (acceptExec, _reject, info) => serveExec(state, acceptExec(), info.command, env, { ip: clientInfo.ip, user: userName }));
      });
    });
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.end();
        server.close(() => resolve());
      }),
  };
}
