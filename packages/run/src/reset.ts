import { setTimeout as sleep } from 'node:timers/promises';

import { E3Error, type Instance } from '@e3/model';
import type { NodeHandle } from '@e3/remote';

export const DEFAULT_RESTART_COMMAND = 'sudo service atlbitbucket restart';
export const DEFAULT_HEALTH_TIMEOUT_MS = 600_000;

export type ResetMode = 'restart' | 'restore' | 'none';

/** How an instance is reset between stages (see `Instance.reset`). */
export function resetMode(instance: Instance): ResetMode {
  if (instance.reset) return instance.reset;
  return instance.restartCommand || instance.StackId ? 'restart' : 'none';
}

function adminAuth(instance: Instance): string {
  const user = instance.RunConfig?.admin_user ?? 'admin';
  const password = instance.RunConfig?.admin_password ?? '';
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** `URL` without a trailing slash; E3_INVALID_FILE naming the stack when absent. */
function baseUrl(instance: Instance, stack: string): string {
  if (!instance.URL) {
    throw new E3Error('INVALID_FILE', `instance ${stack}: /URL: missing, but resetting and health checks need it`, {
      hint: `Add "URL" to e3-home/instances/${stack}.json, or set "reset": "none"`,
    });
  }
  return instance.URL.replace(/\/+$/, '');
}

/**
 * Polls the health URL (`healthUrl`, else `<URL>/status`) until it answers `{"state":"RUNNING"}`.
 * Throws E3_HEALTH_TIMEOUT naming the URL and the last answer when `timeoutMs` passes.
 */
export async function waitHealthy(instance: Instance, stack: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
  const url = instance.healthUrl ?? `${baseUrl(instance, stack)}/status`;
  const timeoutMs = options.timeoutMs ?? instance.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  let last: string;
  let delay = 100;
  for (;;) {
    if (options.signal?.aborted) throw new E3Error('INTERRUPTED', 'interrupted');
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(Math.min(10_000, Math.max(1, deadline - Date.now()))) });
      const body = await res.text();
      last = `HTTP ${res.status} ${body.slice(0, 120)}`;
      if (res.ok && (JSON.parse(body) as { state?: string }).state === 'RUNNING') return;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() >= deadline) {
      throw new E3Error('HEALTH_TIMEOUT', `${url} did not report {"state":"RUNNING"} within ${Math.round(timeoutMs / 1000)} s (last: ${last})`, {
        hint: `Check the server of ${stack}; raise "healthTimeoutMs" in e3-home/instances/${stack}.json if it needs longer to start`,
      });
    }
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())), undefined, { signal: options.signal }).catch(() => undefined);
    delay = Math.min(delay * 2, 5000);
  }
}

/**
 * Resets the system under test before a stage and waits for health. `restart`: the restart command on
 * every cluster node (fails loudly on a non-zero exit); `restore`: the local target's state restore;
 * `none`: only the health wait (when there is a URL). Returns the time spent (ms).
 */
export async function resetInstance(options: {
  instance: Instance;
  stack: string;
  clusterNodes: () => Promise<NodeHandle[]>;
  signal?: AbortSignal;
  healthTimeoutMs?: number;
}): Promise<number> {
  const { instance, stack } = options;
  const started = performance.now();
  const mode = resetMode(instance);
  if (mode === 'restart') {
    const command = instance.restartCommand ?? DEFAULT_RESTART_COMMAND;
    await Promise.all(
      (await options.clusterNodes()).map(async (node) => {
        const r = await node.exec(command, { timeoutMs: 600_000, signal: options.signal });
        if (r.code !== 0) {
          throw new E3Error('ENVIRONMENT', `restart on ${node.node} (${stack}) exited ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`, {
            hint: `Run \`${command}\` on ${node.node} by hand, or set "restartCommand" in e3-home/instances/${stack}.json`,
          });
        }
      }),
    );
  } else if (mode === 'restore') {
    const url = `${baseUrl(instance, stack)}/rest/e3/1.0/state/restore`;
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers: { authorization: adminAuth(instance), 'x-atlassian-token': 'no-check' }, signal: options.signal });
    } catch (err) {
      throw new E3Error('ENVIRONMENT', `could not restore the state of ${stack}: ${(err as Error).message}`, { cause: err, hint: `Is the target of ${stack} running? \`e3 target start\`` });
    }
    if (!res.ok) {
      throw new E3Error('ENVIRONMENT', `restoring the state of ${stack} answered HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`, {
        hint: `Check RunConfig.admin_password in e3-home/instances/${stack}.json, and that a state was saved (\`e3 target save-state\`)`,
      });
    }
  }
  if (instance.URL || instance.healthUrl) await waitHealthy(instance, stack, { timeoutMs: options.healthTimeoutMs, signal: options.signal });
  return performance.now() - started;
}
