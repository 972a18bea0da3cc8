import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { makeTree } from '@e3/test-utils';

import { SAMPLES_HEADER } from '../samples/codec.js';
import { validatePaths } from './paths.js';

describe('validate --kind sample', () => {
  it('reads samples.csv as CSV: the header, then each row with its line number', async () => {
    const good = '1700000000000.5,12.5,Clone,git clone,request,0,0,1,0,1024,3.5,,';
    const dir = await makeTree({
      'ok.csv': `${SAMPLES_HEADER}\n${good}\n`,
      'bad.csv': `${SAMPLES_HEADER}\n${good}\n1,2,3\n1,2,T,op,request,-1,0,1,0,5,,,\nx,2,T,op,request,1,0,1,0,5,,,\n1,2,T,op,batch,1,0,1,0,5,,,\n`,
      'json.csv': '{"start": 1}\n',
    });
    const [ok, bad, json] = await validatePaths([join(dir, 'ok.csv'), join(dir, 'bad.csv'), join(dir, 'json.csv')], { home: dir, kind: 'sample' });
    expect(ok!.errors).toEqual([]);
    const f = join(dir, 'bad.csv');
    expect(bad!.errors).toEqual([
      `${f}: line 3: expected 13 fields, found 3`,
      `${f}: line 4: /client: must be >= 0; got -1`,
      `${f}: line 5: a numeric field is not a number`,
      `${f}: line 6: kind must be request or transaction, found "batch"`,
    ]);
    expect(json!.errors).toEqual([`${join(dir, 'json.csv')}: line 1: not a samples file: the header must be ${SAMPLES_HEADER}`]);
    // Without --kind, a .csv file is a samples file too.
    expect((await validatePaths([f], { home: dir }))[0]!.errors).toHaveLength(4);
  });
});
