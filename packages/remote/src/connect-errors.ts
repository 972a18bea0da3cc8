import { E3Error } from '@e3/model';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EADDRNOTAVAIL']);

/** Maps an ssh2 connection error to E3_NODE_AUTH, E3_NODE_TIMEOUT or E3_NODE_UNREACHABLE, naming the node. */
export function connectError(node: string, err: Error & { level?: string; code?: string }, context: { keyFile?: string; readyTimeoutMs: number }): E3Error {
  const key = context.keyFile ?? 'the private key';
  if (err.level === 'client-authentication') {
    return new E3Error('NODE_AUTH', `${node}: SSH authentication failed with ${key}`, {
      cause: err,
      hint: `Check that ${key} is authorized for this user on the node (try \`ssh -i ${key} ${node.replace(/:\d+$/, '')}\`) or fix ClusterNodes in the instance file`,
    });
  }
  if (err.level === 'client-timeout' || err.code === 'ETIMEDOUT') {
    return new E3Error('NODE_TIMEOUT', `${node}: no SSH handshake within ${context.readyTimeoutMs} ms`, {
      cause: err,
      hint: 'Check that the node is up and that port 22 (or the port in ClusterNodes) is open to this machine',
    });
  }
  const why = err.code && NETWORK_CODES.has(err.code) ? err.code : err.message;
  return new E3Error('NODE_UNREACHABLE', `${node}: could not connect over SSH (${why})`, {
    cause: err,
    hint: 'Check the address in the instance file\'s ClusterNodes, that the node is running sshd, and that this machine can reach it',
  });
}
