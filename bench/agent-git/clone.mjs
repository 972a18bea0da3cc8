// One pass = one `git clone` of the bench repository into a temp folder, then remove it.
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';

export const script = {
  name: 'bench.Clone',
  async run(ctx) {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(ctx.workDir, { recursive: true });
    const dir = await mkdtemp(join(ctx.workDir, 'c-'));
    try {
      await ctx.git(['clone', '--quiet', ctx.options.url, dir]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
