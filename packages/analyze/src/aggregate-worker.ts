/** Worker thread of aggregateRun: aggregates one thread-stage per task. */
import { aggregateStage, encodeStage, type StageInput, type StageOptions } from './aggregate.js';
import { serve } from './pool.js';

serve(async (task: { thread: number; stage: StageInput; options: StageOptions }) => encodeStage(await aggregateStage(task.thread, task.stage, task.options)));
