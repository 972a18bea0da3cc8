import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from '@jest/globals';

import { E3_VERSION } from './version.js';

const packages = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('E3_VERSION', () => {
  it('is the version in the package.json of every published package', () => {
    const manifests = readdirSync(packages).map((dir) => [dir, JSON.parse(readFileSync(join(packages, dir, 'package.json'), 'utf8')) as { version: string; private?: boolean }] as const);
    const versions = manifests.filter(([, m]) => m.private !== true).map(([dir, m]) => [dir, m.version]);
    expect(versions.length).toBeGreaterThan(10);
    expect(versions).toEqual(versions.map(([dir]) => [dir, E3_VERSION]));
  });
});
