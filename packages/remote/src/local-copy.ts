import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, rename, rm, utimes } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** The temp name a copy is written under before its rename: `.<name>.e3tmp-<rand>` in the same folder. */
export function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.e3tmp-${randomBytes(4).toString('hex')}`);
}

/** Counts bytes flowing through, reporting the running total. */
export function progressStream(onProgress?: (bytes: number) => void): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      total += chunk.length;
      onProgress?.(total);
      cb(null, chunk);
    },
  });
}

/** Streams `from` into `to` with progress and abort. */
export async function pump(from: Readable, to: Writable, options: { signal?: AbortSignal; onProgress?(bytes: number): void }): Promise<void> {
  await pipeline(from, progressStream(options.onProgress), to, options.signal ? { signal: options.signal } : {});
}

/** Local → local copy under a temp name, then rename; optional mode and mtime. */
export async function copyLocalAtomic(
  src: string,
  dest: string,
  options: { mode?: number; mtimeMs?: number; signal?: AbortSignal; onProgress?(bytes: number): void } = {},
): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const tmp = tempNameFor(dest);
  try {
    await pump(createReadStream(src), createWriteStream(tmp, { mode: options.mode ?? 0o644 }), options);
    if (options.mode !== undefined) await chmod(tmp, options.mode);
    if (options.mtimeMs !== undefined) await utimes(tmp, new Date(), new Date(options.mtimeMs));
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
