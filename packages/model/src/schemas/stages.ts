import { Type, type Static } from '@sinclair/typebox';

const StageStatus = Type.Union(
  [Type.Literal('pending'), Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('degraded'), Type.Literal('failed'), Type.Literal('aborted')],
  { description: 'pending → running → succeeded, degraded (a worker was lost; the rest ran), failed or aborted.' },
);

export const StageRecord = Type.Object(
  {
    index: Type.Integer({ minimum: 0, description: 'Stage index, 0-based.' }),
    key: Type.String({ description: 'E³ stage key: 000, 001, ….' }),
    workload: Type.String({ description: 'Workload name the stage ran.' }),
    duration: Type.Number({ minimum: 0, description: 'Planned duration, ms.' }),
    clients: Type.Optional(Type.Integer({ minimum: 0, description: 'Closed model: clients over all workers.' })),
    rate: Type.Optional(Type.Number({ minimum: 0, description: 'Open model: arrivals per second over all workers.' })),
    workers: Type.Array(
      Type.Object(
        {
          node: Type.String({ description: 'Worker node as in the instance file (localhost or user@host).' }),
          index: Type.Integer({ minimum: 0, description: 'Worker position (0-based): worker-node-<index+1>.' }),
          clients: Type.Optional(Type.Integer({ minimum: 0, description: 'Clients this worker ran.' })),
          rate: Type.Optional(Type.Number({ minimum: 0, description: 'Arrivals per second this worker ran.' })),
          clientOffset: Type.Optional(Type.Integer({ minimum: 0, description: 'First global client number of this worker.' })),
          status: StageStatus,
          error: Type.Optional(Type.String({ description: 'Why this worker did not finish.' })),
          lostAt: Type.Optional(Type.Number({ description: 'When the worker was lost (epoch ms).' })),
        },
        { description: 'What one worker ran.' },
      ),
      { description: 'Per worker.' },
    ),
    start: Type.Optional(Type.Number({ description: 'When the stage started (epoch ms): the agents\' start barrier.' })),
    end: Type.Optional(Type.Number({ description: 'When the stage ended (epoch ms): every agent done, drain included. Analysis divides by end − start only for runs without loadEnd.' })),
    loadStart: Type.Optional(Type.Number({ description: "Load window start (epoch ms): when the first agent began issuing work (the earliest start of the agents' done summaries, on their clock; the start barrier when no agent reported). Written by the run phase; see docs/analyze.md#the-load-window." })),
    loadEnd: Type.Optional(Type.Number({ description: 'Load window end (epoch ms): loadStart + the planned duration, or when the controller stopped the stage early (interrupt, fail-fast). No new work starts after it; throughput counts completions ending in [loadStart, loadEnd].' })),
    drainEnd: Type.Optional(Type.Number({ description: 'Drain end (epoch ms): when the last agent reported done or was lost; in-flight work finished (drain) or was cut between loadEnd and drainEnd.' })),
    scheduled: Type.Optional(Type.Integer({ minimum: 0, description: 'Open model: arrivals that fell due in the load window, summed over workers (agent summary arrivals.scheduled).' })),
    started: Type.Optional(Type.Integer({ minimum: 0, description: 'Open model: arrivals that started, summed over workers.' })),
    late: Type.Optional(Type.Integer({ minimum: 0, description: 'Open model: arrivals started later than the late threshold, summed over workers.' })),
    dropped: Type.Optional(Type.Integer({ minimum: 0, description: 'Open model: arrivals never started, summed over workers. scheduled = completed + cut + dropped.' })),
    resetMs: Type.Optional(Type.Number({ minimum: 0, description: 'Time spent resetting the instance and waiting for health, ms.' })),
    overheadMs: Type.Optional(Type.Number({ minimum: 0, description: "Controller's own time between the previous stage's end and this start, minus reset, ms." })),
    status: StageStatus,
  },
  { additionalProperties: true, description: 'One stage as the controller saw it.' },
);
export type StageRecord = Static<typeof StageRecord>;

export const StagesFile = Type.Object(
  {
    formatVersion: Type.Integer({ minimum: 1, description: 'Run-directory format version.' }),
    thread: Type.Integer({ minimum: 0, description: 'Thread index, 0-based (thread-<index+1>).' }),
    name: Type.String({ description: 'Thread name.' }),
    stages: Type.Array(StageRecord, { description: 'The stages in order.' }),
  },
  { additionalProperties: true, description: 'runs/<run>/thread-NNN/stages.json, written by the run phase.' },
);
export type StagesFile = Static<typeof StagesFile>;
