import { describe, expect, it } from '@jest/globals';

import { parseUnifiedDiff } from './git.js';

describe('parseUnifiedDiff', () => {
  it('turns hunks into Bitbucket segments with source and destination line numbers', () => {
    const text = [
      'diff --git a/a.txt b/a.txt',
      'index 1..2 100644',
      '--- a/a.txt',
      '+++ b/a.txt',
      '@@ -1,3 +1,3 @@',
      ' one',
      '-two',
      '+TWO',
      ' three',
      'diff --git a/new.txt b/new.txt',
      'new file mode 100644',
      '--- /dev/null',
      '+++ b/new.txt',
      '@@ -0,0 +1 @@',
      '+hello',
      '',
    ].join('\n');
    const [a, n] = parseUnifiedDiff(text);
    expect(a).toMatchObject({ source: 'a.txt', destination: 'a.txt' });
    expect(a!.hunks[0]).toMatchObject({ sourceLine: 1, sourceSpan: 3, destinationLine: 1, destinationSpan: 3 });
    expect(a!.hunks[0]!.segments.map((s) => [s.type, s.lines.map((l) => [l.source, l.destination, l.line])])).toEqual([
      ['CONTEXT', [[1, 1, 'one']]],
      ['REMOVED', [[2, 2, 'two']]],
      ['ADDED', [[3, 2, 'TWO']]],
      ['CONTEXT', [[3, 3, 'three']]],
    ]);
    expect(n).toMatchObject({ source: null, destination: 'new.txt' });
    expect(n!.hunks[0]).toMatchObject({ sourceLine: 0, sourceSpan: 0, destinationLine: 1, destinationSpan: 1 });
  });

  it('marks binary files and returns nothing for empty input', () => {
    expect(parseUnifiedDiff('')).toEqual([]);
    expect(parseUnifiedDiff('diff --git a/x.bin b/x.bin\nBinary files a/x.bin and b/x.bin differ\n')[0]).toMatchObject({ binary: true, hunks: [] });
  });
});
