import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import { E3Error, validateValue, type LedgerEntry } from '@e3/model';

import { awsFailure } from './aws/clients.js';

type Resource = LedgerEntry['resource'];

/** Appends intents and results to `runs/<run>/ledger.ndjson`; each line is fsynced before the call goes on. */
export interface Ledger {
  readonly file: string;
  /**
   * Writes an intent, runs `call`, writes its result (ok, or the error message) and returns or rethrows.
   * `call` may return the provider id of the resource, recorded in the result.
   */
  track<T>(provider: string, action: LedgerEntry['action'], resource: Resource, call: () => Promise<T>, idOf?: (value: T) => string | undefined): Promise<T>;
  append(entry: Omit<LedgerEntry, 'ts'>): Promise<void>;
}

export interface LedgerOptions {
  run?: string;
  now?: () => number;
}

/** A ledger writing to `file` (created on the first append). */
export function openLedger(file: string, options: LedgerOptions = {}): Ledger {
  const now = options.now ?? Date.now;
  let chain: Promise<unknown> = Promise.resolve();
  const append = (entry: Omit<LedgerEntry, 'ts'>): Promise<void> => {
    const line = JSON.stringify({ ts: new Date(now()).toISOString(), ...entry, ...(options.run ? { run: options.run } : {}) }) + '\n';
    const next = chain.then(() => appendLine(file, line));
    chain = next.catch(() => undefined);
    return next;
  };
  return { file, append, track: trackWith(append) };
}

function trackWith(append: Ledger['append']): Ledger['track'] {
  return async (provider, action, resource, call, idOf) => {
      const id = randomBytes(6).toString('hex');
      await append({ id, stage: 'intent', action, provider, resource });
      let value;
      try {
        value = await call();
      } catch (err) {
        await append({ id, stage: 'result', action, provider, resource, ok: false, error: (err as Error).message ?? String(err) });
        throw awsFailure(err, `trying to ${action} ${resource.type} ${resource.name}`) ?? err;
      }
      const rid = idOf?.(value);
      await append({ id, stage: 'result', action, provider, resource: rid ? { ...resource, id: rid } : resource, ok: true });
      return value;
  };
}

/** A ledger that keeps its entries in memory (deletions of resources whose run dir is gone). */
export function memoryLedger(): Ledger & { entries: LedgerEntry[] } {
  const entries: LedgerEntry[] = [];
  const ledger = openLedger('', {});
  const append = async (entry: Omit<LedgerEntry, 'ts'>) => void entries.push({ ts: new Date().toISOString(), ...entry });
  return { ...ledger, entries, append, track: trackWith(append) };
}

async function appendLine(file: string, line: string): Promise<void> {
  try {
    await mkdir(dirname(file), { recursive: true });
    const handle = await open(file, 'a', 0o600);
    try {
      await handle.write(line);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (cause) {
    throw new E3Error('IO', `could not append to the ledger ${file}: ${(cause as Error).message}`, { cause });
  }
}

/**
 * The entries of a ledger, oldest first; [] when it does not exist. A torn last line (the process was
 * killed while writing it) is skipped; any other bad line is an E3_INVALID_FILE naming its line number.
 */
export async function readLedger(file: string): Promise<LedgerEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new E3Error('IO', `cannot read the ledger ${file}: ${(err as Error).message}`, { cause: err });
  }
  const lines = text.split('\n');
  const torn = !text.endsWith('\n') ? lines.length - 1 : -1;
  const out: LedgerEntry[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      if (i === torn) break;
      throw new E3Error('INVALID_FILE', `${file}: line ${i + 1} is not JSON`, {
        hint: `Do not edit ${file} by hand; if it was, restore the line or remove it and check the cloud console for leftovers`,
      });
    }
    const result = validateValue<LedgerEntry>('ledger', value, `${file}:${i + 1}`);
    if (result.errors.length) {
      throw new E3Error('INVALID_FILE', `${file}: line ${i + 1}: ${result.errors.join('; ')}`, { hint: `Do not edit ${file} by hand` });
    }
    out.push(result.value!);
  }
  return out;
}

/** A resource that may still exist, with the provider that made it. */
export interface OutstandingResource {
  provider: string;
  resource: Resource;
}

const keyOf = (provider: string, r: Resource): string => `${provider}\u0000${r.type}\u0000${r.region ?? ''}\u0000${r.name}`;

/**
 * Resources that may exist according to the ledger: every resource with a create intent (whatever its
 * result: a failed or missing result may still have taken effect) and no successful delete after it.
 * Oldest create first; ids and fields learnt from later entries are merged in.
 */
export function outstandingResources(entries: LedgerEntry[]): OutstandingResource[] {
  const live = new Map<string, OutstandingResource>();
  for (const e of entries) {
    const key = keyOf(e.provider, e.resource);
    if (e.action === 'create') {
      const prev = live.get(key);
      live.set(key, { provider: e.provider, resource: { ...prev?.resource, ...e.resource, ...(prev?.resource.id && !e.resource.id ? { id: prev.resource.id } : {}) } });
    } else if (e.stage === 'result' && e.ok === true) {
      live.delete(key);
    }
  }
  return [...live.values()];
}
