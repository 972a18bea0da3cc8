import { describe, expect, it } from '@jest/globals';

import { parseArgs, parseDuration } from './args.js';

describe('cli args', () => {
  it('parses durations', () => {
    expect(parseDuration('30s', '--duration')).toBe(30_000);
    expect(parseDuration('1500ms', '--duration')).toBe(1500);
    expect(parseDuration('2m', '--duration')).toBe(120_000);
    expect(parseDuration('5', '--duration')).toBe(5000);
    expect(() => parseDuration('soon', '--duration')).toThrow(expect.objectContaining({ code: 'E3_USAGE' }));
  });

  it('keeps flag values as strings', () => {
    expect(parseArgs(['--clients', '8', '--quiet', '--out=d'], ['quiet'])).toEqual({ flags: { clients: '8', quiet: true, out: 'd' }, positional: [] });
    expect(() => parseArgs(['--clients'], [])).toThrow(expect.objectContaining({ code: 'E3_USAGE' }));
  });
});
