import { describe, expect, it } from '@jest/globals';

import { opFailure } from '../recorder/errors.js';
import { classify } from './failures.js';

describe('classify', () => {
  it('keeps an OpFailure, makes timeouts `timeout` and anything else a redacted exception', () => {
    expect(classify(opFailure('check', 'no branch'))).toEqual({ errorClass: 'check', errorText: 'check no branch' });
    expect(classify(Object.assign(new Error('t'), { name: 'TimeoutError' })).errorClass).toBe('timeout');
    expect(classify(new TypeError('x is undefined'))).toEqual({ errorClass: 'exception', errorText: 'exception x is undefined' });
    expect(classify(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toEqual({ errorClass: 'exception', errorText: 'exception ECONNREFUSED refused' });
    expect(classify(new Error('GET http://bob:s3cret@h/x failed')).errorText).toBe('exception GET http://bob:***@h/x failed');
  });

  it("makes the timeouts of Node's fetch (undici) `timeout`, as user scripts may call fetch", () => {
    for (const code of ['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']) {
      expect(classify(Object.assign(new Error('Timeout Error'), { code }))).toEqual({ errorClass: 'timeout', errorText: 'timeout' });
    }
    expect(classify(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })).errorClass).toBe('exception');
  });
});
