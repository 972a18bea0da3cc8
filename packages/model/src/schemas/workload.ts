import { Type, type Static } from '@sinclair/typebox';

import { SchemaRef, ThinkTime } from './common.js';

export const Job = Type.Object(
  {
    script: Type.String({ minLength: 1, description: 'Library script by dotted name (bitbucket.scm.GitCloneOverSsh) or a .ts/.js file path.' }),
    testDataProvider: Type.Optional(Type.String({ description: 'E³ data provider module; e3 has one built in and ignores it.' })),
    description: Type.String({ minLength: 1, description: 'The test name samples are recorded under.' }),
    scale: Type.Optional(Type.Number({ exclusiveMinimum: 0, default: 1, description: 'Analysis multiplier for this job\'s throughput (E³).' })),
    weight: Type.Number({ minimum: 0, maximum: 1, description: 'Fraction of the clients that run this job; weights sum to 1.' }),
    options: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Script options (e.g. {"userPerIteration": true}).' })),
    thinkTime: Type.Optional(ThinkTime),
  },
  { additionalProperties: true, description: 'A workload job: a script and the share of clients that run it.' },
);
export type Job = Static<typeof Job>;

export const WorkloadJobs = Type.Array(Job, { minItems: 1, description: 'An E³ workload: a list of jobs.' });

export const WorkloadObject = Type.Object(
  {
    $schema: SchemaRef,
    description: Type.Optional(Type.String({ description: 'What the mix represents.' })),
    jobs: WorkloadJobs,
  },
  { additionalProperties: true, description: 'An e3 workload: the jobs plus a description (and "$schema").' },
);

/** A workload file: E³'s list of jobs, or e3's object form `{"$schema", "description", "jobs"}`. */
export const WorkloadFile = Type.Union([WorkloadJobs, WorkloadObject], {
  description: 'A workload: e3-home/workloads/<name>.json, a list of jobs or {"jobs": [...]}.',
});
export type WorkloadFile = Static<typeof WorkloadFile>;

/** The jobs of a workload, whichever form its file has. */
export type Workload = Static<typeof WorkloadJobs>;

/** The jobs of a workload file in either form. */
export function workloadJobs(file: WorkloadFile): Workload {
  return Array.isArray(file) ? file : file.jobs;
}
