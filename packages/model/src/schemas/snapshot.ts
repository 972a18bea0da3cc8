import { Type, type Static } from '@sinclair/typebox';

import { SchemaRef } from './common.js';

export const Branch = Type.Object(
  {
    id: Type.String({ description: 'Full ref name, refs/heads/….' }),
    displayId: Type.String({ description: 'Short branch name.' }),
    type: Type.Optional(Type.String({ description: 'BRANCH.' })),
    isDefault: Type.Optional(Type.Boolean({ description: 'Whether it is the default branch.' })),
    latestCommit: Type.Optional(Type.String({ description: 'Commit id at the tip.' })),
    latestChangeset: Type.Optional(Type.String({ description: 'Same as latestCommit (older Bitbucket field).' })),
  },
  { additionalProperties: true, description: 'A Bitbucket branch object as the REST API returns it.' },
);

export const SnapshotRepo = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'Repository slug.' }),
    weight: Type.Number({ minimum: 0, description: 'Relative chance of being picked (normalised by the sum).' }),
    branches: Type.Array(Branch, { description: 'Branches, as Bitbucket branch objects.' }),
  },
  { additionalProperties: true, description: 'A repository of the dataset.' },
);

export const SnapshotUser = Type.Object(
  {
    username: Type.String({ minLength: 1, description: 'User name.' }),
    password: Type.Optional(Type.String({ description: 'Password: the user can act over HTTP.' })),
    public_key: Type.Optional(Type.String({ description: 'OpenSSH public key line.' })),
    private_key: Type.Optional(Type.String({ description: 'PEM or OpenSSH private key: the user can act over SSH.' })),
  },
  { additionalProperties: true, description: 'An identity the scripts may act as.' },
);

export const Snapshot = Type.Object(
  {
    $schema: SchemaRef,
    name: Type.String({ description: 'Snapshot name.' }),
    description: Type.Optional(Type.String({ description: 'What the dataset is.' })),
    projects: Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1, description: 'The project KEY (E³ stored the key here).' }),
          repos: Type.Array(SnapshotRepo, { description: 'Repositories of the project.' }),
        },
        { additionalProperties: true, description: 'A project of the dataset.' },
      ),
      { description: 'Projects and their repositories.' },
    ),
    users: Type.Array(SnapshotUser, { description: 'Users the scripts act as.' }),
    ebs: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'AWS: home-volume EBS snapshot id per region.' })),
    rds: Type.Optional(
      Type.Object(
        {
          account: Type.String({ description: 'AWS account owning the RDS snapshot.' }),
          id: Type.String({ description: 'RDS snapshot id.' }),
        },
        { additionalProperties: true, description: 'AWS: the database snapshot.' },
      ),
    ),
    es: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'AWS: Elasticsearch snapshot {snapshot, bucket}.' })),
  },
  { additionalProperties: true, description: 'A dataset descriptor (E³ format): e3-home/snapshots/<name>.json.' },
);
export type Snapshot = Static<typeof Snapshot>;
export type SnapshotUser = Static<typeof SnapshotUser>;
