import { Type, type Static } from '@sinclair/typebox';

/**
 * `summary.json` of one stage on one worker (packages/model/README.md#run-directory), written by the agent
 * when the stage ends. Durations are milliseconds; histograms record microseconds.
 */
export const STAGE_SUMMARY_FORMAT_VERSION = 1;

/** Error classes of a failed sample: the first word of the samples.csv `error` column. */
export const ERROR_CLASSES = ['http', 'git', 'exception', 'timeout', 'check', 'cut'] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

export const ErrorCountsSchema = Type.Object(
  {
    http: Type.Integer({ minimum: 0, default: 0, description: 'HTTP status ≥ 400 (or another status the script did not expect).' }),
    git: Type.Integer({ minimum: 0, default: 0, description: 'git exited with a non-zero code.' }),
    exception: Type.Integer({ minimum: 0, default: 0, description: 'An exception: connection refused or reset, a script error.' }),
    timeout: Type.Integer({ minimum: 0, default: 0, description: 'The operation exceeded its timeout.' }),
    check: Type.Integer({ minimum: 0, default: 0, description: 'A logical check of the script failed (ctx.check).' }),
    cut: Type.Integer({ minimum: 0, default: 0, description: 'Still running when the stage ended and its grace period ran out; not counted in `errors`.' }),
  },
  { description: 'Failed samples by error class.' },
);
export type ErrorCounts = Static<typeof ErrorCountsSchema>;

export const OpSummarySchema = Type.Object(
  {
    test: Type.String({ description: "The workload job's description." }),
    op: Type.String({ description: 'The operation (`git clone`, `GET /rest/api/1.0/projects`) or, for a transaction, the script name.' }),
    kind: Type.Union([Type.Literal('request'), Type.Literal('transaction')], { description: '`request`: one HTTP call or git invocation; `transaction`: one whole script pass.' }),
    count: Type.Integer({ minimum: 0, description: 'Samples recorded, cut ones included.' }),
    errors: Type.Integer({ minimum: 0, description: 'Failed samples, cut ones excluded.' }),
    errorsByClass: ErrorCountsSchema,
    bytes: Type.Number({ minimum: 0, description: 'Bytes received in total.' }),
    min: Type.Number({ description: 'Shortest duration (ms) of the samples that were not cut; 0 when there are none.' }),
    mean: Type.Number({ description: 'Mean duration (ms), cut samples excluded.' }),
    p50: Type.Number({ description: 'Median duration (ms), from the histogram.' }),
    p90: Type.Number({ description: '90th percentile duration (ms).' }),
    p95: Type.Number({ description: '95th percentile duration (ms).' }),
    p99: Type.Number({ description: '99th percentile duration (ms).' }),
    max: Type.Number({ description: 'Longest duration (ms).' }),
    histogram: Type.String({ description: 'HDR histogram of durations in microseconds, compressed and base64-encoded (hdr-histogram-js encodeIntoCompressedBase64; decodeFromCompressedBase64 reads it).' }),
  },
  { description: 'Counts and latency distribution of one (test, op, kind).' },
);
export type OpSummary = Static<typeof OpSummarySchema>;

export const TickOpSchema = Type.Object(
  {
    test: Type.String({ description: "The workload job's description." }),
    op: Type.String({ description: 'The operation or, for a transaction, the script name.' }),
    kind: Type.Union([Type.Literal('request'), Type.Literal('transaction')], { description: 'request or transaction.' }),
    count: Type.Integer({ minimum: 0, description: 'Samples that ended in this second.' }),
    errors: Type.Integer({ minimum: 0, description: 'Failed samples among them (cut excluded).' }),
    p50: Type.Number({ description: 'Median duration (ms) in this second.' }),
    p95: Type.Number({ description: '95th percentile duration (ms) in this second.' }),
    p99: Type.Optional(Type.Number({ description: '99th percentile duration (ms) in this second (absent in ticks of older agents).' })),
    max: Type.Number({ description: 'Longest duration (ms) in this second.' }),
    histogram: Type.Optional(
      Type.String({
        description:
          "HDR histogram of this second's durations in microseconds, encoded as OpSummary.histogram. Sent in tick messages, so that the controller merges the workers' percentiles; not kept in summary.json.",
      }),
    ),
  },
  { description: 'One (test, op, kind) in one second.' },
);
export type TickOp = Static<typeof TickOpSchema>;

