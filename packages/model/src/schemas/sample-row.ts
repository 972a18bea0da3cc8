import { Type, type Static } from '@sinclair/typebox';

/**
 * One row of samples.csv: the one definition of its columns (their order is the file's), of the parsed row
 * type `SampleRow` and of the JSON Schema in schemas/sample-row.schema.json. Times are epoch milliseconds
 * (fractional), durations milliseconds.
 */
export const SampleRowSchema = Type.Object(
  {
    start: Type.Number({ description: 'When the operation started (epoch ms, fractional).' }),
    duration: Type.Number({ minimum: 0, description: 'How long it took, ms; open model: measured from `intended` when that is set.' }),
    test: Type.String({ description: "The workload job's description." }),
    op: Type.String({ description: 'The operation (git clone, GET /rest/api/1.0/projects, …) or the script name for a transaction.' }),
    kind: Type.Union([Type.Literal('request'), Type.Literal('transaction')], { description: 'request: one HTTP call or git invocation; transaction: one whole script pass.' }),
    client: Type.Integer({ minimum: 0, description: 'The global client number (0-based across all workers).' }),
    iteration: Type.Integer({ minimum: 0, description: "The client's iteration of its job (0-based)." }),
    ok: Type.Boolean({ description: '1/0 in the file.' }),
    status: Type.Integer({ description: 'HTTP status or git exit code; 0 when there is none.' }),
    bytes: Type.Integer({ minimum: 0, description: 'Bytes received (HTTP body or git output).' }),
    ttfb: Type.Optional(Type.Number({ description: 'Time to first byte, ms; blank when there is none.' })),
    intended: Type.Optional(Type.Number({ description: 'Open model: when the arrival was due (epoch ms); blank in the closed model.' })),
    error: Type.Optional(Type.String({ description: 'Error class and short message (http 404, git 128: fatal: …, timeout, cut); blank when ok.' })),
  },
  { description: 'One row of thread-NNN/worker-node-NNN/stage-NNN/samples.csv.' },
);

/** One parsed line of samples.csv. */
export type SampleRow = Static<typeof SampleRowSchema>;

/** The columns of samples.csv, in file order. */
export const SAMPLE_COLUMNS = Object.keys(SampleRowSchema.properties) as readonly (keyof SampleRow)[];
