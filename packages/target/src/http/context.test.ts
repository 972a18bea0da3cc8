import { describe, expect, it } from '@jest/globals';

import { page } from './context.js';

describe('page', () => {
  const items = Array.from({ length: 7 }, (_, i) => i);
  it('returns Bitbucket paging fields, nextPageStart only when more remain', () => {
    expect(page(new URLSearchParams('start=0&limit=3'), items)).toEqual({ size: 3, limit: 3, isLastPage: false, start: 0, nextPageStart: 3, values: [0, 1, 2] });
    expect(page(new URLSearchParams('start=6&limit=3'), items)).toEqual({ size: 1, limit: 3, isLastPage: true, start: 6, values: [6] });
    expect(page(new URLSearchParams(''), items)).toMatchObject({ limit: 25, isLastPage: true, size: 7 });
  });
  it('rejects non-numeric paging parameters with a 400', () => {
    expect(() => page(new URLSearchParams('start=abc'), items)).toThrow(expect.objectContaining({ status: 400 }));
  });
});
