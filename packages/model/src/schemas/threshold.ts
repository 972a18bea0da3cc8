import { Type, type Static } from '@sinclair/typebox';

/** One pass/fail rule on the analysed numbers (k6 style). */
export const Threshold = Type.Object(
  {
    test: Type.Optional(Type.String({ description: 'Workload job description (test) it applies to; all tests when absent.' })),
    op: Type.Optional(Type.String({ description: 'Operation it applies to (e.g. "git clone"); the whole test (transactions) when absent.' })),
    stage: Type.Optional(Type.Integer({ minimum: 0, description: 'Stage index (0-based) it applies to; every stage when absent.' })),
    thread: Type.Optional(Type.String({ description: 'Thread name it applies to; every thread when absent.' })),
    p95: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Largest allowed 95th percentile, ms.' })),
    p99: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Largest allowed 99th percentile, ms.' })),
    mean: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Largest allowed mean, ms.' })),
    errorRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Largest allowed fraction of failed samples (0–1).' })),
    cutRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Largest allowed fraction of cut samples, cut / (count + cut) (0–1).' })),
    droppedRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Open model: largest allowed fraction of dropped arrivals, dropped / scheduled, of the stage (0–1); closed-model stages are not checked.' })),
    minTps: Type.Optional(Type.Number({ minimum: 0, description: 'Smallest allowed throughput, samples per second.' })),
  },
  { description: 'A threshold: limits on latency, errors, cut work, dropped arrivals or throughput; a violation fails the verdict (exit 5).' },
);
export type Threshold = Static<typeof Threshold>;
