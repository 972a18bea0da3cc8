/** The agent version, reported in hello and summary.json. */
export const AGENT_VERSION = '0.1.0';
