import { describe, expect, it } from '@jest/globals';

import { parseArgs, parseDuration, parseThinkTime } from './args.js';

describe('cli args', () => {
  it('parses durations', () => {
    expect(parseDuration('30s', '--duration')).toBe(30_000);
    expect(parseDuration('1500ms', '--duration')).toBe(1500);
    expect(parseDuration('2m', '--duration')).toBe(120_000);
    expect(parseDuration('5', '--duration')).toBe(5000);
    expect(() => parseDuration('soon', '--duration')).toThrow(expect.objectContaining({ code: 'E3_USAGE' }));
  });

  it('parses a think time, fixed or as a range', () => {
    expect(parseThinkTime('1s', '--think-time')).toEqual({ min: 1000, max: 1000 });
    expect(parseThinkTime('0.5s..1.5s', '--think-time')).toEqual({ min: 500, max: 1500 });
    expect(parseThinkTime('0..250ms', '--think-time')).toEqual({ min: 0, max: 250 });
    expect(() => parseThinkTime('1s..', '--think-time')).toThrow(expect.objectContaining({ code: 'E3_USAGE', message: '--think-time must be a duration like 1s, or a range like 0.5s..1.5s, got "1s.."' }));
    expect(() => parseThinkTime('2s..1s', '--think-time')).toThrow(expect.objectContaining({ code: 'E3_USAGE', message: '--think-time: the range starts after it ends ("2s..1s")' }));
  });

  it('keeps flag values as strings', () => {
    expect(parseArgs(['--clients', '8', '--quiet', '--out=d'], ['quiet'])).toEqual({ flags: { clients: '8', quiet: true, out: 'd' }, positional: [] });
    expect(() => parseArgs(['--clients'], [])).toThrow(expect.objectContaining({ code: 'E3_USAGE' }));
  });
});
