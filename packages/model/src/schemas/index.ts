import type { TSchema } from '@sinclair/typebox';

import { AnalysisSummary } from './analysis-summary.js';
import { Experiment } from './experiment.js';
import { GatherManifest } from './gather-manifest.js';
import { Instance } from './instance.js';
import { KeyPool } from './keys.js';
import { LedgerEntry } from './ledger.js';
import { PhaseStatus } from './phase-status.js';
import { RunFile } from './run-file.js';
import { SampleRowSchema } from './sample-row.js';
import { Snapshot } from './snapshot.js';
import { StageSummarySchema } from './stage-summary.js';
import { StagesFile } from './stages.js';
import { WorkloadFile } from './workload.js';

/** Every kind of file e3 reads, with its schema and the name of its generated JSON Schema in schemas/. */
export const FILE_KINDS = {
  experiment: { schema: Experiment, schemaFile: 'experiment.schema.json' },
  workload: { schema: WorkloadFile, schemaFile: 'workload.schema.json' },
  instance: { schema: Instance, schemaFile: 'instance.schema.json' },
  snapshot: { schema: Snapshot, schemaFile: 'snapshot.schema.json' },
  keys: { schema: KeyPool, schemaFile: 'keys.schema.json' },
  run: { schema: RunFile, schemaFile: 'run.schema.json' },
  phase: { schema: PhaseStatus, schemaFile: 'phase-status.schema.json' },
  stages: { schema: StagesFile, schemaFile: 'stages.schema.json' },
  ledger: { schema: LedgerEntry, schemaFile: 'ledger-entry.schema.json' },
  sample: { schema: SampleRowSchema, schemaFile: 'sample-row.schema.json' },
  gather: { schema: GatherManifest, schemaFile: 'gather-manifest.schema.json' },
  'stage-summary': { schema: StageSummarySchema, schemaFile: 'stage-summary.schema.json' },
  'analysis-summary': { schema: AnalysisSummary, schemaFile: 'analysis-summary.schema.json' },
} as const satisfies Record<string, { schema: TSchema; schemaFile: string }>;

export type FileKind = keyof typeof FILE_KINDS;

/** The e3-home folder of each kind that lives there. */
export const HOME_DIRS = {
  experiment: 'experiments',
  workload: 'workloads',
  instance: 'instances',
  snapshot: 'snapshots',
  keys: 'keys',
  run: 'runs',
} as const satisfies Partial<Record<FileKind, string>>;

export type HomeKind = keyof typeof HOME_DIRS;

/** The JSON Schema documents as written to schemas/ (TypeBox symbols dropped, $id set). */
export function jsonSchemas(): Record<string, object> {
  const out: Record<string, object> = {};
  for (const { schema, schemaFile } of Object.values(FILE_KINDS)) {
    out[schemaFile] = { $schema: 'http://json-schema.org/draft-07/schema#', $id: schemaFile, ...JSON.parse(JSON.stringify(schema)) };
  }
  return out;
}
