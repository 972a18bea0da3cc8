import { Type, type Static } from '@sinclair/typebox';

import { Threshold } from './threshold.js';

const Num = (description: string) => Type.Number({ description });
const NullableNum = (description: string) => Type.Union([Type.Number(), Type.Null()], { description });

/** One aggregate: thread × stage × test × op × kind. */
export const SummaryRow = Type.Object(
  {
    thread: Type.Integer({ minimum: 0, description: 'Thread index, 0-based (thread-<index+1>).' }),
    threadName: Type.String({ description: 'Thread name from the run file.' }),
    stage: Type.Integer({ minimum: 0, description: 'Stage index, 0-based (stage-NNN).' }),
    test: Type.String({ description: 'The workload job description (test).' }),
    op: Type.String({ description: 'The operation; "*" for the test level made of its requests when the test records no transactions.' }),
    kind: Type.Union([Type.Literal('request'), Type.Literal('transaction')], { description: 'Sample level: request or transaction (never summed across levels).' }),
    count: Type.Integer({ minimum: 0, description: 'Samples that ended (ok or failed), in the load window or the drain; cut ones excluded.' }),
    errors: Type.Integer({ minimum: 0, description: 'Samples with ok = 0, cut ones excluded.' }),
    errorRate: Num('errors / count (0 when count is 0).'),
    cut: Type.Optional(Type.Integer({ minimum: 0, description: 'Samples cut when the grace period ran out (error `cut`): neither successes nor errors, not in count or the latencies.' })),
    drainCount: Type.Optional(NullableNum('Of count, the samples that ended after loadEnd (in the drain); not in tps. null when the load window is unknown.')),
    tps: NullableNum('(count − drainCount) / load window seconds (docs/analyze.md#the-load-window); for runs without loadEnd, count / (end − start) seconds. null when the window is unknown.'),
    mean: Num('Mean duration, ms (exact, not from the histogram).'),
    min: Num('Smallest duration, ms.'),
    p50: Num('Median duration, ms (HDR histogram, 3 significant digits).'),
    p90: Num('90th percentile duration, ms (HDR).'),
    p95: Num('95th percentile duration, ms (HDR).'),
    p99: Num('99th percentile duration, ms (HDR).'),
    max: Num('Largest duration, ms.'),
    bytes: Num('Bytes received, summed.'),
  },
  { description: 'Aggregated numbers of one thread, stage, test, op and kind.' },
);
export type SummaryRow = Static<typeof SummaryRow>;

const StageSummary = Type.Object(
  {
    index: Type.Integer({ minimum: 0, description: 'Stage index, 0-based.' }),
    key: Type.String({ description: 'E³ stage key (000, 001, …).' }),
    status: Type.String({ description: 'Stage status from stages.json, or "missing" when the run never reached it.' }),
    workload: Type.Optional(Type.String({ description: 'Workload the stage ran.' })),
    clients: Type.Optional(Type.Integer({ description: 'Closed model: clients the stage ran (stages.json).' })),
    rate: Type.Optional(Type.Number({ description: 'Open model: arrivals per second (stages.json).' })),
    load: NullableNum('The load axis value: clients, or rate for the open model; null when unknown.'),
    start: Type.Optional(Type.Number({ description: 'Window start (epoch ms): stages.json loadStart, else start.' })),
    end: Type.Optional(Type.Number({ description: 'Window end (epoch ms): stages.json loadEnd, else end (which includes the drain).' })),
    windowMs: NullableNum('end − start, ms: the load window TPS divides by; null when either is unknown.'),
    loadWindow: Type.Optional(Type.Boolean({ description: 'True when the window is the load window (stages.json loadStart/loadEnd); false for older runs, whose window includes the drain.' })),
    drainEnd: Type.Optional(Type.Number({ description: 'When the drain ended (epoch ms, stages.json drainEnd).' })),
    samples: Type.Integer({ minimum: 0, description: 'Sample rows read for this stage (all kinds).' }),
    tps: NullableNum('Thread throughput: per test, transactions when it records them, else requests, that ended in the load window; summed over tests.'),
    drainCount: Type.Optional(NullableNum('Test-level samples (as for tps) that ended in the drain, after loadEnd; null when the load window is unknown.')),
    completed: Type.Optional(Type.Integer({ minimum: 0, description: 'Test-level samples (as for tps) that ended, ok or failed, load window and drain.' })),
    cut: Type.Optional(Type.Integer({ minimum: 0, description: 'Test-level samples cut when the grace period ran out.' })),
    scheduled: Type.Optional(Type.Integer({ minimum: 0, description: 'Open model: arrivals that fell due (stages.json, else the workers\' summary.json).' })),
    started: Type.Optional(Type.Integer({ minimum: 0, description: 'Open model: arrivals that started.' })),
    late: Type.Optional(Type.Integer({ minimum: 0, description: 'Open model: arrivals started late.' })),
    dropped: Type.Optional(Type.Integer({ minimum: 0, description: 'Open model: arrivals never started. scheduled = completed + cut + dropped, else a note.' })),
    complete: Type.Optional(Type.Boolean({ description: 'False when the stage has notes: not succeeded, a worker lost, a samples.csv shorter than its summary.json or differing from gather.json.' })),
    notes: Type.Array(Type.String(), { description: 'Why numbers are partial or untrusted: missing or truncated worker files, degraded workers, unknown window, broken accounting.' }),
  },
  { description: 'One stage of a thread.' },
);

