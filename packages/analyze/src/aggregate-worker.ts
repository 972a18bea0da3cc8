/** Worker thread: aggregates one thread-stage per message (see aggregateRun). */
import { parentPort } from 'node:worker_threads';

import { isE3Error } from '@e3/model';

import { aggregateStage, encodeStage, type StageInput, type StageOptions } from './aggregate.js';

parentPort!.on('message', (msg: { thread: number; stage: StageInput; options: StageOptions }) => {
  aggregateStage(msg.thread, msg.stage, msg.options).then(
    (r) => parentPort!.postMessage({ result: encodeStage(r) }),
    (err: unknown) => parentPort!.postMessage({ error: { message: (err as Error).message, ...(isE3Error(err) ? { code: err.code, ...(err.hint ? { hint: err.hint } : {}) } : {}) } }),
  );
});
