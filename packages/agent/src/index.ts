/** Runs one stage (closed or open model) and writes samples.csv, summary.json and agent.log; see runStage's contract. */
export { runStage, type RunStageOptions, type StageResult, type WorkloadJob, type LogFn, type LogLevel } from './engine/stage.js';
/** The NDJSON control loop (hello, prepare → ready, start → tick… → done | error, stop). */
export { serveStdio, type ServeOptions } from './protocol/stdio.js';
/** The e3-agent command line (plain local runs, `--stdio`, `monitor`), returning the exit code. */
export { runCli, USAGE, RUN_FLAGS, formatSummary, type CliIo } from './cli/main.js';
/** The script API: defineScript and what a pass gets. */
export { defineScript, type Script, type ScriptContext } from './script/api.js';
/** Library scripts by E³ dotted name, and name resolution (exact, user script, unique suffix). */
export { LIBRARY, resolveScript } from './script/registry.js';
/** User scripts: bundle a .ts/.js file with esbuild (controller side), load a bundle (agent side). */
export { bundleUserScript, loadUserScript, isUserScriptPath } from './script/user-scripts.js';
/** Test data from E³ instance/snapshot/keys: weighted repos, users, clone URLs with context path. */
export { createTestData, type TestData, type TestDataSource, type RepoRef, type User, type Branch, type InstanceData } from './data/provider.js';
/** The per-virtual-user HTTP client (HTTP/1.1 keep-alive, cookie jar, TTFB), usable alone. */
export { createHttpClient, type HttpApi, type HttpClientOptions, type HttpRequestOptions, type HttpResponse } from './http/client.js';
/** The git runner (per-user HOME and key, credentials from the environment), usable alone. */
export { createGitRunner, type GitApi, type GitCallOptions, type GitIdentity, type GitResult, type GitRunnerOptions } from './git/runner.js';
/** The stage recorder: samples.csv plus HDR summaries and ticks. */
export { createRecorder, type Recorder } from './recorder/recorder.js';
/** Operation reports from the HTTP client and git runner. */
export { now, type OpRecord, type OpSink } from './recorder/sink.js';
/** The /proc sampler writing the collectd CSV layout. */
export { runMonitor, readProcValues, type MonitorOptions } from './monitor/proc.js';
/** `e3 agent run|monitor` for @e3/cli, and the local-run function behind it and the e3-agent bin. */
export { agentCommand } from './cli/command.js';
export { runLocal, type LocalRunFlags } from './cli/main.js';
