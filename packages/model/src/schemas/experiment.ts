import { Type, type Static } from '@sinclair/typebox';

import { Duration, SchemaRef, ThinkTime } from './common.js';
import { Threshold } from './threshold.js';

const Parameters = Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
  description: 'Raw template (CloudFormation) parameter overrides, e.g. {"ClusterNodeMin": "2"}.',
});

/** `"stack": {"Name": …}`: bring-your-own machines, named by their instance file (E³ form). */
export const StackRef = Type.Object(
  {
    Name: Type.String({ minLength: 1, description: 'Name of the instance file in e3-home/instances (without .json).' }),
  },
  { additionalProperties: true, description: 'An existing stack: the instance file named by Name, plus what provisioning recorded.' },
);

/** Upper bounds of a stage's load: beyond them a run would exhaust the workers' memory, not measure the system. */
export const MAX_CLIENTS = 100_000;
export const MAX_RATE = 1_000_000;

export const InstanceSpec = Type.Object(
  {
    name: Type.Optional(Type.String({ description: 'Informational name of the system under test.' })),
    template: Type.Optional(Type.String({ description: 'How to provision it: "local" (the embedded @e3/target), "BitbucketServer", "BitbucketDataCenter" (AWS).' })),
    version: Type.Optional(Type.String({ description: 'Bitbucket version to provision (AWS templates).' })),
    snapshot: Type.Optional(Type.String({ description: 'Dataset descriptor in e3-home/snapshots (without .json).' })),
    properties: Type.Optional(Type.Array(Type.String({ pattern: '^[^=]+=.*$' }), { description: 'bitbucket.properties lines, "key=value".' })),
    parameters: Type.Optional(Parameters),
    settings: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
        description: 'Provider settings, e.g. {"maxGitOps": 8} for the local target.',
      }),
    ),
    stack: Type.Optional(StackRef),
  },
  { additionalProperties: true, description: 'The system under test: a template to provision, or an existing stack.' },
);

export const WorkerSpec = Type.Object(
  {
    name: Type.Optional(Type.String({ description: 'Informational name of the worker cluster.' })),
    template: Type.Optional(Type.String({ description: 'How to provision it: "local" (this machine) or "WorkerCluster" (AWS).' })),
    parameters: Type.Optional(Parameters),
    stack: Type.Optional(StackRef),
  },
  { additionalProperties: true, description: 'The load generators: a template to provision, or an existing stack.' },
);

export const Stage = Type.Object(
  {
    clients: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_CLIENTS, description: `Closed model: concurrent virtual clients, split over the workers (at most ${MAX_CLIENTS}).` }),
    ),
    rate: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: MAX_RATE, description: `Open model: arrivals per second over all workers (at most ${MAX_RATE}).` })),
    duration: Type.Optional(Duration),
    workload: Type.Optional(Type.String({ description: 'Workload for this stage; the experiment workload when absent.' })),
    thinkTime: Type.Optional(ThinkTime),
  },
  { additionalProperties: true, description: 'One stage: a level of load held for a duration.' },
);
export type Stage = Static<typeof Stage>;

export const Thread = Type.Object(
  {
    name: Type.Optional(
      Type.String({ description: 'Thread name, used in charts and reports; when absent (E³ files), the instance name or stack Name, else thread-NNN.' }),
    ),
    instance: InstanceSpec,
    worker: WorkerSpec,
    stages: Type.Array(Stage, { minItems: 1, description: 'Stages, run one after another.' }),
    thresholds: Type.Optional(Type.Array(Threshold, { description: 'Thresholds for this thread only.' })),
    thinkTime: Type.Optional(ThinkTime),
  },
  { additionalProperties: true, description: 'An experiment thread: one system under test and its workers; threads run in parallel.' },
);
export type Thread = Static<typeof Thread>;

/** A thread's name: its own `name`, else (E³ files) its instance's name or stack Name, else `thread-NNN` (1-based). */
export function threadName(thread: Pick<Thread, 'name' | 'instance'>, index: number): string {
  return thread.name ?? thread.instance.name ?? thread.instance.stack?.Name ?? `thread-${String(index + 1).padStart(3, '0')}`;
}

export const Experiment = Type.Object(
  {
    $schema: SchemaRef,
    description: Type.Optional(Type.String({ description: 'What the experiment asks.' })),
    duration: Type.Optional(Duration),
    workload: Type.Optional(Type.String({ description: 'Default workload (e3-home/workloads, without .json) for every stage.' })),
    assignment: Type.Optional(
      Type.Union([Type.Literal('weighted'), Type.Literal('bands')], {
        description: 'How clients get jobs: "weighted" (largest remainder, default) or "bands" (E³).',
      }),
    ),
    thinkTime: Type.Optional(ThinkTime),
    barrier: Type.Optional(Type.Boolean({ description: 'Start each stage of all threads together.', default: false })),
    thresholds: Type.Optional(Type.Array(Threshold, { description: 'Pass/fail rules for every thread.' })),
    allowCidrs: Type.Optional(
      Type.Array(Type.String({ pattern: '^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$' }), {
        maxItems: 3,
        description: 'IPv4 CIDRs allowed to reach provisioned cloud machines (SSH, HTTP, git) besides the controller\'s own address; "0.0.0.0/0" opens them to the world.',
      }),
    ),
    threads: Type.Array(Thread, { minItems: 1, description: 'Threads, run in parallel.' }),
  },
  { additionalProperties: true, description: 'An e3 (and E³) experiment: e3-home/experiments/<name>.json.' },
);
export type Experiment = Static<typeof Experiment>;
