import { describe, expect, it } from '@jest/globals';

import { callerCwd } from './caller-cwd.js';

describe('callerCwd', () => {
  it('is INIT_CWD under the repository\'s `pnpm e3` script, the process directory otherwise', () => {
    const script = { npm_lifecycle_event: 'e3', npm_package_name: 'e3-monorepo', INIT_CWD: '/home/u/exp' };
    expect(callerCwd(script, '/repo')).toBe('/home/u/exp');
    expect(callerCwd({ ...script, npm_lifecycle_event: 'test:int' }, '/repo')).toBe('/repo');
    expect(callerCwd({ ...script, npm_package_name: 'other' }, '/repo')).toBe('/repo');
    expect(callerCwd({ npm_lifecycle_event: 'e3', npm_package_name: 'e3-monorepo' }, '/repo')).toBe('/repo');
  });
});
