/**
 * The one-line description of every e3 command, shown by `e3 --help` (which lists commands without loading
 * their packages) and by each command's own `--help`. Each command definition takes its description from here.
 */
export const COMMAND_HELP = {
  demo: "A full local experiment against e3's embedded Bitbucket-compatible target: seed, run, gather, analyze, report",
  orchestrate: 'Provision, run, gather, analyze and deprovision an experiment in one go',
  provision: 'Create the machines of an experiment (a local target, AWS stacks, or checked bring-your-own instance files) and the run directory',
  nodes: 'Bring-your-own machines: check them (SSH, git, Node, data dir, clock, collectd, …) and set them up',
  run: "Run every thread's stages of a provisioned run on its workers, with live progress",
  gather: "Copy a run's samples, agent logs, metrics and server logs from every node into the run dir (incremental; safe while the run goes on)",
  analyze:
    'Aggregate the samples of a run, draw every chart, write analysis/report.html and summary.json, and check thresholds (exit 5 when one fails)',
  compare:
    'Compare contender runs with baseline runs (replicates judged against their run-to-run spread): per thread, stage, test and op the throughput, error rate and latency percentiles, per thread the peak and break point; flags one-sided significant changes beyond tolerance',
  deprovision: 'Delete the machines of a run (everything its ledger records) and archive it, or delete stacks by name, owner or expiry',
  validate: 'Check e3-home files (experiments, workloads, instances, snapshots, keys, runs) and print every problem',
  list: 'List experiments, workloads, snapshots, keys, instances or runs in e3-home',
  agent: 'The load agent: run one stage locally, or sample /proc into collectd CSV',
  target: 'A local Bitbucket-compatible git host for demos and tests: start, stop, seed, save-state, restore-state',
  snapshot: 'Write a dataset descriptor (snapshots/<name>.json) from a live Bitbucket: projects, repos, branches, users',
  keygen: 'Generate an SSH key pool (keys/<name>.json, E³ format, mode 0600)',
  'add-users': 'Create users on a Bitbucket, register a pool key for each, and write them as snapshot users',
} as const;

export type CommandWord = keyof typeof COMMAND_HELP;
