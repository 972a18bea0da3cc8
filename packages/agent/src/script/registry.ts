import { E3Error } from '@e3/model';

import { personaScripts } from '../library/persona.js';
import { scmScripts } from '../library/scm.js';
import { webScripts } from '../library/web.js';
import type { Script } from './api.js';

/** Every library script, by its E³ dotted name. */
export const LIBRARY: ReadonlyMap<string, Script> = new Map([...scmScripts, ...webScripts, ...personaScripts].map((s) => [s.name, s]));

/**
 * Finds a script: a user script by exact name, a library script by exact dotted name, else the only library
 * script whose name ends with `.<name>` (E³'s build-load workload writes `persona.HttpBuildAgent`).
 * Throws E3_INVALID_FILE naming the candidates when none or several match.
 */
export function resolveScript(name: string, userScripts: Readonly<Record<string, Script>> = {}): Script {
  const user = userScripts[name];
  if (user) return user;
  const exact = LIBRARY.get(name);
  if (exact) return exact;
  const matches = [...LIBRARY.keys()].filter((k) => k.endsWith('.' + name));
  if (matches.length === 1) return LIBRARY.get(matches[0]!)!;
  if (matches.length > 1) {
    throw new E3Error('INVALID_FILE', `workload script "${name}" is ambiguous: ${matches.join(', ')}`, {
      hint: `Write the full name in the workload file, e.g. "${matches[0]}".`,
    });
  }
  throw new E3Error('INVALID_FILE', `workload script "${name}" is not a library script nor a user script`, {
    hint: `Use one of: ${[...LIBRARY.keys()].join(', ')}; or name a .ts/.js file.`,
  });
}
