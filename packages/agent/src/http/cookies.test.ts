import { describe, expect, it } from '@jest/globals';

import { createCookieJar } from './cookies.js';

describe('createCookieJar', () => {
  it('keeps cookies per host and forgets expired ones', () => {
    const jar = createCookieJar();
    jar.store('a:1', ['JSESSIONID=abc; Path=/; HttpOnly', 'x=1']);
    expect(jar.header('a:1')).toBe('JSESSIONID=abc; x=1');
    expect(jar.header('b:1')).toBeUndefined();
    jar.store('a:1', 'x=; Max-Age=0');
    expect(jar.header('a:1')).toBe('JSESSIONID=abc');
    jar.store('a:1', 'JSESSIONID=gone; Expires=Thu, 01 Jan 1970 00:00:00 GMT');
    expect(jar.header('a:1')).toBeUndefined();
  });
});
