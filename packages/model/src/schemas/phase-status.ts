import { Type, type Static } from '@sinclair/typebox';

export const PhaseStatus = Type.Object(
  {
    formatVersion: Type.Integer({ minimum: 1, description: 'Run-directory format version.' }),
    phase: Type.Union([Type.Literal('provision'), Type.Literal('run'), Type.Literal('gather'), Type.Literal('analyze'), Type.Literal('deprovision')], {
      description: 'The phase.',
    }),
    status: Type.Union([Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('aborted'), Type.Literal('partial')], {
      description: 'running while it works; then succeeded, failed, aborted (interrupted) or partial (gather: some nodes missing).',
    }),
    startedAt: Type.String({ description: 'ISO 8601 start time.' }),
    finishedAt: Type.Optional(Type.String({ description: 'ISO 8601 end time; absent while running.' })),
    version: Type.String({ description: 'Version of the e3 package that wrote it.' }),
    pid: Type.Optional(Type.Integer({ description: 'Process id while running.' })),
    error: Type.Optional(
      Type.Object(
        {
          code: Type.String({ description: 'E3 error code.' }),
          message: Type.String({ description: 'What went wrong.' }),
          hint: Type.Optional(Type.String({ description: 'What to do next.' })),
        },
        { description: 'Why the phase did not succeed.' },
      ),
    ),
  },
  { additionalProperties: true, description: 'A phase status file: runs/<run>/phases/<phase>.json, written last by its phase.' },
);
export type PhaseStatus = Static<typeof PhaseStatus>;
