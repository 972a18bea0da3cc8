import { Type, type Static } from '@sinclair/typebox';

import { SchemaRef } from './common.js';

export const KeyPool = Type.Object(
  {
    $schema: SchemaRef,
    name: Type.String({ description: 'Pool name.' }),
    count: Type.Integer({ minimum: 0, description: 'Number of key pairs.' }),
    key_pairs: Type.Array(
      Type.Object(
        {
          public_key: Type.String({ pattern: '^(ssh-rsa|ssh-ed25519|ecdsa-sha2-[a-z0-9-]+) ', description: 'OpenSSH public key line.' }),
          private_key: Type.String({ pattern: '-----BEGIN [A-Z ]*PRIVATE KEY-----', description: 'PEM or OpenSSH private key.' }),
        },
        { additionalProperties: true, description: 'One key pair.' },
      ),
      { description: 'The key pairs.' },
    ),
  },
  { additionalProperties: true, description: 'An SSH key pool (E³ format): e3-home/keys/<name>.json.' },
);
export type KeyPool = Static<typeof KeyPool>;
