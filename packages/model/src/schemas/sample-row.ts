import { Type } from '@sinclair/typebox';

/** The columns of samples.csv, as a JSON Schema of one parsed row (documentation and tests). */
export const SampleRowSchema = Type.Object(
  {
    start: Type.Number({ description: 'When the operation started (epoch ms, fractional).' }),
    duration: Type.Number({ minimum: 0, description: 'Duration, ms; open model: from the intended start.' }),
    test: Type.String({ description: "The workload job's description." }),
    op: Type.String({ description: 'The operation: git clone, GET /rest/api/1.0/projects, … or the script for a transaction.' }),
    kind: Type.Union([Type.Literal('request'), Type.Literal('transaction')], { description: 'request: one call; transaction: a whole script pass.' }),
    client: Type.Integer({ minimum: 0, description: 'Global client number.' }),
    iteration: Type.Integer({ minimum: 0, description: "The client's iteration." }),
    ok: Type.Boolean({ description: '1/0 in the file.' }),
    status: Type.Integer({ description: 'HTTP status or git exit code; 0 when none.' }),
    bytes: Type.Integer({ minimum: 0, description: 'Bytes received.' }),
    ttfb: Type.Optional(Type.Number({ description: 'Time to first byte, ms; blank when none.' })),
    intended: Type.Optional(Type.Number({ description: 'Open model: when the arrival was due (epoch ms); blank otherwise.' })),
    error: Type.Optional(Type.String({ description: 'Error class and short message; blank when ok.' })),
  },
  { description: 'One row of thread-NNN/worker-node-NNN/stage-NNN/samples.csv.' },
);
