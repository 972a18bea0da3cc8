import { createPrivateKey, createPublicKey } from 'node:crypto';

import { sshMpint as mpint, sshString } from '../keys/ssh-wire.js';

const b64url = (s: string): Buffer => Buffer.from(s, 'base64url');

const PEM = /-----BEGIN ([A-Z ]*PRIVATE KEY)-----([\s\S]*?)-----END \1-----/;

/** The public key blob inside an unencrypted or encrypted `openssh-key-v1` file (stored in clear). */
function opensshPublicBlob(body: Buffer): Buffer {
  const magic = 'openssh-key-v1\0';
  if (body.subarray(0, magic.length).toString('latin1') !== magic) throw new Error('not an openssh-key-v1 key');
  let at = magic.length;
  const next = (): Buffer => {
    if (at + 4 > body.length) throw new Error('truncated');
    const n = body.readUInt32BE(at);
    if (at + 4 + n > body.length) throw new Error('truncated');
    const out = body.subarray(at + 4, at + 4 + n);
    at += 4 + n;
    return out;
  };
  next(); // cipher
  next(); // kdf
  next(); // kdf options
  if (at + 4 > body.length || body.readUInt32BE(at) < 1) throw new Error('no keys');
  at += 4;
  const blob = next();
  next(); // the private section must be there too
  return blob;
}

/** The SSH public key blob of a PEM (PKCS#1, PKCS#8, SEC1) private key. */
function pemPublicBlob(pem: string): Buffer {
  const jwk = createPublicKey(createPrivateKey(pem)).export({ format: 'jwk' });
  if (jwk.kty === 'RSA') return Buffer.concat([sshString('ssh-rsa'), mpint(b64url(jwk.e!)), mpint(b64url(jwk.n!))]);
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return Buffer.concat([sshString('ssh-ed25519'), sshString(b64url(jwk.x!))]);
  if (jwk.kty === 'EC') {
    const curve = { 'P-256': 'nistp256', 'P-384': 'nistp384', 'P-521': 'nistp521' }[jwk.crv as string];
    if (!curve) throw new Error(`curve ${jwk.crv}`);
    const point = Buffer.concat([Buffer.from([4]), b64url(jwk.x!), b64url(jwk.y!)]);
    return Buffer.concat([sshString(`ecdsa-sha2-${curve}`), sshString(curve), sshString(point)]);
  }
  throw new Error(`key type ${jwk.kty}`);
}

/**
 * Checks a private key parses and, when `publicKey` (an OpenSSH line) is given, that it is that key's
 * private half. Returns a problem that never quotes the key, or undefined when the pair is sound.
 */
export function keyPairProblem(privateKey: string, publicKey?: string): string | undefined {
  const m = PEM.exec(privateKey);
  if (!m) return `private key (${privateKey.length} characters) has no complete -----BEGIN/END … PRIVATE KEY----- block`;
  let blob: Buffer;
  try {
    blob = m[1] === 'OPENSSH PRIVATE KEY' ? opensshPublicBlob(Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64')) : pemPublicBlob(m[0]);
  } catch {
    return `private key (${m[1]}, ${privateKey.length} characters) does not parse: truncated or not a key`;
  }
  if (publicKey === undefined) return undefined;
  const given = /^\s*\S+\s+([A-Za-z0-9+/]+={0,3})/.exec(publicKey)?.[1];
  if (!given || !Buffer.from(given, 'base64').equals(blob)) return 'public_key is not the public half of private_key';
  return undefined;
}
