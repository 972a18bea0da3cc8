import { describe, expect, it } from '@jest/globals';

import { readSecret } from './secret.js';

describe('readSecret', () => {
  it('reads the variable named by the flag', async () => {
    await expect(readSecret({ varName: 'PW', flag: '--password-env', what: 'password', env: { PW: 's3cret' } })).resolves.toBe('s3cret');
  });
  it('refuses an unset or empty variable with a usage error naming it', async () => {
    await expect(readSecret({ varName: 'PW', flag: '--password-env', what: 'password', env: { PW: '' } })).rejects.toMatchObject({
      code: 'E3_USAGE',
      message: '--password-env PW: the environment variable PW is not set or empty',
    });
  });
  it('returns nothing for an optional secret that was not asked for', async () => {
    await expect(readSecret({ flag: '--user-password-env', what: 'user password', env: {}, optional: true })).resolves.toBeUndefined();
  });
});

describe('readSecret without a terminal', () => {
  it('asks for the flag instead of prompting', async () => {
    if (process.stdin.isTTY) return;
    await expect(readSecret({ flag: '--password-env', what: 'password of admin', env: {} })).rejects.toMatchObject({
      code: 'E3_USAGE',
      message: 'no password of admin given',
      hint: 'Pass --password-env <VAR> naming an environment variable that holds it',
    });
  });
});
