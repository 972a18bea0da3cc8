/** SSH wire encoding (RFC 4251 §5): what key files and authorized_keys lines are made of. */

/** A big-endian uint32. */
export const sshUint32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/** An SSH string: its length, then its bytes. */
export const sshString = (data: Buffer | string): Buffer => {
  const b = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([sshUint32(b.length), b]);
};

/** SSH mpint of an unsigned big-endian integer. */
export const sshMpint = (raw: Buffer): Buffer => {
  let i = 0;
  while (i < raw.length - 1 && raw[i] === 0) i++;
  const v = raw.subarray(i);
  return sshString(v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
};
