import { E3Error } from '../errors/e3-error.js';

/** True when a workload `script` names a file (a user script) rather than a library script. */
export function isUserScriptPath(script: string): boolean {
  return /\.(m?[jt]s|cjs)$/.test(script);
}

/**
 * Bundles a user script file (TypeScript or JavaScript, with its imports) into one ESM source string with
 * esbuild; `@e3/agent` imports resolve to a tiny shim (`defineScript`). Run on the controller or wherever
 * esbuild is installed; the string travels in the `prepare` message's `scripts`.
 * Throws E3_INVALID_FILE when the file does not build.
 */
export async function bundleUserScript(file: string): Promise<string> {
  const esbuild = await import('esbuild');
  try {
    const out = await esbuild.build({
      entryPoints: [file],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'silent',
      plugins: [
        {
          name: 'e3-agent-shim',
          setup(build) {
            build.onResolve({ filter: /^@e3\/agent$/ }, () => ({ path: 'e3-agent-shim', namespace: 'e3' }));
            build.onLoad({ filter: /.*/, namespace: 'e3' }, () => ({ contents: 'export const defineScript = (s) => s;', loader: 'js' }));
          },
        },
      ],
    });
    return out.outputFiles[0]!.text;
  } catch (err) {
    throw new E3Error('INVALID_FILE', `could not bundle the user script ${file}: ${(err as Error).message.split('\n')[0]}`, {
      cause: err,
      hint: `Fix ${file}; it must export a script made with defineScript (see docs/agent.md#script-api).`,
    });
  }
}
