import { describe, expect, it } from '@jest/globals';

import { formatCheck, formatSetup } from './command.js';

describe('formatCheck', () => {
  it('prints one line per requirement, the fix under what fails, and the verdict', () => {
    const text = formatCheck({
      ok: false,
      nodes: [
        {
          node: 'root@10.0.0.11',
          instance: 'workers',
          file: '/home/e3-home/instances/workers.json',
          role: 'worker',
          ok: false,
          requirements: [
            { id: 'ssh', status: 'ok', detail: 'logged in as root with workers.pem' },
            { id: 'git', status: 'missing', detail: 'git is not on the PATH', fix: 'e3 nodes setup -i workers (installs git)' },
            { id: 'rsync', status: 'missing', detail: 'rsync is not on the PATH: gather falls back to SFTP (slower)', fix: 'e3 nodes setup -i workers (installs rsync)', optional: true },
          ],
        },
      ],
    });
    expect(text).toBe(
      [
        'root@10.0.0.11 (workers, worker): FAILED',
        '  ssh    ok       logged in as root with workers.pem',
        '  git    MISSING  git is not on the PATH',
        '                  fix: e3 nodes setup -i workers (installs git)',
        '  rsync  missing (optional)  rsync is not on the PATH: gather falls back to SFTP (slower)',
        '                  fix: e3 nodes setup -i workers (installs rsync)',
        '',
        '1 of 1 node(s) failed: apply the fixes above, then run the check again',
      ].join('\n'),
    );
  });
});

describe('formatSetup', () => {
  it('prints the exact commands of a dry run', () => {
    const text = formatSetup({
      dryRun: true,
      changed: false,
      ok: true,
      nodes: [
        {
          node: 'localhost',
          instance: 'w',
          file: '/h/instances/w.json',
          role: 'worker',
          steps: [{ id: 'data-dir', description: 'create /tmp/e3', commands: ['mkdir -p /tmp/e3'] }],
          problems: [],
          applied: false,
          requirements: [],
          ok: true,
        },
      ],
    });
    expect(text).toBe(['localhost (w, worker): 1 step(s) planned', '  - create /tmp/e3', '      $ mkdir -p /tmp/e3', '', 'dry run: nothing was changed; run again without --dry-run to apply'].join('\n'));
  });
});
