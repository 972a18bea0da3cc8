import { spawnSync } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { makeTmpDir } from '@e3/test-utils';
import { describe, expect, it } from '@jest/globals';

import { generateKeyPair, publicKeyId } from './keys.js';

const hasSshKeygen = spawnSync('ssh-keygen', ['-?']).error === undefined;

/** The public key OpenSSH derives from a private key file. */
async function derivePublic(privateKey: string): Promise<string> {
  const dir = await makeTmpDir('e3-keys-');
  const file = join(dir, 'id');
  await writeFile(file, privateKey, { mode: 0o600 });
  await chmod(file, 0o600);
  const r = spawnSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return r.stdout.trim();
}

describe('generateKeyPair', () => {
  it('writes an Ed25519 pair in OpenSSH format whose public line OpenSSH derives from the private key', async () => {
    const pair = generateKeyPair('ed25519');
    expect(pair.public_key).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]+=*$/);
    expect(pair.private_key).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+\n-----END OPENSSH PRIVATE KEY-----\n$/);
    if (hasSshKeygen) expect(publicKeyId(await derivePublic(pair.private_key))).toBe(pair.public_key);
  });

  it('writes a 2048-bit RSA pair as PKCS#1 PEM, as E³ did', async () => {
    const pair = generateKeyPair('rsa');
    expect(pair.public_key).toMatch(/^ssh-rsa AAAAB3NzaC1yc2EAAAADAQAB[A-Za-z0-9+/]+=*$/);
    expect(pair.private_key).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    if (hasSshKeygen) expect(publicKeyId(await derivePublic(pair.private_key))).toBe(pair.public_key);
  });

  it('gives a new key each call', () => {
    expect(generateKeyPair().public_key).not.toBe(generateKeyPair().public_key);
  });
});

describe('publicKeyId', () => {
  it('keeps type and data and drops the comment', () => {
    expect(publicKeyId('ssh-rsa AAAAB3Nz== me@host')).toBe('ssh-rsa AAAAB3Nz==');
    expect(publicKeyId('  ssh-ed25519 AAAAC3\n')).toBe('ssh-ed25519 AAAAC3');
  });
  it('rejects what is not a key line', () => {
    expect(publicKeyId('')).toBeUndefined();
    expect(publicKeyId('not a key!')).toBeUndefined();
  });
});
