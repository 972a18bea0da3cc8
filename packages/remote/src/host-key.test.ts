import { describe, expect, test } from '@jest/globals';

import { fingerprint, formatHostKey, keyTypeOfBlob, parseHostKey } from './host-key.js';

// An ed25519 public key and its `ssh-keygen -lf` fingerprint.
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
const FP = 'SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU';

describe('host keys', () => {
  test('parses "type base64" and reads the type from the blob', () => {
    const { type, blob } = parseHostKey(`${KEY} comment@host`);
    expect(type).toBe('ssh-ed25519');
    expect(keyTypeOfBlob(blob)).toBe('ssh-ed25519');
    expect(formatHostKey(blob)).toBe(KEY);
  });

  test('fingerprints like OpenSSH: SHA256 and unpadded base64', () => {
    expect(fingerprint(KEY)).toBe(FP);
    expect(fingerprint(parseHostKey(KEY).blob)).toBe(FP);
  });

  test('rejects a key whose type does not match its data', () => {
    expect(() => parseHostKey(KEY.replace('ssh-ed25519', 'ssh-rsa'))).toThrow(/does not match/);
  });

  test('rejects text that is not a key', () => {
    expect(() => parseHostKey('nonsense')).toThrow(/not an SSH public key/);
    expect(() => keyTypeOfBlob(Buffer.from([0, 0, 1, 0, 1]))).toThrow(/bad SSH key blob/);
  });
});
