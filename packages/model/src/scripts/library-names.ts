/**
 * The dotted names of the agent's library scripts, so files can be checked without loading the agent
 * (@e3/model must not import @e3/agent). The agent's registry test keeps this list equal to its LIBRARY.
 */
export const LIBRARY_SCRIPT_NAMES: readonly string[] = [
  'bitbucket.persona.DeveloperUsingPullRequests',
  'bitbucket.persona.HttpBuildAgent',
  'bitbucket.persona.SshBuildAgent',
  'bitbucket.scm.GitCloneOverHttp',
  'bitbucket.scm.GitCloneOverHttpDirect',
  'bitbucket.scm.GitCloneOverSsh',
  'bitbucket.scm.GitLsRemoteHttp',
  'bitbucket.scm.GitLsRemoteHttpDirect',
  'bitbucket.scm.GitLsRemoteSsh',
  'bitbucket.scm.PushChangesHttp',
  'bitbucket.scm.PushChangesHttpDirect',
  'bitbucket.scm.PushChangesSsh',
  'bitbucket.web.Audit',
  'bitbucket.web.BrowseProjectsAndRepositories',
  'bitbucket.web.Dashboard',
  'bitbucket.web.ListPullRequests',
  'bitbucket.web.ListUsers',
  'bitbucket.web.PullRequestWorkflow',
  'bitbucket.web.Status',
  'bitbucket.web.ViewPullRequest',
];

/** The library script a workload `script` names: exact, else the only name ending in `.<script>` (as the agent resolves). */
export function libraryScriptName(script: string): string | undefined {
  if (LIBRARY_SCRIPT_NAMES.includes(script)) return script;
  const matches = LIBRARY_SCRIPT_NAMES.filter((n) => n.endsWith(`.${script}`));
  return matches.length === 1 ? matches[0] : undefined;
}

/** Templates the providers e3 ships know, by part (AWS CloudFormation templates and the local target). */
export const KNOWN_TEMPLATES = {
  instance: ['local', 'BitbucketServer', 'BitbucketDataCenter'],
  worker: ['local', 'WorkerCluster'],
} as const;
