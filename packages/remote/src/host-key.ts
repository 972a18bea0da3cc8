import { createHash } from 'node:crypto';

/** Reads the key type (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, …) from an SSH public key blob. */
export function keyTypeOfBlob(blob: Buffer): string {
  if (blob.length < 4) throw new Error('short SSH key blob');
  const len = blob.readUInt32BE(0);
  if (len > blob.length - 4 || len > 64) throw new Error('bad SSH key blob');
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** The `"type base64"` form stored in an instance file's `HostKeys`, from a key blob. */
export function formatHostKey(blob: Buffer): string {
  return `${keyTypeOfBlob(blob)} ${blob.toString('base64')}`;
}

/** Parses `"type base64"` (an extra comment word is allowed, as in a `.pub` file) into its type and blob. */
export function parseHostKey(text: string): { type: string; blob: Buffer } {
  const [type, b64] = text.trim().split(/\s+/);
  if (!type || !b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new Error(`not an SSH public key "type base64": ${text.slice(0, 40)}`);
  const blob = Buffer.from(b64, 'base64');
  if (keyTypeOfBlob(blob) !== type) throw new Error(`SSH public key type ${type} does not match its data`);
  return { type, blob };
}

/** OpenSSH's fingerprint of a key: `SHA256:` + unpadded base64 of the SHA-256 of the blob. */
export function fingerprint(key: Buffer | string): string {
  const blob = typeof key === 'string' ? parseHostKey(key).blob : key;
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}
