/**
 * Every SSH command first prints its session's pid (the process group sshd gave it) on stderr, so that
 * kill and timeout reach the whole group: OpenSSH refuses `signal` requests on root sessions.
 */
const PID_MARK = 'E3PID';
export function withPidMark(line: string): string {
  return `printf '${PID_MARK} %s\\n' $$ >&2; ${line}`;
}

/** Takes the pid line out of a stderr stream; everything else goes to `forward`. */
export function pidSniffer(onPid: (pid: number) => void, forward: (chunk: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer | undefined = Buffer.alloc(0);
  return (chunk) => {
    if (pending === undefined) return forward(chunk);
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      const nl = pending.indexOf(10);
      if (nl < 0) {
        if (pending.length > 65536) {
          forward(pending);
          pending = undefined;
        }
        return;
      }
      const line = pending.subarray(0, nl).toString('latin1');
      const rest = pending.subarray(nl + 1);
      const m = new RegExp(`^${PID_MARK} (\\d+)$`).exec(line);
      if (m) {
        onPid(Number(m[1]));
        pending = undefined;
        if (rest.length > 0) forward(rest);
        return;
      }
      forward(pending.subarray(0, nl + 1));
      pending = rest;
    }
  };
}
