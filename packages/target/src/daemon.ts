import { startTarget, type StartTargetOptions } from './target.js';

/**
 * Entry of a detached target (`e3 target start --detach`): reads StartTargetOptions as JSON on stdin, starts,
 * and closes cleanly on SIGTERM/SIGINT. Output goes to the log file the parent opened.
 */
async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const options = JSON.parse(Buffer.concat(chunks).toString('utf8')) as StartTargetOptions;
  const target = await startTarget(options);
  process.stderr.write(`${new Date().toISOString()} target running at ${target.url} (ssh port ${target.sshPort})\n`);
  const stop = (): void => {
    void target.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${new Date().toISOString()} target failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