const ThreadSummary = Type.Object(
  {
    index: Type.Integer({ minimum: 0, description: 'Thread index, 0-based.' }),
    name: Type.String({ description: 'Thread name.' }),
    dir: Type.String({ description: 'Thread folder name (thread-NNN).' }),
    nodes: Type.Array(Type.String(), { description: 'Node folders found (worker-node-NNN, cluster-node-NNN, …).' }),
    stages: Type.Array(StageSummary, { description: 'Stages in order, planned ones included.' }),
    peak: Type.Optional(
      Type.Object(
        {
          stage: Type.Integer({ description: 'Stage with the highest thread throughput.' }),
          load: NullableNum('Its load.'),
          tps: Num('Its thread throughput.'),
        },
        { description: 'The most load the thread held: its highest throughput.' },
      ),
    ),
    breaksAt: Type.Optional(
      Type.Object(
        {
          stage: Type.Integer({ description: 'First stage that shows the break.' }),
          load: NullableNum('Its load.'),
          reason: Type.String({ description: 'Throughput fell, scaled below 70 % of the first stage per unit of load, or more than 5 % of test-level samples failed.' }),
        },
        { description: 'Where the thread stopped scaling; absent when every stage scaled.' },
      ),
    ),
  },
  { description: 'One thread of the run.' },
);

const ErrorGroup = Type.Object(
  {
    thread: Type.Integer({ description: 'Thread index.' }),
    stage: Type.Integer({ description: 'Stage index.' }),
    test: Type.String({ description: 'Test.' }),
    op: Type.String({ description: 'Operation.' }),
    kind: Type.String({ description: 'request or transaction.' }),
    error: Type.String({ description: 'Error class: the message with numbers and ids folded (e.g. "http 404", "git 128: fatal: …").' }),
    count: Type.Integer({ description: 'How many samples failed this way.' }),
    examples: Type.Array(Type.String(), { description: 'Up to 3 verbatim messages.' }),
  },
  { description: 'Failed samples grouped by their error.' },
);

const Check = Type.Object(
  {
    threshold: Threshold,
    index: Type.Integer({ description: 'Position of the threshold: experiment thresholds first, then each thread\'s.' }),
    metric: Type.String({ description: 'p95, p99, mean, errorRate, cutRate, droppedRate or minTps.' }),
    limit: Num('The threshold value.'),
    actual: NullableNum('The measured value; null when there were no samples.'),
    passed: Type.Boolean({ description: 'Whether the measured value is within the limit.' }),
    thread: Type.String({ description: 'Thread name checked.' }),
    stage: Type.Integer({ description: 'Stage index checked.' }),
    test: Type.String({ description: 'Test checked.' }),
    op: Type.String({ description: 'Op checked ("*" for the test level).' }),
    kind: Type.String({ description: 'request or transaction.' }),
    message: Type.String({ description: 'One line for people.' }),
  },
  { description: 'One threshold applied to one aggregate.' },
);

