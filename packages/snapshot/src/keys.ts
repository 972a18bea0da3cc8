import { generateKeyPairSync, randomBytes } from 'node:crypto';

import { sshMpint as mpint, sshString, sshUint32 as u32 } from '@e3/model';

export type KeyType = 'ed25519' | 'rsa';

export interface KeyPair {
  /** OpenSSH public key line without a comment: `ssh-ed25519 AAAA…`. */
  public_key: string;
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` (ed25519) or `-----BEGIN RSA PRIVATE KEY-----` (rsa, PKCS#1 PEM as E³). */
  private_key: string;
}

const b64url = (s: string): Buffer => Buffer.from(s, 'base64url');

function wrap(b64: string, width: number): string {
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += width) lines.push(b64.slice(i, i + width));
  return lines.join('\n');
}

/** The `openssh-key-v1` private key file of an Ed25519 key, unencrypted (what `ssh-keygen -t ed25519 -N ''` writes). */
function opensshEd25519(seed: Buffer, pub: Buffer): string {
  const pubBlob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  const check = randomBytes(4);
  let priv = Buffer.concat([check, check, sshString('ssh-ed25519'), sshString(pub), sshString(Buffer.concat([seed, pub])), sshString('')]);
  const pad: number[] = [];
  for (let i = 1; (priv.length + pad.length) % 8 !== 0; i++) pad.push(i);
  priv = Buffer.concat([priv, Buffer.from(pad)]);
  const body = Buffer.concat([Buffer.from('openssh-key-v1\0'), sshString('none'), sshString('none'), sshString(''), u32(1), sshString(pubBlob), sshString(priv)]);
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${wrap(body.toString('base64'), 70)}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

/** One new key pair in E³'s keys format. RSA keys are 2048 bits, as E³'s. */
export function generateKeyPair(type: KeyType = 'ed25519'): KeyPair {
  if (type === 'rsa') {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = publicKey.export({ format: 'jwk' });
    const blob = Buffer.concat([sshString('ssh-rsa'), mpint(b64url(jwk.e!)), mpint(b64url(jwk.n!))]);
    return { public_key: `ssh-rsa ${blob.toString('base64')}`, private_key: privateKey.export({ format: 'pem', type: 'pkcs1' }) as string };
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const pub = b64url(jwk.x!);
  const blob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  return { public_key: `ssh-ed25519 ${blob.toString('base64')}`, private_key: opensshEd25519(b64url(jwk.d!), pub) };
}

/** The identity of an OpenSSH public key line: `<type> <base64>` without the comment; undefined when not a key line. */
export function publicKeyId(text: string): string | undefined {
  const m = /^\s*([a-z0-9@.-]+)\s+(AAAA[A-Za-z0-9+/]*={0,3})(?:\s|$)/.exec(text);
  return m ? `${m[1]} ${m[2]}` : undefined;
}
