import { homeFilePath, type NodesInstance } from '@e3/model';
import type { ThreadCheck } from '@e3/provision';
import { createStackConnector } from '@e3/remote';
import { checkWorker, waitHealthy } from '@e3/run';

/**
 * Checks run by `e3 provision` on bring-your-own parts before it succeeds: every node answers over SSH
 * with the instance's key (its host key pinned into the instance file on first contact, checked after),
 * workers have Node ≥ 20 and git, and the system under test's health URL says RUNNING.
 */
export function byoChecks(options: { insecureHostKeys?: boolean; healthTimeoutMs?: number } = {}): ThreadCheck[] {
  return [
    async (t, ctx) => {
      const connector = createStackConnector({
        insecure: options.insecureHostKeys,
        onPinned: (node, fp) => ctx.log(`pinned the host key of ${node}: ${fp}`),
        signal: ctx.signal,
      });
      try {
        for (const part of ['worker', 'instance'] as const) {
          if (t.providers[part] !== 'byo') continue;
          const instance = t[part] as NodesInstance;
          const stack = instance.Name ?? t.thread[part].stack!.Name;
          const machines = { stack, instance, file: homeFilePath(ctx.home, 'instance', stack) };
          for (const node of instance.ClusterNodes) {
            const handle = await connector.connect(machines, node);
            if (part === 'worker') await checkWorker(handle, ctx.signal);
          }
          if (part === 'instance' && (instance.URL || instance.healthUrl)) {
            await waitHealthy(instance, stack, { timeoutMs: options.healthTimeoutMs ?? 30_000, signal: ctx.signal });
          }
          ctx.log(`thread ${t.index + 1}: ${part} ${stack}: ${instance.ClusterNodes.length} node(s) reachable${part === 'instance' && instance.URL ? `, ${instance.URL} RUNNING` : ''}`);
        }
      } finally {
        await connector.closeAll();
      }
    },
  ];
}
