import { createInterface } from 'node:readline';

import { AGENT_PROTOCOL_VERSION, E3Error, checkAgentMessage, isE3Error, type AgentMessage, type ControllerMessage } from '@e3/model';
import type { SpawnedProcess } from '@e3/remote';

/**
 * The controller's end of one agent's NDJSON channel. Messages arrive in order through `waitFor`; a line
 * that is not JSON is kept as a log line. Every JSON line is checked against the protocol schema: a
 * malformed message (E3_AGENT) or a `hello` with another protocol version (E3_AGENT_PROTOCOL) breaks the
 * channel, and every later `waitFor` rejects with that error. `closed` settles when the agent's stdout ends.
 */
export interface AgentChannel {
  readonly worker: string;
  send(message: ControllerMessage): void;
  /**
   * The next message of `type`. Rejects with the agent's `error`, with E3_AGENT when the channel closes
   * first or `timeoutMs` passes, or with the error that broke the channel (see openChannel).
   */
  waitFor<T extends AgentMessage['type']>(type: T, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<Extract<AgentMessage, { type: T }>>;
  /** Called with every message (ticks, logs, …) as it arrives. */
  onMessage(listener: (message: AgentMessage) => void): void;
  /** Resolves when the agent's output ends (it exited or the connection dropped). */
  readonly closed: Promise<void>;
  /** Closes the agent's stdin: it stops any running stage, writes its files and exits. */
  end(): void;
  readonly process: SpawnedProcess;
  /** Last lines the agent wrote to stderr (for error messages). */
  stderrTail(): string;
}

/** A line from an agent as a message, or the coded error it is: E3_AGENT_PROTOCOL for another protocol version, E3_AGENT for a malformed message. */
export function decodeAgentLine(line: string, worker: string): AgentMessage | E3Error {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { type: 'log', level: 'info', message: line, t: Date.now() };
  }
  const said = value as { type?: unknown; protocol?: unknown; version?: unknown };
  if (said?.type === 'hello' && said.protocol !== AGENT_PROTOCOL_VERSION) {
    const version = typeof said.version === 'string' ? ` (agent ${said.version})` : '';
    return new E3Error('AGENT_PROTOCOL', `agent on ${worker} speaks control protocol ${JSON.stringify(said.protocol) ?? 'none'}${version}, this e3 speaks ${AGENT_PROTOCOL_VERSION}`, {
      hint: 'Ship the agent of this e3: drop --agent-bundle, or rebuild the bundle with `pnpm build`',
    });
  }
  const checked = checkAgentMessage(value);
  if ('message' in checked) return checked.message;
  return new E3Error('AGENT', `agent on ${worker} sent a malformed message: ${checked.problem}`, {
    hint: 'Ship the agent of this e3 (drop --agent-bundle, or rebuild it with `pnpm build`); docs/agent.md#protocol has the message shapes',
  });
}

export function openChannel(proc: SpawnedProcess, worker: string): AgentChannel {
  const queue: AgentMessage[] = [];
  const waiters: Array<() => void> = [];
  const listeners: Array<(m: AgentMessage) => void> = [];
  let isClosed = false;
  let fault: E3Error | undefined;
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  proc.stdin.on('error', () => undefined);
  // A channel that could not be opened or broke destroys the streams with the reason: keep it for messages.
  let broken: Error | undefined;
  proc.stdout.on('error', (err: Error) => (broken ??= err));
  proc.stderr.on('error', (err: Error) => (broken ??= err));

  const wake = () => waiters.splice(0).forEach((w) => w());
  const rl = createInterface({ input: proc.stdout, crlfDelay: Infinity });
  // readline re-emits its input's errors; `broken` already holds the reason.
  rl.on('error', () => undefined);
  rl.on('line', (line) => {
    if (!line.trim() || fault) return;
    const message = decodeAgentLine(line, worker);
    if (isE3Error(message)) {
      fault = message;
      wake();
      return;
    }
    for (const l of listeners) l(message);
    queue.push(message);
    wake();
  });
  // A destroyed stream emits close without end; readline only ends on end.
  proc.stdout.on('close', () => rl.close());
  const closed = new Promise<void>((resolve) =>
    rl.on('close', () => {
      isClosed = true;
      wake();
      resolve();
    }),
  );

  return {
    worker,
    process: proc,
    closed,
    send(message) {
      if (!proc.stdin.writableEnded && !proc.stdin.destroyed) proc.stdin.write(JSON.stringify(message) + '\n');
    },
    onMessage(listener) {
      listeners.push(listener);
    },
    end() {
      if (!proc.stdin.writableEnded) proc.stdin.end();
    },
    stderrTail: () => stderr.trim().split('\n').slice(-5).join('\n'),
    async waitFor(type, options = {}) {
      const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
      for (;;) {
        const i = queue.findIndex((m) => m.type === type || m.type === 'error');
        if (i >= 0) {
          const [m] = queue.splice(0, i + 1).slice(-1);
          if (m!.type === 'error' && type !== 'error') {
            const e = m as Extract<AgentMessage, { type: 'error' }>;
            throw new E3Error('AGENT', `agent on ${worker}: ${e.message}`, { hint: e.hint ?? `See the agent log on ${worker}` });
          }
          return m as never;
        }
        if (fault) throw fault;
        if (isClosed) {
          const why = broken ? broken.message : stderr.trim().split('\n').slice(-3).join(' | ');
          const tail = why ? `: ${why}` : '';
          throw new E3Error('AGENT', `agent on ${worker} exited before sending "${type}"${tail}`, {
            hint: `Check that Node ≥ 20 and git work on ${worker} (\`e3 nodes check\`)`,
          });
        }
        if (options.signal?.aborted) throw new E3Error('INTERRUPTED', 'interrupted');
        const wait = Math.min(deadline - Date.now(), 1000);
        if (wait <= 0) throw new E3Error('AGENT', `agent on ${worker} sent no "${type}" within ${options.timeoutMs} ms`, { hint: `See the agent log on ${worker}` });
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
  };
}
