import { ChartJSNodeCanvas } from 'chartjs-node-canvas';

import { bandsPlugin, type ChartSpec } from './charts.js';

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
