/** Reach a node: connect (localhost or SSH with host-key pinning), or a pool of connections. */
export { connectNode, createNodePool, type ConnectNodeOptions, type NodePool } from './connect.js';
/** The host-key policy of a connection: pinned key, first-contact callback, or insecure. */
export type { HostKeyPolicy } from './ssh.js';
/** What a node handle offers: exec, spawn, SFTP-style file access, close. */
export type { DirEntry, ExecOptions, ExecResult, FileStat, NodeHandle, SpawnedProcess, SpawnOptions, SshAccess } from './types.js';
/** Parse `localhost` / `user@host[:port]`; quote words and build shell lines for nodes. */
export { parseNode, shellLine, shellQuote, type NodeSpec } from './node-spec.js';
/** SSH host keys: `"type base64"` form and OpenSSH SHA256 fingerprints. */
export { fingerprint, formatHostKey, parseHostKey } from './host-key.js';
/** Instance files: connect options from `KeyFile`/`<name>.pem` and `HostKeys`, pin-on-first-contact writes. */
export { instanceConnectOptions, instanceKeyFile, pinHostKey, type InstanceConnectOptions } from './instance.js';
/** Incremental folder sync between the controller and a node (rsync over SSH, or SFTP by size+mtime). */
export { syncDir, type SyncDirOptions, type SyncEnd, type SyncedFile, type SyncResult } from './sync.js';
/** Long-running processes on a node, tracked by pid file (process group = pid). */
export { isRunning, startDetached, stopByPidFile, type StartDetachedOptions } from './process-control.js';
/** Glob matching as used by syncDir filters. */
export { globMatcher } from './glob.js';
/** Connections to the nodes of a thread's stacks, with keys and host keys from their instance files. */
export { createStackConnector, type StackConnector, type StackConnectorOptions } from './stack.js';
