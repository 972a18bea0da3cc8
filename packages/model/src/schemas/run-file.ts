import { Type, type Static } from '@sinclair/typebox';

import { Experiment } from './experiment.js';

/**
 * The run file `runs/<run>/<run>.json`: the experiment as it was run, with `run_name`, and on each thread
 * `instance.stack` / `worker.stack` holding a copy of the instance file used (so later phases work after
 * deprovision). E³ run files (no formatVersion) read as version 1.
 */
export const RunFile = Type.Intersect(
  [
    Experiment,
    Type.Object({
      run_name: Type.Optional(
        Type.String({ minLength: 1, description: 'The run name: <experiment>-<UTC yyyymmddThhmmssZ> (E³: local time with colons); the run folder name when absent (a run file written by hand).' }),
      ),
      experiment: Type.Optional(Type.String({ description: 'Name of the experiment file the run came from.' })),
      formatVersion: Type.Optional(Type.Integer({ minimum: 1, description: 'Run-directory format version; 1 when absent (E³).' })),
      createdAt: Type.Optional(Type.String({ description: 'When the run was created (ISO 8601).' })),
    }),
  ],
  { description: 'The run file: the experiment plus run_name and the resolved stacks (E³ layout).' },
);
export type RunFile = Static<typeof RunFile>;
