import { cpus } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';

import type { Health } from '@e3/model';

function hostTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times;
    const all = t.user + t.nice + t.sys + t.idle + t.irq;
    total += all;
    busy += all - t.idle;
  }
  return { busy, total };
}

/**
 * The agent's vital signs, one reading per call to `read()`: host CPU (os.cpus times), this process's CPU
 * (process.cpuUsage, % of one core) and the p99 event-loop delay, each over the time since the previous
 * read. `stop()` ends the event-loop histogram.
 */
export function startHealth(): { read(): Health; stop(): void } {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let host = hostTimes();
  let proc = process.cpuUsage();
  let at = process.hrtime.bigint();
  const r1 = (x: number) => Math.round(x * 10) / 10;
  return {
    read() {
      const nowHost = hostTimes();
      const nowProc = process.cpuUsage();
      const now = process.hrtime.bigint();
      const wallUs = Number(now - at) / 1000;
      const total = nowHost.total - host.total;
      const health: Health = {
        hostCpuPercent: r1(total > 0 ? (100 * (nowHost.busy - host.busy)) / total : 0),
        processCpuPercent: r1(wallUs > 0 ? (100 * (nowProc.user - proc.user + nowProc.system - proc.system)) / wallUs : 0),
        eventLoopDelayMs: r1(loop.count ? loop.percentile(99) / 1e6 : 0),
      };
      loop.reset();
      host = nowHost;
      proc = nowProc;
      at = now;
      return health;
    },
    stop() {
      loop.disable();
    },
  };
}