export const HealthSchema = Type.Object(
  {
    hostCpuPercent: Type.Number({ minimum: 0, description: 'CPU use of the whole host over the second (%, all cores).' }),
    processCpuPercent: Type.Number({ minimum: 0, description: "CPU use of the agent's own process over the second (% of one core)." }),
    eventLoopDelayMs: Type.Number({ minimum: 0, description: "99th percentile of the agent's event-loop delay over the second (ms, perf_hooks.monitorEventLoopDelay)." }),
  },
  { description: "The agent's own vital signs in one second; `active` is its in-flight work." },
);
export type Health = Static<typeof HealthSchema>;

/** A stage is generator-bound when a worker's stage figure (stageHealth) passes one of these. */
export const GENERATOR_BOUND_LIMITS = { cpuPercent: 85, eventLoopDelayMs: 100 } as const;

export const StageHealthSchema = Type.Object(
  {
    hostCpuPercent: Type.Number({ description: 'Mean host CPU use over the stage (%).' }),
    processCpuPercent: Type.Number({ description: "Mean CPU use of the agent's process over the stage (% of one core)." }),
    eventLoopDelayMs: Type.Number({ description: 'Median over the seconds of the per-second p99 event-loop delay (ms).' }),
    maxEventLoopDelayMs: Type.Number({ description: 'Largest per-second p99 event-loop delay (ms).' }),
    maxActive: Type.Integer({ minimum: 0, description: 'Most operations in flight at the end of a second.' }),
  },
  { description: "The agent's vital signs over the stage (from the ticks' health)." },
);
export type StageHealth = Static<typeof StageHealthSchema>;

export const TickSchema = Type.Object(
  {
    t: Type.Number({ description: 'End of the second (epoch ms).' }),
    second: Type.Integer({ minimum: 0, description: 'Seconds since the stage started (0 for the first).' }),
    active: Type.Integer({ minimum: 0, description: 'Operations in flight at the end of the second.' }),
    arrivals: Type.Optional(Type.Integer({ minimum: 0, description: 'Open model: arrivals that were due in this second.' })),
    late: Type.Optional(Type.Integer({ minimum: 0, description: 'Open model: arrivals started later than the late threshold in this second.' })),
    dropped: Type.Optional(Type.Integer({ minimum: 0, description: 'Open model: arrivals dropped in this second.' })),
    ops: Type.Array(TickOpSchema, { description: 'Every (test, op, kind) that ended a sample in this second.' }),
    health: Type.Optional(HealthSchema),
  },
  { description: 'One second of a stage, as sent to the controller.' },
);
export type Tick = Static<typeof TickSchema>;

export const ArrivalsSchema = Type.Object(
  {
    rate: Type.Number({ minimum: 0, description: 'Arrivals per second asked of this worker.' }),
    scheduled: Type.Integer({ minimum: 0, description: 'Arrivals that fell due before the stage ended.' }),
    started: Type.Integer({ minimum: 0, description: 'Arrivals that started.' }),
    late: Type.Integer({ minimum: 0, description: 'Arrivals that started more than `lateThresholdMs` after they were due.' }),
    dropped: Type.Integer({ minimum: 0, description: 'Arrivals never started: no free virtual user within `maxQueue`, or the stage ended first.' }),
    lateThresholdMs: Type.Number({ minimum: 0, description: 'The lateness that counts an arrival as late (ms).' }),
  },
  { description: 'Open model accounting.' },
);
export type Arrivals = Static<typeof ArrivalsSchema>;

