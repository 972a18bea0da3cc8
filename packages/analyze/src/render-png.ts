import { join } from 'node:path';

import { ChartJSNodeCanvas } from 'chartjs-node-canvas';

import { writeFileAtomic } from '@e3/model';


import { bandsPlugin, type ChartSpec } from './charts.js';
import { canUseWorkers, runPool, workerCount } from './pool.js';

const canvases = new Map<string, ChartJSNodeCanvas>();

function canvas(width: number, height: number): ChartJSNodeCanvas {
  const key = `${width}x${height}`;
  let c = canvases.get(key);
  if (!c) {
    c = new ChartJSNodeCanvas({ width, height, backgroundColour: 'white' });
    canvases.set(key, c);
  }
  return c;
}

/** Renders a chart spec to PNG bytes (Chart.js on @napi-rs/canvas; no browser, no native build). */
export function renderPng(spec: ChartSpec): Buffer {
  const config = { ...spec.config, plugins: [bandsPlugin] };
  return canvas(spec.width, spec.height).renderToBufferSync(config as never, 'image/png');
}

const RENDER_WORKER_URL = new URL('./render-worker.js', import.meta.url);

/**
 * Renders every spec to `<dir>/<spec.file>` (atomic writes), on worker threads when there are many charts
 * and the package runs compiled; returns the files in spec order.
 */
export async function renderCharts(specs: ChartSpec[], dir: string, options: { workers?: number; signal?: AbortSignal } = {}): Promise<string[]> {
  const workers = options.workers ?? (canUseWorkers && specs.length >= 16 ? workerCount(specs.length) : 0);
  const tasks = specs.map((spec) => ({ spec, file: join(dir, spec.file) }));
  if (workers > 1 && canUseWorkers) {
    const weights = specs.map((s) => JSON.stringify(s.config.data).length);
    return runPool<{ spec: ChartSpec; file: string }, string>(RENDER_WORKER_URL, tasks, workers, { weights, signal: options.signal });
  }
  for (const t of tasks) {
    if (options.signal?.aborted) throw options.signal.reason;
    await writeFileAtomic(t.file, renderPng(t.spec));
  }
  return tasks.map((t) => t.file);
}
