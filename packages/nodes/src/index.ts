/**
 * Check the nodes of instance files (or of an experiment) against e3's requirements; changes nothing on the
 * nodes (pins host keys on first contact). Reads e3-home/instances, e3-home/experiments, e3-home/config.
 */
export { checkNodes, DEFAULT_RESTART_COMMAND, type CheckResult, type NodeReport, type NodesOptions } from './check.js';
/** Install and configure what the check finds missing; idempotent; `dryRun` prints the plan. */
export { setupNodes, type NodeSetup, type SetupOptions, type SetupResult } from './setup.js';
/** The steps setup plans for one probed node (pure), and the Node version it installs. */
export { planSetup, NODE_VERSION, type PlanContext, type SetupStep } from './plan.js';
/** The read-only probe of a node and the clock offset measurement. */
export { clockOffset, parseProbe, probeNode, probeScript, type Probe } from './probe.js';
/** Requirements judged from a probe, and the limits they use. */
export { DEFAULT_LIMITS, evaluateProbe, flavourOf, passes, type CollectdFlavour, type Limits, type NodeContext, type NodeRole, type Requirement } from './requirements.js';
/** Instance files named by -i / -e, and e3's collectd configs (e3-home/config/collectd-{worker,bitbucket}.conf). */
export { collectdConfig, resolveTargets, roleOf, type CollectdConfig, type InstanceTarget } from './targets.js';
/** The `e3 nodes` command (`check`, `setup`) and its text renderers. */
export { formatCheck, formatSetup, nodesCommand } from './command.js';