const MetricsNode = Type.Object(
  {
    thread: Type.Integer({ description: 'Thread index (0-based).' }),
    node: Type.String({ description: 'Node folder: worker-node-NNN, cluster-node-NNN or file-server-NNN.' }),
    host: Type.String({ description: 'Host folder inside collectd-csv/ or collectd-rrd/.' }),
    source: Type.String({ description: 'csv or rrd.' }),
    charts: Type.Array(
      Type.Object({ id: Type.String({ description: 'Strip id (cpu, memory, load, network, jmx-…).' }), title: Type.String({ description: 'Chart title.' }), series: Type.Array(Type.String(), { description: 'Series labels.' }) }),
      { description: 'The metric charts drawn for this node and host.' },
    ),
  },
  { description: 'A node with system metrics.' },
);

const MissingMetrics = Type.Object(
  {
    thread: Type.Integer({ description: 'Thread index (0-based).' }),
    node: Type.String({ description: 'Node folder, or the node name when gather never created one.' }),
    reason: Type.String({ description: 'Why there are no charts: the gather error, or no collectd CSV/RRD files in the stage windows.' }),
  },
  { description: 'A node of the run without system metrics.' },
);

const GeneratorBound = Type.Object(
  {
    thread: Type.Integer({ description: 'Thread index (0-based).' }),
    stage: Type.Integer({ description: 'Stage index.' }),
    worker: Type.Integer({ description: 'Worker index (0-based) whose agent was overloaded.' }),
    cpuPercent: Type.Optional(Num('Highest host CPU use (%) the agent measured during the stage.')),
    eventLoopDelayMs: Type.Optional(Num('Highest event-loop delay (p99 per second, ms) the agent measured during the stage.')),
    message: Type.String({ description: 'One line for people.' }),
  },
  { description: 'A stage whose load generator, not the server, may have been the bottleneck.' },
);

export const AnalysisSummary = Type.Object(
  {
    formatVersion: Type.Integer({ minimum: 1, description: 'Run-directory format version.' }),
    run: Type.String({ description: 'Run name.' }),
    experiment: Type.Optional(Type.String({ description: 'Experiment name.' })),
    description: Type.Optional(Type.String({ description: 'The experiment description.' })),
    generatedAt: Type.String({ description: 'When the analysis was made (ISO 8601).' }),
    version: Type.String({ description: 'Version of @e3/analyze.' }),
    complete: Type.Boolean({ description: 'False when a stage is missing, degraded, failed or aborted, a file could not be read or cannot be trusted (fewer rows than its summary.json, a sha256 other than gather.json\'s).' }),
    samples: Type.Integer({ description: 'Sample rows read in total.' }),
    threads: Type.Array(ThreadSummary, { description: 'Threads in run-file order.' }),
    rows: Type.Array(SummaryRow, { description: 'Every aggregate, one per thread × stage × test × op × kind.' }),
    errors: Type.Array(ErrorGroup, { description: 'Failed samples grouped by error, most frequent first (at most 200).' }),
    verdict: Type.Object(
      {
        passed: Type.Boolean({ description: 'No threshold failed (true when there are none).' }),
        thresholds: Type.Integer({ description: 'Thresholds found in the run file.' }),
        checks: Type.Array(Check, { description: 'Every threshold × matching aggregate.' }),
        failed: Type.Array(Type.String(), { description: 'The failed checks, one line each.' }),
      },
      { description: 'Thresholds verdict: exit code 5 when passed is false.' },
    ),
    charts: Type.Array(Type.String(), { description: 'PNG files written to analysis/.' }),
    warnings: Type.Array(Type.String(), { description: 'What was skipped or could not be read, for people.' }),
    metrics: Type.Optional(
      Type.Object(
        {
          nodes: Type.Array(MetricsNode, { description: 'Nodes with system metrics, thread and node order.' }),
          missing: Type.Array(MissingMetrics, { description: 'Nodes of the run without system metrics, and why.' }),
        },
        { description: 'System metrics (collectd CSV/RRD, or the agent sampler in the same layout) per node.' },
      ),
    ),
    generatorBound: Type.Optional(
      Type.Array(GeneratorBound, { description: 'Stages during which a worker ran above 85 % CPU or had event-loop delay above 100 ms: its measurements may reflect the load generator, not the server.' }),
    ),
  },
  { additionalProperties: true, description: 'runs/<run>/analysis/summary.json, written by the analyze phase.' },
);
export type AnalysisSummary = Static<typeof AnalysisSummary>;
