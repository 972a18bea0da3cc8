export { EXIT, ERROR_CODES, exitCodeFor, type E3Code, type ExitCode } from './errors/codes.js';
export { E3Error, isE3Error, type E3ErrorOptions } from './errors/e3-error.js';
export { renderError, type RenderedError } from './errors/render.js';
export { writeFileAtomic, writeJsonAtomic } from './run-dir/atomic.js';
export { isSafeName, parseRunName, runName } from './run-dir/naming.js';
export * from './run-dir/layout.js';
export {
  SAMPLE_COLUMNS,
  SAMPLES_HEADER,
  createSampleWriter,
  formatSample,
  parseSample,
  readSamples,
  type SampleRow,
  type SampleWriter,
} from './samples/codec.js';
export { assignJobs, clientOffsets, jobCounts, splitClients, type AssignmentMode } from './load/assign.js';
export * from './schemas/stage-summary.js';
export * from './protocol/agent.js';
