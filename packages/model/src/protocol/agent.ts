import { Type, type Static } from '@sinclair/typebox';

import { StageSummarySchema, TickSchema } from '../schemas/stage-summary.js';
import { Job } from '../schemas/workload.js';

/**
 * The agent control protocol (ARCHITECTURE "Agent control protocol"): NDJSON on the agent's stdio, one
 * message per line. Controller → agent: `prepare`, `start`, `stop`. Agent → controller: `hello` (at once),
 * `ready` (prepare done), `tick` (every second), `log`, `done` (stage finished, files written) or `error`.
 * Flow: hello → prepare → ready → start → tick… → done; `stop` may come at any time after `start`.
 * The agent treats a closed stdin like `stop`, finishes writing its files and exits.
 */
export const AGENT_PROTOCOL_VERSION = 1;

export const HelloMessageSchema = Type.Object(
  {
    type: Type.Literal('hello', { description: 'Message type.' }),
    protocol: Type.Integer({ description: 'AGENT_PROTOCOL_VERSION the agent speaks.' }),
    version: Type.String({ description: 'Agent version.' }),
    host: Type.String({ description: 'Host name of the worker.' }),
    cpus: Type.Integer({ minimum: 1, description: 'Logical CPUs of the worker.' }),
    node: Type.String({ description: 'Node.js version.' }),
    git: Type.Optional(Type.String({ description: 'git version, absent when git is missing.' })),
    pid: Type.Integer({ description: 'Process id of the agent.' }),
  },
  { description: 'Sent by the agent as soon as it starts.' },
);

export const PrepareMessageSchema = Type.Object(
  {
    type: Type.Literal('prepare', { description: 'Message type.' }),
    stageDir: Type.String({ description: 'Where the agent writes samples.csv, summary.json and agent.log (created if missing).' }),
    workDir: Type.Optional(Type.String({ description: 'Scratch space for user homes, clones and the repository cache (default: <stageDir>/../work).' })),
    workload: Type.Array(Job, { description: 'The workload jobs, as in the workload file.' }),
    instance: Type.Record(Type.String(), Type.Unknown(), { description: 'The instance file (E³ format: URL, RunConfig.admin_password, snapshot; e3 adds SshPort, SshHost, DirectURL).' }),
    snapshot: Type.Record(Type.String(), Type.Unknown(), { description: 'The snapshot descriptor (E³ format: projects[].repos[], users[]).' }),
    keys: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'A keys file (E³ format); its key pairs are given to SSH-less users in order.' })),
    scripts: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'User scripts by name: ESM source bundled by bundleUserScript.' })),
    worker: Type.Optional(Type.String({ description: 'Worker name for summary.json (default: host name).' })),
    monitor: Type.Optional(
      Type.Object(
        {
          out: Type.String({ description: 'collectd CSV root; files go to <out>/<host>/….' }),
          intervalMs: Type.Optional(Type.Number({ minimum: 100, description: 'Sampling interval (ms), default 5000.' })),
          host: Type.Optional(Type.String({ description: 'Host folder name (default: host name).' })),
        },
        { description: 'Start the /proc sampler beside the agent (once; it runs until the agent exits).' },
      ),
    ),
  },
  { description: 'Controller → agent: everything a stage needs, before the stage starts.' },
);

