import { describe, expect, it } from '@jest/globals';
import { LIBRARY_SCRIPT_NAMES, libraryScriptName } from '@e3/model';

import { defineScript } from './api.js';
import { LIBRARY, resolveScript } from './registry.js';

const E3_SCRIPTS = [
  'bitbucket.scm.GitCloneOverSsh', 'bitbucket.scm.GitCloneOverHttp', 'bitbucket.scm.GitCloneOverHttpDirect',
  'bitbucket.scm.GitLsRemoteSsh', 'bitbucket.scm.GitLsRemoteHttp', 'bitbucket.scm.GitLsRemoteHttpDirect',
  'bitbucket.scm.PushChangesSsh', 'bitbucket.scm.PushChangesHttp', 'bitbucket.scm.PushChangesHttpDirect',
  'bitbucket.web.Dashboard', 'bitbucket.web.BrowseProjectsAndRepositories', 'bitbucket.web.ListPullRequests', 'bitbucket.web.Audit',
  'bitbucket.web.ListUsers', 'bitbucket.web.ViewPullRequest', 'bitbucket.web.PullRequestWorkflow', 'bitbucket.web.Status',
  'bitbucket.persona.DeveloperUsingPullRequests', 'bitbucket.persona.SshBuildAgent', 'bitbucket.persona.HttpBuildAgent',
];

describe('resolveScript', () => {
  it('has every E³ Bitbucket script under its dotted name', () => {
    expect([...LIBRARY.keys()].sort()).toEqual([...E3_SCRIPTS].sort());
    for (const name of E3_SCRIPTS) expect(resolveScript(name).name).toBe(name);
  });

  it("equals @e3/model's LIBRARY_SCRIPT_NAMES (what `e3 validate` checks workloads against), and resolves alike", () => {
    expect([...LIBRARY.keys()].sort()).toEqual([...LIBRARY_SCRIPT_NAMES].sort());
    for (const name of ['persona.HttpBuildAgent', 'GitCloneOverSsh', 'bitbucket.web.Status']) expect(libraryScriptName(name)).toBe(resolveScript(name).name);
  });

  it("resolves a unique suffix such as build-load's persona.HttpBuildAgent", () => {
    expect(resolveScript('persona.HttpBuildAgent').name).toBe('bitbucket.persona.HttpBuildAgent');
    expect(resolveScript('GitCloneOverSsh').name).toBe('bitbucket.scm.GitCloneOverSsh');
  });

  it('prefers user scripts and rejects unknown names with E3_INVALID_FILE', () => {
    const mine = defineScript({ name: 'mine', run: async () => undefined });
    expect(resolveScript('scripts/mine.ts', { 'scripts/mine.ts': mine })).toBe(mine);
    expect(() => resolveScript('bitbucket.scm.Nope')).toThrow(expect.objectContaining({ code: 'E3_INVALID_FILE' }));
  });
});
