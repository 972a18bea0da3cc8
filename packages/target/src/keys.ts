import ssh2 from 'ssh2';

const { utils } = ssh2;

/** A parsed OpenSSH public key: its algorithm and base64 wire data (the identity used for lookups). */
export interface PublicKey {
  algo: string;
  data: string;
}

/** Parses `ssh-rsa AAAA… [comment]`; anything else → undefined. */
export function parsePublicKey(text: string): PublicKey | undefined {
  if (!text || text.length > 16384 || !/^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( [^\n]*)?$/.test(text.trim())) return undefined;
  try {
    const parsed = utils.parseKey(text.trim());
    if (parsed instanceof Error) return undefined;
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (!key) return undefined;
    return { algo: key.type, data: key.getPublicSSH().toString('base64') };
  } catch {
    return undefined;
  }
}
