import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from '@jest/globals';

import { parsePublicKey } from './keys.js';

const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDhEYuwUwzvs3k1YOGuQW0nJ0bS5zt5lJd2YHg8T0c2C';

describe('parsePublicKey', () => {
  it('returns the algorithm and wire data of an OpenSSH public key, ignoring the comment', () => {
    const a = parsePublicKey(ED25519);
    expect(a).toEqual({ algo: 'ssh-ed25519', data: ED25519.split(' ')[1] });
    expect(parsePublicKey(`${ED25519} someone@host`)).toEqual(a);
  });

  it('refuses garbage, private keys and truncated keys', () => {
    for (const text of ['', 'ssh-rsa', 'ssh-rsa AAAA', 'hello world', '-----BEGIN RSA PRIVATE KEY-----', `${ED25519.slice(0, 40)}`, 'x'.repeat(20000)]) {
      expect(parsePublicKey(text)).toBeUndefined();
    }
  });

  it('reads every key of an E³ key pool', () => {
    let dir = fileURLToPath(new URL('.', import.meta.url));
    while (!existsSync(join(dir, 'shared/fixtures/e3-original-home')) && dir !== dirname(dir)) dir = dirname(dir);
    const pool = JSON.parse(readFileSync(join(dir, 'shared/fixtures/e3-original-home/keys/100-keys.json'), 'utf8')) as { key_pairs: { public_key: string }[] };
    expect(pool.key_pairs.every((p) => parsePublicKey(p.public_key)?.algo === 'ssh-rsa')).toBe(true);
  });
});
