import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

import { E3Error } from '../errors/e3-error.js';
import type { GatherManifest } from '../schemas/gather-manifest.js';
import type { PhaseStatus } from '../schemas/phase-status.js';
import type { RunFile } from '../schemas/run-file.js';
import type { StagesFile } from '../schemas/stages.js';
import type { FileKind } from '../schemas/index.js';
import { assertValid, validateText } from '../validate/validate.js';
import { writeJsonAtomic } from './atomic.js';
import { RUN_DIR_FORMAT_VERSION, runDirPaths, type Phase } from './layout.js';

/** Reads a run-dir JSON file of `kind`; undefined when it does not exist. Checks the format version. */
async function readRunDirJson<T>(kind: FileKind, file: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new E3Error('IO', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const version = peekFormatVersion(text);
  if (version !== undefined && version > RUN_DIR_FORMAT_VERSION) {
    throw new E3Error('RUN_DIR_INCOMPATIBLE', `${file}: /formatVersion: ${version} is newer than this e3 reads (${RUN_DIR_FORMAT_VERSION})`, {
      hint: 'Upgrade e3 (`pnpm up -r @e3/*`), or analyse this run with the e3 version that wrote it',
    });
  }
  return assertValid(validateText<T>(kind, text, file));
}

function peekFormatVersion(text: string): number | undefined {
  const m = /"formatVersion"\s*:\s*(-?[0-9.eE+]+)/.exec(text);
  if (!m) return undefined;
  const v = Number(m[1]);
  return Number.isFinite(v) ? v : undefined;
}

/** Reads `runs/<run>/<run>.json`; a hand-written one without run_name takes the folder name. Throws E3_RUN_NOT_FOUND when absent. */
export async function readRunFile(runDir: string): Promise<RunFile> {
  const paths = runDirPaths(runDir);
  const value = await readRunDirJson<RunFile>('run', paths.runFile);
  if (!value) {
    throw new E3Error('RUN_NOT_FOUND', `${paths.runFile} does not exist`, {
      hint: `List the runs with \`e3 list runs\`; a run dir ${basename(runDir)} must hold ${basename(paths.runFile)}`,
    });
  }
  return { ...value, run_name: value.run_name ?? basename(runDir) };
}

/** Writes the run file atomically (mode 0600: it holds copies of instance files with passwords), stamping the format version. */
export async function writeRunFile(runDir: string, value: RunFile): Promise<void> {
  await writeJsonAtomic(runDirPaths(runDir).runFile, { ...value, formatVersion: RUN_DIR_FORMAT_VERSION }, { mode: 0o600 });
}

/** The phase's status file, or undefined if the phase never ran. */
export async function readPhaseStatus(runDir: string, phase: Phase): Promise<PhaseStatus | undefined> {
  return readRunDirJson<PhaseStatus>('phase', runDirPaths(runDir).phaseFile(phase));
}

/** Writes `phases/<phase>.json` atomically. A phase writes it when it starts (running) and last of all when it ends. */
export async function writePhaseStatus(
  runDir: string,
  status: Omit<PhaseStatus, 'formatVersion'>,
): Promise<void> {
  await writeJsonAtomic(runDirPaths(runDir).phaseFile(status.phase), { formatVersion: RUN_DIR_FORMAT_VERSION, ...status });
}

/** `thread-NNN/stages.json`, or undefined before the run phase wrote it. */
export async function readStages(runDir: string, thread: number): Promise<StagesFile | undefined> {
  return readRunDirJson<StagesFile>('stages', runDirPaths(runDir).stagesFile(thread));
}

export async function writeStages(runDir: string, value: Omit<StagesFile, 'formatVersion'>): Promise<void> {
  await writeJsonAtomic(runDirPaths(runDir).stagesFile(value.thread), { formatVersion: RUN_DIR_FORMAT_VERSION, ...value });
}


/** `gather.json`, or undefined before the first gather. */
export async function readGatherManifest(runDir: string): Promise<GatherManifest | undefined> {
  return readRunDirJson<GatherManifest>('gather', runDirPaths(runDir).gatherManifest);
}

export async function writeGatherManifest(runDir: string, value: Omit<GatherManifest, 'formatVersion'>): Promise<void> {
  await writeJsonAtomic(runDirPaths(runDir).gatherManifest, { formatVersion: RUN_DIR_FORMAT_VERSION, ...value });
}
