import { Type, type Static } from '@sinclair/typebox';

export const LedgerEntry = Type.Object(
  {
    ts: Type.String({ description: 'ISO 8601 time of the entry.' }),
    id: Type.String({ description: 'Id shared by an intent and its result.' }),
    stage: Type.Union([Type.Literal('intent'), Type.Literal('result')], { description: 'intent: written before the call; result: after it.' }),
    action: Type.Union([Type.Literal('create'), Type.Literal('delete')], { description: 'What the call does.' }),
    provider: Type.String({ description: 'aws, local or byo.' }),
    resource: Type.Object(
      {
        type: Type.String({ description: 'Resource type, e.g. stack, key-pair, target.' }),
        name: Type.String({ description: 'Resource name.' }),
        id: Type.Optional(Type.String({ description: 'Provider id once known.' })),
        region: Type.Optional(Type.String({ description: 'AWS region.' })),
        template: Type.Optional(Type.String({ description: 'Template a stack was made from (e.g. PublicNetwork): deprovision deletes networks last.' })),
        file: Type.Optional(Type.String({ description: 'Local file the resource left behind (instance file, pem), relative to e3-home.' })),
      },
      { additionalProperties: true, description: 'The resource.' },
    ),
    ok: Type.Optional(Type.Boolean({ description: 'Result entries: whether the call succeeded.' })),
    error: Type.Optional(Type.String({ description: 'Result entries: the error message.' })),
    run: Type.Optional(Type.String({ description: 'The run the resource belongs to.' })),
  },
  { additionalProperties: true, description: 'One line of runs/<run>/ledger.ndjson.' },
);
export type LedgerEntry = Static<typeof LedgerEntry>;
