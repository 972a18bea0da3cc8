export { EXIT, ERROR_CODES, exitCodeFor, type E3Code, type ExitCode } from './errors/codes.js';
export { E3Error, isE3Error, type E3ErrorOptions } from './errors/e3-error.js';
export { renderError, type RenderedError } from './errors/render.js';
export { writeFileAtomic, writeJsonAtomic } from './run-dir/atomic.js';
export { sshMpint, sshString, sshUint32 } from './keys/ssh-wire.js';
export { assertSafeName, isSafeName, parseRunName, runName } from './run-dir/naming.js';
export * from './run-dir/layout.js';
export {
  MAX_SAMPLE_DURATION_MS,
  MAX_SAMPLE_EPOCH_MS,
  SAMPLE_COLUMNS,
  SAMPLES_HEADER,
  createSampleWriter,
  sampleRangeProblem,
  parseSample,
  readSamples,
  type SampleRow,
  type SampleWriter,
} from './samples/codec.js';
export { assignJobs, clientOffsets, jobCounts, splitClients, type AssignmentMode } from './load/assign.js';
export { durationMs, thinkTimeMs, Duration, ThinkTime, type ThinkTimeMs } from './schemas/common.js';
export { Experiment, InstanceSpec, Stage, StackRef, Thread, WorkerSpec, threadName } from './schemas/experiment.js';
export { Instance } from './schemas/instance.js';
export { KeyPool } from './schemas/keys.js';
export { LedgerEntry } from './schemas/ledger.js';
export { PhaseStatus } from './schemas/phase-status.js';
export { RunFile } from './schemas/run-file.js';
export { SampleRowSchema } from './schemas/sample-row.js';
export { Branch, Snapshot, SnapshotRepo, SnapshotUser } from './schemas/snapshot.js';
export { StageRecord, StagesFile } from './schemas/stages.js';
export { Threshold } from './schemas/threshold.js';
export { Job, WorkloadFile, WorkloadJobs, WorkloadObject, workloadJobs, type Workload } from './schemas/workload.js';
export { FILE_KINDS, HOME_DIRS, jsonSchemas, type FileKind, type HomeKind } from './schemas/index.js';
export { parseJson, MAX_JSON_DEPTH, type DuplicateKey, type JsonParseResult } from './json/parse.js';
export {
  assertValid,
  loadFile,
  schemaProblems,
  validateFile,
  validateText,
  validateValue,
  type ValidationResult,
} from './validate/validate.js';
export type { Problems, RuleContext } from './validate/rules.js';
export { kindOfPath, validateHome, validatePaths } from './validate/paths.js';
export { assertAllValid, validateWithReferences } from './validate/tree.js';
export { KNOWN_TEMPLATES, LIBRARY_SCRIPT_NAMES, libraryScriptName } from './scripts/library-names.js';
export {
  builtinHome,
  requireHomeFile,
  findHomeFile,
  homeFilePath,
  homeRunDir,
  homeRuleContext,
  listHome,
  resolveHome,
  HOME_DIR_NAME,
  type ResolveHomeOptions,
} from './home/home.js';
export { E3_VERSION } from './version.js';
export {
  readGatherManifest,
  readPhaseStatus,
  readRunFile,
  readStages,
  writeGatherManifest,
  writePhaseStatus,
  writeRunFile,
  writeStages,
} from './run-dir/io.js';
export {
  abortActivePhasesSync,
  onForcedExit,
  errorRecord,
  requirePhase,
  withPhase,
  type PhaseError,
  type RequirePhaseOptions,
  type WithPhaseOptions,
} from './run-dir/phase.js';
export { isArchivedRunDir, resolveRunDir } from './run-dir/resolve.js';
export * from './schemas/stage-summary.js';
export * from './protocol/agent.js';
export { checkAgentMessage } from './protocol/check.js';
export { threadMachines, type NodesInstance, type StackMachines } from './run-dir/machines.js';
export { GatherManifest, GatheredFile, GatheredNode } from './schemas/gather-manifest.js';
export { AnalysisSummary, SummaryRow } from './schemas/analysis-summary.js';
export * from './run-dir/analysis-layout.js';
export { scanSamples } from './samples/scan.js';
export { prng } from './random.js';
