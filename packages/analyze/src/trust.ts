import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

import type { Aggregation } from './aggregate.js';
import type { RunInfo, SampleFile, StageInfo } from './run-dir.js';

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const where = (f: SampleFile) => `worker ${f.worker + 1}: ${basename(dirname(f.file))}/${basename(f.file)}`;

/** Why one sample file cannot be trusted: fewer rows than its agent wrote, or other bytes than gather copied. */
async function fileNotes(f: SampleFile, rows: number | undefined): Promise<string[]> {
  const notes: string[] = [];
  if (f.expectedRows !== undefined && rows !== undefined && rows < f.expectedRows) {
    notes.push(`${where(f)} has ${rows} rows, its agent's summary.json says it wrote ${f.expectedRows}: truncated, this stage's numbers are short`);
  }
  if (f.gathered) {
    const size = (await stat(f.file)).size;
    const same = size === f.gathered.size && (await sha256(f.file)) === f.gathered.sha256;
    if (!same) notes.push(`${where(f)} differs from what gather copied (gather.json size ${f.gathered.size} and sha256; now ${size} bytes): changed after gather, re-run \`e3 gather\``);
  }
  return notes;
}

/**
 * Marks the stages whose samples cannot be trusted: a samples.csv with fewer rows than its agent's
 * summary.json says it wrote, or whose size or sha256 differ from gather.json. Adds one note per file to
 * the stage (a stage with notes is `complete: false`).
 */
export async function checkSampleFiles(info: RunInfo, agg: Aggregation): Promise<void> {
  for (const thread of info.threads) {
    for (const stage of thread.stages) {
      const rows = agg.fileRows[thread.index]?.[stage.index] ?? [];
      for (const [i, f] of stage.sampleFiles.entries()) stage.notes.push(...(await fileNotes(f, rows[i])));
    }
  }
}

/** The open-model invariant scheduled = completed + cut + dropped, as a note when it does not hold. */
export function accountingNote(stage: Pick<StageInfo, 'index'>, a: { scheduled: number; dropped: number }, completed: number, cut: number): string | undefined {
  if (a.scheduled === completed + cut + a.dropped) return undefined;
  return `open-model accounting does not add up: scheduled ${a.scheduled} ≠ completed ${completed} + cut ${cut} + dropped ${a.dropped} (= ${completed + cut + a.dropped})`;
}
