/** Worker thread of renderCharts: renders one chart to its PNG file per task. */
import { writeFileAtomic } from '@e3/model';

import type { ChartSpec } from './charts.js';
import { serve } from './pool.js';
import { renderPng } from './render-png.js';

serve(async (task: { spec: ChartSpec; file: string }) => {
  await writeFileAtomic(task.file, renderPng(task.spec));
  return task.file;
});
