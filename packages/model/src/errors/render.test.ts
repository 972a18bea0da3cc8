import { describe, expect, it } from '@jest/globals';

import { E3Error, isE3Error } from './e3-error.js';
import { renderError } from './render.js';

describe('renderError', () => {
  it('prints a coded error as [CODE] message and its hint, without a stack', () => {
    const err = new E3Error('INVALID_FILE', 'experiments/x.json: /threads: must have at least 1 item', {
      hint: 'Edit e3-home/experiments/x.json',
    });
    expect(renderError(err)).toEqual({
      text: '[E3_INVALID_FILE] experiments/x.json: /threads: must have at least 1 item\n\nEdit e3-home/experiments/x.json',
      exitCode: 2,
    });
  });

  it('prints JSON with code, message and hint when asked', () => {
    const err = new E3Error('E3_HEALTH_TIMEOUT', 'no RUNNING after 60 s', { hint: 'check the server log' });
    expect(JSON.parse(renderError(err, { json: true }).text)).toEqual({
      error: { code: 'E3_HEALTH_TIMEOUT', message: 'no RUNNING after 60 s', hint: 'check the server log' },
    });
    expect(renderError(err).exitCode).toBe(3);
  });

  it('treats unknown errors as bugs: stack, report request, exit 1', () => {
    const rendered = renderError(new TypeError('x is undefined'));
    expect(rendered.exitCode).toBe(1);
    expect(rendered.text).toContain('TypeError: x is undefined');
    expect(rendered.text).toContain('This is a bug in e3');
  });

  it('recognises E3Errors by brand, not by class identity', () => {
    expect(isE3Error(new E3Error('IO', 'x'))).toBe(true);
    expect(isE3Error(Object.assign(new Error('x'), { code: 'E3_IO' }))).toBe(false);
  });
});
