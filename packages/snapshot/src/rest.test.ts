import { describe, expect, it } from '@jest/globals';

import { baseUrl, mapLimit, restUrl } from './rest.js';

describe('restUrl', () => {
  it('percent-encodes every query value and adds nothing else', () => {
    expect(restUrl('http://h/bb', '/rest/api/1.0/admin/users', { name: 'user_0', password: 'a&b=c d', displayName: 'x' })).toBe(
      'http://h/bb/rest/api/1.0/admin/users?name=user_0&password=a%26b%3Dc%20d&displayName=x',
    );
    expect(restUrl('http://h', '/p')).toBe('http://h/p');
  });
});

describe('baseUrl', () => {
  it('keeps the context path and drops trailing slashes', () => {
    expect(baseUrl('http://localhost:7990/bitbucket/')).toBe('http://localhost:7990/bitbucket');
    expect(baseUrl('https://bb.example.com')).toBe('https://bb.example.com');
  });
  it('refuses non-http URLs and embedded credentials', () => {
    expect(() => baseUrl('localhost:7990')).toThrow(expect.objectContaining({ code: 'E3_USAGE' }));
    expect(() => baseUrl('ssh://h')).toThrow(expect.objectContaining({ code: 'E3_USAGE' }));
    expect(() => baseUrl('http://admin:pw@h')).toThrow('--url must not hold credentials');
  });
});

describe('mapLimit', () => {
  it('keeps order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });
  it('stops starting work after the first failure', async () => {
    const started: number[] = [];
    await expect(
      mapLimit([0, 1, 2, 3, 4, 5], 1, async (n) => {
        started.push(n);
        if (n === 1) throw new Error('boom');
        return n;
      }),
    ).rejects.toThrow('boom');
    expect(started).toEqual([0, 1]);
  });
});
