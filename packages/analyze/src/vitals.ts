import { generatorBoundReasons, readGatherManifest, type AnalysisSummary } from '@e3/model';

import type { NodeMetrics } from './metrics.js';
import type { RunInfo } from './run-dir.js';

type MetricsSummary = NonNullable<AnalysisSummary['metrics']>;
type GeneratorBound = NonNullable<AnalysisSummary['generatorBound']>[number];

/**
 * Which nodes have system metrics (their charts and series), and which nodes of the run have none and why:
 * the node's gather error from gather.json, else no collectd CSV/RRD in the stage windows. Nodes are the
 * run-dir node folders plus every node gather.json lists.
 */
export async function metricsSummary(info: RunInfo, metrics: NodeMetrics[]): Promise<MetricsSummary> {
  const manifest = await readGatherManifest(info.runDir).catch(() => undefined);
  const nodes = metrics.map((m) => ({
    thread: m.thread, node: m.node, host: m.host, source: m.source,
    charts: m.strips.map((s) => ({ id: s.id, title: s.title, series: s.series.map((x) => x.label) })),
  }));
  const missing: MetricsSummary['missing'] = [];
  for (const t of info.threads) {
    const gathered = manifest?.nodes.filter((n) => n.thread === t.index) ?? [];
    const dirs = [...new Set([...t.nodes, ...gathered.map((n) => n.dir.split('/').pop()!)])].sort();
    for (const dir of dirs) {
      if (metrics.some((m) => m.thread === t.index && m.node === dir)) continue;
      const g = gathered.find((n) => n.dir.split('/').pop() === dir);
      const reason = g?.error
        ? `gather failed on ${g.node}: [${g.error.code}] ${g.error.message}`
        : `no collectd CSV or RRD files in the stage windows${g ? ` (node ${g.node})` : ''}`;
      missing.push({ thread: t.index, node: dir, reason });
    }
  }
  return { nodes, missing };
}

/**
 * Stages during which a worker's agent was the bottleneck: its process CPU (mean over the stage) above
 * 85 % of a core or its event-loop delay (median of the per-second p99) above 100 ms
 * (GENERATOR_BOUND_LIMITS), from each worker's summary.json `health`.
 */
export function generatorBound(info: RunInfo): GeneratorBound[] {
  const out: GeneratorBound[] = [];
  for (const t of info.threads) {
    for (const st of t.stages) {
      for (const a of st.agents) {
        if (!a.health) continue;
        const reasons = generatorBoundReasons(a.health);
        if (!reasons.length) continue;
        out.push({
          thread: t.index, stage: st.index, worker: a.worker,
          cpuPercent: a.health.processCpuPercent, eventLoopDelayMs: a.health.eventLoopDelayMs,
          message: `${t.name} stage ${st.key}: worker ${a.worker + 1} was generator-bound (${reasons.join(', ')}): its latencies and throughput may measure the load generator, not the server`,
        });
      }
    }
  }
  return out;
}
