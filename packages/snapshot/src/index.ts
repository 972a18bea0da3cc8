/**
 * Builds a dataset descriptor from a live Bitbucket (every list paged, up to the maxima) and writes
 * `e3-home/snapshots/<name>.json` (mode 0600). Throws E3_USAGE, E3_HTTP (401/403 name the user and URL),
 * E3_ENVIRONMENT (unreachable server, no project or repository with branches), E3_FILE_NOT_FOUND / E3_INVALID_FILE (key pool).
 */
export { snapshot, type SnapshotOptions, type SnapshotResult, type SkippedUser } from './snapshot.js';
/** Generates an SSH key pool (E³ keys format) in `e3-home/keys/<name>.json`, mode 0600. Throws E3_USAGE, E3_IO. */
export { keygen, type KeygenOptions, type KeygenResult } from './keygen.js';
/**
 * Creates users and registers one pool key each through the REST API (idempotent), then merges them into
 * `e3-home/snapshots/<snapshot>.json`. Throws E3_USAGE, E3_HTTP, E3_ENVIRONMENT, E3_FILE_NOT_FOUND, E3_INVALID_FILE.
 */
export { addUsers, type AddUsersOptions, type AddUsersResult } from './add-users.js';
/** One SSH key pair in E³'s format (`ed25519`: OpenSSH private key; `rsa`: 2048-bit PKCS#1 PEM). */
export { generateKeyPair, type KeyPair, type KeyType } from './keys.js';
/** The `e3 snapshot`, `e3 keygen` and `e3 add-users` command definitions. */
export { snapshotCommand, keygenCommand, addUsersCommand } from './command.js';
