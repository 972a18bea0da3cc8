import { E3Error } from '@e3/model';

import type { ExecResult } from './types.js';

export const DEFAULT_MAX_BUFFER = 16 * 1024 * 1024;

/** Keeps the last `max` bytes written to it. */
export function tailBuffer(max: number): { push(chunk: Buffer): void; text(): string; readonly truncated: boolean } {
  let chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  return {
    push(chunk) {
      chunks.push(chunk);
      size += chunk.length;
      if (size > max * 2) {
        const all = Buffer.concat(chunks);
        chunks = [all.subarray(all.length - max)];
        size = max;
        truncated = true;
      }
    },
    text() {
      const all = Buffer.concat(chunks);
      if (all.length > max) {
        truncated = true;
        return all.subarray(all.length - max).toString('utf8');
      }
      return all.toString('utf8');
    },
    get truncated() {
      return truncated;
    },
  };
}

/** A short printable form of a command for messages. */
export function describeCommand(command: string | readonly string[]): string {
  const text = typeof command === 'string' ? command : command.join(' ');
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** Throws E3_ENVIRONMENT for a non-zero exit when `check` is set. */
export function checkResult(node: string, command: string | readonly string[], result: ExecResult, check: boolean | undefined): ExecResult {
  if (!check || result.code === 0) return result;
  const tail = result.stderr.trim().split('\n').slice(-5).join('\n');
  const how = result.code === null ? `was killed by ${result.signal ?? 'a signal'}` : `exited with code ${result.code}`;
  throw new E3Error('ENVIRONMENT', `${node}: \`${describeCommand(command)}\` ${how}${tail ? `:\n${tail}` : ''}`, {
    details: { node, code: result.code, signal: result.signal },
  });
}

export function timeoutError(node: string, command: string | readonly string[], timeoutMs: number): E3Error {
  return new E3Error('NODE_TIMEOUT', `${node}: \`${describeCommand(command)}\` did not finish within ${timeoutMs} ms and was killed`, {
    hint: 'Raise the timeout, or check the node for a hung process (ssh in and look at `ps -ef`)',
  });
}

export function abortError(node: string, command: string | readonly string[], reason: unknown): E3Error {
  return new E3Error('INTERRUPTED', `${node}: \`${describeCommand(command)}\` was aborted`, { cause: reason });
}
