import { appendFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { nodeCollectdCsvDir } from '@e3/model';

import type { TargetState } from './http/context.js';

/**
 * `<data>/collectd-csv/<host>` (model's nodeCollectdCsvDir, which gather copies from every cluster node whose
 * instance `dataDir` is `<data>`): collectd CSV layout (`<plugin>/<type>-<instance>-YYYY-MM-DD`, `epoch,value`).
 */
export function metricsDir(dataDir: string, host = 'localhost'): string {
  return join(nodeCollectdCsvDir(dataDir), host);
}

async function appendSample(dir: string, plugin: string, name: string, epoch: number, value: number): Promise<void> {
  const folder = join(dir, plugin);
  const date = new Date(epoch * 1000).toISOString().slice(0, 10);
  const file = join(folder, `${name}-${date}`);
  if (!existsSync(file)) {
    await mkdir(folder, { recursive: true });
    await appendFile(file, 'epoch,value\n');
  }
  await appendFile(file, `${epoch.toFixed(3)},${value}\n`);
}

/**
 * Writes one sample of every target metric: hosting tickets (Used, QueuedRequests, Total, Available),
 * ScmStatistics (Pulls, Pushes), Tomcat-style request count and processing time. `peakQueued` is the
 * largest queue seen since the last sample, so short bursts still show.
 */
export async function writeMetrics(state: TargetState, peak: { used: number; queued: number }): Promise<void> {
  const dir = metricsDir(state.dataDir);
  const epoch = Date.now() / 1000;
  const t = state.tickets.stats();
  const jmx = 'GenericJMX-com.atlassian.bitbucket_HostingTickets';
  const tomcat = 'GenericJMX-catalina_request_processor-"http-nio-7990"';
  const scm = 'GenericJMX-com.atlassian.bitbucket_ScmStatistics';
  const c = state.counters;
  await Promise.all([
    appendSample(dir, jmx, 'gauge-Used', epoch, Math.max(t.used, peak.used)),
    appendSample(dir, jmx, 'gauge-QueuedRequests', epoch, Math.max(t.queued, peak.queued)),
    appendSample(dir, jmx, 'gauge-Total', epoch, t.total),
    appendSample(dir, jmx, 'gauge-Available', epoch, t.total - t.used),
    appendSample(dir, scm, 'gauge-Pulls', epoch, c.pulls),
    appendSample(dir, scm, 'gauge-Pushes', epoch, c.pushes),
    appendSample(dir, tomcat, 'total_requests-global-requests', epoch, c.requests),
    appendSample(dir, tomcat, 'total_time_in_ms-global-processing', epoch, c.processingMs),
    appendSample(dir, tomcat, 'total_requests-global-errors', epoch, c.errors5xx),
  ]);
}

/** Samples every `intervalMs`, and the ticket peaks every 100 ms in between. Returns a stop function that writes a last sample. */
export function startMetrics(state: TargetState, options: { intervalMs: number; onError?: (err: unknown) => void }): () => Promise<void> {
  let peak = { used: 0, queued: 0 };
  const probe = setInterval(() => {
    const t = state.tickets.stats();
    peak = { used: Math.max(peak.used, t.used), queued: Math.max(peak.queued, t.queued) };
  }, 100);
  let chain: Promise<void> = Promise.resolve();
  const tick = (): void => {
    const p = peak;
    peak = { used: 0, queued: 0 };
    chain = chain.then(() => writeMetrics(state, p)).catch((err) => options.onError?.(err));
  };
  const timer = setInterval(tick, options.intervalMs);
  probe.unref();
  timer.unref();
  return async () => {
    clearInterval(probe);
    clearInterval(timer);
    tick();
    await chain;
  };
}