export const StartMessageSchema = Type.Object(
  {
    type: Type.Literal('start', { description: 'Message type.' }),
    durationMs: Type.Number({ minimum: 0, description: 'Stage duration (ms).' }),
    clients: Type.Optional(Type.Integer({ minimum: 0, description: "Closed model: this worker's clients. Open model: the pool of virtual users (default 64)." })),
    rate: Type.Optional(Type.Number({ minimum: 0, description: "Open model: this worker's arrivals per second. Absent for the closed model." })),
    clientOffset: Type.Optional(Type.Integer({ minimum: 0, description: "Global number of this worker's first client (default 0)." })),
    totalClients: Type.Optional(Type.Integer({ minimum: 0, description: 'Clients over all workers (default: clients).' })),
    assignment: Type.Optional(Type.Union([Type.Literal('weighted'), Type.Literal('bands')], { description: 'Job assignment rule (default weighted).' })),
    graceMs: Type.Optional(Type.Number({ minimum: 0, description: 'How long in-flight operations may finish after the stage ends before they are cut (default 5000).' })),
    userPerIteration: Type.Optional(Type.Boolean({ description: 'Draw a new user for every iteration instead of once per client (default false, as E³).' })),
    thinkTimeMs: Type.Optional(
      Type.Object(
        {
          min: Type.Number({ minimum: 0, description: 'Shortest pause (ms).' }),
          max: Type.Number({ minimum: 0, description: 'Longest pause (ms); equal to min for a fixed pause.' }),
        },
        { description: "Closed model: the pause after each pass, uniform in [min, max], for jobs without their own thinkTime (default none). The open model ignores it." },
      ),
    ),
    startAt: Type.Optional(Type.Number({ description: 'Epoch ms to start at (barrier); default now.' })),
  },
  { description: 'Controller → agent: run the stage.' },
);

export const StopMessageSchema = Type.Object(
  {
    type: Type.Literal('stop', { description: 'Message type.' }),
    reason: Type.Optional(Type.String({ description: 'Why, for the log.' })),
  },
  { description: 'Controller → agent: end the stage now (in-flight operations get the grace period, then are cut).' },
);

export const ReadyMessageSchema = Type.Object(
  {
    type: Type.Literal('ready', { description: 'Message type.' }),
    jobs: Type.Array(Type.String(), { description: 'The resolved script name of each workload job.' }),
  },
  { description: 'Agent → controller: prepare succeeded.' },
);

export const TickMessageSchema = Type.Composite([Type.Object({ type: Type.Literal('tick', { description: 'Message type.' }) }), TickSchema], {
  description: 'Agent → controller: the last second.',
});

export const DoneMessageSchema = Type.Object(
  {
    type: Type.Literal('done', { description: 'Message type.' }),
    summary: StageSummarySchema,
  },
  { description: 'Agent → controller: the stage ended and samples.csv and summary.json are complete.' },
);

export const ErrorMessageSchema = Type.Object(
  {
    type: Type.Literal('error', { description: 'Message type.' }),
    code: Type.String({ description: 'E3 error code (E3_AGENT, E3_INVALID_FILE, …).' }),
    message: Type.String({ description: 'What went wrong.' }),
    hint: Type.Optional(Type.String({ description: 'What to do next.' })),
  },
  { description: 'Agent → controller: prepare or the stage failed; the agent stays up for another prepare.' },
);

export const LogMessageSchema = Type.Object(
  {
    type: Type.Literal('log', { description: 'Message type.' }),
    level: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')], { description: 'Severity.' }),
    message: Type.String({ description: 'The log line (never a secret).' }),
    t: Type.Number({ description: 'Epoch ms.' }),
  },
  { description: 'Agent → controller: a log line (also written to agent.log).' },
);

export const ControllerMessageSchema = Type.Union([PrepareMessageSchema, StartMessageSchema, StopMessageSchema], {
  description: 'A message from the controller to the agent.',
});
export const AgentMessageSchema = Type.Union(
  [HelloMessageSchema, ReadyMessageSchema, TickMessageSchema, DoneMessageSchema, ErrorMessageSchema, LogMessageSchema],
  { description: 'A message from the agent to the controller.' },
);

export type HelloMessage = Static<typeof HelloMessageSchema>;
export type PrepareMessage = Static<typeof PrepareMessageSchema>;
export type StartMessage = Static<typeof StartMessageSchema>;
export type StopMessage = Static<typeof StopMessageSchema>;
export type ReadyMessage = Static<typeof ReadyMessageSchema>;
export type TickMessage = Static<typeof TickMessageSchema>;
export type DoneMessage = Static<typeof DoneMessageSchema>;
export type ErrorMessage = Static<typeof ErrorMessageSchema>;
export type LogMessage = Static<typeof LogMessageSchema>;
export type ControllerMessage = Static<typeof ControllerMessageSchema>;
export type AgentMessage = Static<typeof AgentMessageSchema>;