export const StageSummarySchema = Type.Object(
  {
    formatVersion: Type.Literal(STAGE_SUMMARY_FORMAT_VERSION, { description: 'Format version of this file.' }),
    agentVersion: Type.String({ description: 'Version of the agent that wrote it.' }),
    worker: Type.String({ description: 'Worker name or host that ran the stage.' }),
    model: Type.Union([Type.Literal('closed'), Type.Literal('open')], { description: '`closed`: clients loop their job; `open`: arrivals per second.' }),
    clients: Type.Integer({ minimum: 0, description: 'Virtual users on this worker (open model: the pool size).' }),
    clientOffset: Type.Integer({ minimum: 0, description: "Global number of this worker's first client." }),
    totalClients: Type.Integer({ minimum: 0, description: 'Clients over all workers.' }),
    assignment: Type.Union([Type.Literal('weighted'), Type.Literal('bands')], { description: 'How jobs were given to clients.' }),
    jobs: Type.Array(
      Type.Object(
        {
          test: Type.String({ description: "The job's description." }),
          script: Type.String({ description: 'The resolved script name.' }),
          weight: Type.Number({ description: "The job's weight." }),
          clients: Type.Integer({ minimum: 0, description: 'Clients of this worker that ran it.' }),
        },
        { description: 'One workload job.' },
      ),
      { description: 'The workload jobs and how many of this worker’s clients ran each.' },
    ),
    start: Type.Number({ description: 'When the stage started (epoch ms).' }),
    end: Type.Number({ description: 'When the last sample was recorded (epoch ms).' }),
    durationMs: Type.Number({ minimum: 0, description: 'The stage duration that was asked for (ms).' }),
    stopped: Type.Boolean({ description: 'True when the stage was stopped before its duration (stop message, channel closed, signal).' }),
    samples: Type.Integer({ minimum: 0, description: 'Rows written to samples.csv (header excluded). Analysis marks the stage incomplete when the file holds fewer.' }),
    completed: Type.Optional(Type.Integer({ minimum: 0, description: 'Passes (transaction rows) that ended, ok or failed, cut ones excluded.' })),
    cut: Type.Optional(Type.Integer({ minimum: 0, description: 'Passes (transaction rows) cut when the grace period ran out.' })),
    ops: Type.Array(OpSummarySchema, { description: 'One entry per (test, op, kind), sorted by test, kind, op.' }),
    arrivals: Type.Optional(ArrivalsSchema),
    ticks: Type.Array(TickSchema, { description: 'Every second of the stage.' }),
    health: Type.Optional(StageHealthSchema),
  },
  { description: 'summary.json of one stage on one worker.' },
);
export type StageSummary = Static<typeof StageSummarySchema>;

/**
 * A stage's own accounting from its per-op summaries: transaction rows that ended (`completed`, ok or
 * failed) and that were cut. For the open model every started arrival records one transaction row, so
 * arrivals.scheduled = completed + cut + arrivals.dropped.
 */
export function stageCounts(ops: readonly OpSummary[]): { completed: number; cut: number } {
  let completed = 0;
  let cut = 0;
  for (const o of ops) {
    if (o.kind !== 'transaction') continue;
    cut += o.errorsByClass.cut;
    completed += o.count - o.errorsByClass.cut;
  }
  return { completed, cut };
}

/** The stage figures of the ticks' health; undefined when no tick has one. */
export function stageHealth(ticks: readonly Tick[]): StageHealth | undefined {
  const h = ticks.flatMap((t) => (t.health ? [t.health] : []));
  if (!h.length) return undefined;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const delays = h.map((x) => x.eventLoopDelayMs).sort((a, b) => a - b);
  const r1 = (x: number) => Math.round(x * 10) / 10;
  return {
    hostCpuPercent: r1(mean(h.map((x) => x.hostCpuPercent))),
    processCpuPercent: r1(mean(h.map((x) => x.processCpuPercent))),
    eventLoopDelayMs: r1(delays[Math.floor((delays.length - 1) / 2)]!),
    maxEventLoopDelayMs: r1(delays.at(-1)!),
    maxActive: Math.max(0, ...ticks.map((t) => t.active)),
  };
}

/** Why a stage health is generator-bound, one phrase per limit passed; empty when it is not. */
export function generatorBoundReasons(h: StageHealth): string[] {
  const out: string[] = [];
  if (h.processCpuPercent > GENERATOR_BOUND_LIMITS.cpuPercent) out.push(`agent CPU ${h.processCpuPercent} % of a core > ${GENERATOR_BOUND_LIMITS.cpuPercent} %`);
  if (h.eventLoopDelayMs > GENERATOR_BOUND_LIMITS.eventLoopDelayMs) out.push(`event-loop delay ${h.eventLoopDelayMs} ms > ${GENERATOR_BOUND_LIMITS.eventLoopDelayMs} ms`);
  return out;
}
