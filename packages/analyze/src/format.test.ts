import { describe, expect, it } from '@jest/globals';

import { formatMs, formatNumber, formatPercent, formatTps, roundTo } from './format.js';

describe('roundTo: half away from zero on the decimal value', () => {
  it('rounds the binary-float traps as their decimals read', () => {
    // Each of these is stored a little below its decimal (6.555 is 6.55499999…), so toFixed rounds down.
    expect((6.555).toFixed(2)).toBe('6.55');
    expect(roundTo(6.555, 2)).toBe(6.56);
    expect((1.005).toFixed(2)).toBe('1.00');
    expect(roundTo(1.005, 2)).toBe(1.01);
    expect((2.675).toFixed(2)).toBe('2.67');
    expect(roundTo(2.675, 2)).toBe(2.68);
    expect(roundTo(0.1 + 0.2, 2)).toBe(0.3);
    expect(roundTo(0.1 + 0.2, 3)).toBe(0.3);
    expect(roundTo(0.1 + 0.2, 17)).toBe(0.1 + 0.2);
  });

  it('rounds halves away from zero, negatives too', () => {
    expect(roundTo(-1.5, 0)).toBe(-2);
    expect(roundTo(1.5, 0)).toBe(2);
    expect(roundTo(2.5, 0)).toBe(3);
    expect(roundTo(-6.555, 2)).toBe(-6.56);
    expect(roundTo(-1.5, 2)).toBe(-1.5);
    expect(Object.is(roundTo(-0.001, 2), 0)).toBe(true);
    expect(roundTo(1.2344, 3)).toBe(1.234);
    expect(roundTo(1.2345, 3)).toBe(1.235);
  });

  it('keeps tiny, huge and non-finite values sane', () => {
    expect(roundTo(1e-7, 3)).toBe(0);
    expect(roundTo(5e-7, 6)).toBe(0.000001);
    expect(roundTo(123456789.125, 2)).toBe(123456789.13);
    expect(roundTo(1e20, 2)).toBe(1e20);
    expect(roundTo(Infinity, 2)).toBe(Infinity);
    expect(roundTo(NaN, 2)).toBeNaN();
  });
});

describe('formatNumber and the per-quantity formatters', () => {
  it('write exactly the digits of the quantity, from the same rounding', () => {
    expect(formatNumber(6.555, 2)).toBe('6.56');
    expect(formatNumber(1.005, 2)).toBe('1.01');
    expect(formatNumber(-1.5, 0)).toBe('-2');
    expect(formatNumber(0.1 + 0.2, 2)).toBe('0.30');
    expect(formatTps(9)).toBe('9.00');
    expect(formatTps(2.675)).toBe('2.68');
    expect(formatMs(95.0395)).toBe('95.040');
    expect(formatMs(12345.6785)).toBe('12345.679');
    expect(formatPercent(0.06555)).toBe('6.56 %');
    expect(formatPercent(0.07)).toBe('7.00 %');
  });

  it('write an en dash for no value', () => {
    expect(formatTps(null)).toBe('–');
    expect(formatMs(undefined)).toBe('–');
    expect(formatNumber(NaN, 1)).toBe('–');
    expect(formatPercent(null)).toBe('–');
  });
});
