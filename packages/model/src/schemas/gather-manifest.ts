import { Type, type Static } from '@sinclair/typebox';

export const GatheredFile = Type.Object(
  {
    size: Type.Integer({ minimum: 0, description: 'Size in bytes.' }),
    mtimeMs: Type.Number({ description: 'Modification time on the node (epoch ms).' }),
    sha256: Type.String({ description: 'SHA-256 of the content, hex.' }),
  },
  { description: 'A file as last copied.' },
);

export const GatheredNode = Type.Object(
  {
    thread: Type.Integer({ minimum: 0, description: 'Thread index, 0-based.' }),
    role: Type.Union([Type.Literal('worker'), Type.Literal('cluster'), Type.Literal('file-server')], { description: 'What the node is to the thread.' }),
    index: Type.Integer({ minimum: 0, description: 'Position among the nodes of that role, 0-based.' }),
    node: Type.String({ description: 'The node (localhost or user@host).' }),
    dir: Type.String({ description: 'Its folder in the run dir, relative (thread-001/worker-node-001).' }),
    lastSync: Type.Optional(Type.String({ description: 'When it was last gathered completely (ISO 8601).' })),
    files: Type.Record(Type.String(), GatheredFile, { description: 'Files gathered, by path relative to the run dir.' }),
    error: Type.Optional(
      Type.Object(
        { code: Type.String({ description: 'E3 error code.' }), message: Type.String({ description: 'What went wrong.' }) },
        { description: 'Why the last gather of this node failed.' },
      ),
    ),
  },
  { description: 'What gather holds of one node.' },
);

export const GatherManifest = Type.Object(
  {
    formatVersion: Type.Integer({ minimum: 1, description: 'Run-directory format version.' }),
    nodes: Type.Array(GatheredNode, { description: 'Every node of every thread.' }),
  },
  { additionalProperties: true, description: 'runs/<run>/gather.json: what gather copied, so the next gather moves only what changed.' },
);
export type GatherManifest = Static<typeof GatherManifest>;
export type GatheredNode = Static<typeof GatheredNode>;
