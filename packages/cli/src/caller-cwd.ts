/**
 * The directory the user ran e3 from. pnpm runs the repository's `pnpm e3` script from the repository root
 * and passes the caller's directory as INIT_CWD; only then (that script of that package) is INIT_CWD used,
 * so that e3 started by any other script (a test run under `pnpm test`) keeps its own directory.
 */
export function callerCwd(env: NodeJS.ProcessEnv, cwd: string): string {
  const viaScript = env.npm_lifecycle_event === 'e3' && env.npm_package_name === 'e3-monorepo';
  return viaScript && env.INIT_CWD ? env.INIT_CWD : cwd;
}
