import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { E3Error } from '../errors/e3-error.js';

/**
 * Writes `data` to `file` atomically: a temp file `.<name>.<pid>.<rand>.tmp` in the same folder, fsync,
 * rename. Readers see the old content or the new, never a part. Parent folders are created.
 * Throws E3_IO naming the file.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: { mode?: number } = {}): Promise<void> {
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    const handle = await open(tmp, 'w', options.mode ?? 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (cause) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new E3Error('IO', `could not write ${file}: ${(cause as Error).message}`, { cause });
  }
}

/** Atomic JSON write, 2-space indent, trailing newline. */
export async function writeJsonAtomic(file: string, value: unknown, options: { mode?: number } = {}): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', options);
}
