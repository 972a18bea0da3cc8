import { relative } from 'node:path';

import { EXIT, E3Error, FILE_KINDS, resolveHome, validateHome, validatePaths, type FileKind, type ValidationResult } from '@e3/model';
import { COMMAND_HELP, defineCommand } from '@e3/model/cli';

export interface ValidateArgs {
  paths?: string[];
  all?: boolean;
  kind?: FileKind;
  strict?: boolean;
}

export interface ValidateSummary {
  home: string;
  files: Array<{ file: string; kind: FileKind; errors: string[]; warnings: string[]; namedBy?: string }>;
  errors: number;
  warnings: number;
}

/** Validates the given files (or every file in e3-home with `all`) and returns every problem. Reads only. */
export async function validate(args: ValidateArgs & { home?: string; cwd?: string }): Promise<ValidateSummary> {
  const home = resolveHome({ home: args.home, cwd: args.cwd });
  const paths = args.paths ?? [];
  if (!args.all && paths.length === 0) {
    throw new E3Error('USAGE', 'nothing to validate: name files or folders, or pass --all', {
      hint: 'Run `e3 validate --all` to check every file in e3-home, or `e3 validate e3-home/experiments/<name>.json`',
    });
  }
  const results: ValidationResult[] =
    args.all && paths.length === 0 ? await validateHome(home, { strict: args.strict }) : await validatePaths(paths, { home, kind: args.kind, strict: args.strict });
  return {
    home,
    files: results.map(({ file, kind, errors, warnings, namedBy }) => ({ file, kind, errors, warnings, ...(namedBy ? { namedBy } : {}) })),
    errors: results.reduce((n, r) => n + r.errors.length, 0),
    warnings: results.reduce((n, r) => n + r.warnings.length, 0),
  };
}

export const validateCommand = defineCommand<ValidateArgs>({
  name: 'validate [paths..]',
  description: COMMAND_HELP.validate,
  positionals: { paths: { description: 'Files or folders to check', array: true } },
  options: {
    all: { type: 'boolean', description: 'Check every file in e3-home', default: false },
    strict: { type: 'boolean', description: 'Unknown fields (typos such as "clinets") are errors, not warnings', default: false },
    kind: { type: 'string', description: 'Kind of the named files, when their folder does not tell', choices: Object.keys(FILE_KINDS) },
  },
  examples: [
    ['e3 validate --all', 'check everything in e3-home'],
    ['e3 validate e3-home/experiments/local-demo.json', 'check one experiment and the files it names'],
  ],
  async run(args, ctx) {
    const summary = await validate({ ...args, cwd: ctx.cwd });
    const lines: string[] = [];
    for (const f of summary.files) {
      const name = relative(ctx.cwd, f.file) || f.file;
      const by = f.namedBy ? ` (named by ${f.namedBy.replace(/^\S+/, (x) => relative(ctx.cwd, x) || x)})` : '';
      if (f.errors.length === 0) lines.push(`ok    ${name}${by}${f.warnings.length ? ` (${f.warnings.length} warning${f.warnings.length > 1 ? 's' : ''})` : ''}`);
      else lines.push(`FAIL  ${name}${by}`);
      const shorten = (m: string) => (m.startsWith(`${f.file}: `) ? `${name}${m.slice(f.file.length)}` : m);
      for (const e of f.errors) lines.push(`  error    ${shorten(e)}`);
      for (const w of f.warnings) lines.push(`  warning  ${shorten(w)}`);
    }
    const failed = summary.files.filter((f) => f.errors.length > 0).length;
    lines.push('', `${summary.files.length} file(s) checked: ${failed} invalid, ${summary.errors} error(s), ${summary.warnings} warning(s)`);
    return { text: lines.join('\n'), data: summary, exitCode: summary.errors > 0 ? EXIT.invalid : EXIT.ok };
  },
});
