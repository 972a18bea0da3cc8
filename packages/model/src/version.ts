/**
 * The e3 version: every package's version, written into phase files, reported by `--version` of every bin
 * and by the agent's hello. The one place it is spelled (a test checks each package.json agrees).
 */
export const E3_VERSION = '0.1.0';
