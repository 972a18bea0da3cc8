import { join } from 'node:path';

import { createCanvas } from '@napi-rs/canvas';
import { Chart, registerables, type ChartConfiguration } from 'chart.js';

import { writeFileAtomic } from '@e3/model';

import { bandsPlugin, type ChartSpec } from './charts.js';
import { canUseWorkers, runPool, workerCount } from './pool.js';

Chart.register(...registerables);

/** Paints the canvas white first (PNG backgrounds are otherwise transparent). */
const whiteBackground = {
  id: 'e3White',
  beforeDraw(chart: { ctx: { save(): void; restore(): void; fillRect(x: number, y: number, w: number, h: number): void; fillStyle: unknown }; width: number; height: number }) {
    chart.ctx.save();
    chart.ctx.fillStyle = '#ffffff';
    chart.ctx.fillRect(0, 0, chart.width, chart.height);
    chart.ctx.restore();
  },
};

/**
 * Renders a chart spec to PNG bytes: Chart.js drawing straight on an @napi-rs/canvas canvas (prebuilt
 * Skia binaries from npm: no browser, no native build). Outside a DOM, Chart.js uses its basic platform.
 */
export function renderPng(spec: ChartSpec): Buffer {
  const canvas = createCanvas(spec.width, spec.height);
  const config = { ...spec.config, options: { ...spec.config.options, responsive: false, animation: false, devicePixelRatio: 1 }, plugins: [whiteBackground, bandsPlugin] };
  const chart = new Chart(canvas as unknown as ConstructorParameters<typeof Chart>[0], config as unknown as ChartConfiguration);
  try {
    return canvas.toBuffer('image/png');
  } finally {
    chart.destroy();
  }
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
