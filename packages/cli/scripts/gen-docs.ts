/** Writes docs/cli.md and docs/errors.md from the command definitions and the error catalogue. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { commands } from '../src/commands.js';
import { renderCliDocs, renderErrorDocs } from '../src/docs.js';

const docs = fileURLToPath(new URL('../../../docs/', import.meta.url));
writeFileSync(`${docs}cli.md`, await renderCliDocs(commands));
writeFileSync(`${docs}errors.md`, renderErrorDocs());
process.stdout.write('wrote docs/cli.md and docs/errors.md\n');
