import { defineScript, type Script, type ScriptContext } from '../script/api.js';
import { login, logout } from './helpers.js';
import { cloneOnce, lsRemoteOnce } from './scm.js';
import { dashboard, pullRequestWorkflow } from './web.js';

/** E³ persona/DeveloperUsingPullRequests: log in, Dashboard without login, PullRequestWorkflow as the same user, log out. */
const developer = defineScript({
  name: 'bitbucket.persona.DeveloperUsingPullRequests',
  async run(ctx: ScriptContext) {
    const user = ctx.data.httpUser(ctx.random);
    await login(ctx, user);
    await dashboard(ctx, false);
    await pullRequestWorkflow(ctx, false, user);
    await logout(ctx);
  },
});

/**
 * E³ persona/base/BuildAgent: poll (ls-remote) on every 5 s wall-clock boundary and clone on every 30 s one
 * (job options `pollSeconds`, `cloneSeconds`). E³ fired every agent at the same instant; with the job option
 * `"spread": true` each client gets its own phase. Waiting is think time, not measured.
 */
function buildAgent(name: string, transport: 'ssh' | 'http'): Script {
  return defineScript({
    name,
    async run(ctx: ScriptContext) {
      const pollMs = typeof ctx.options.pollSeconds === 'number' ? ctx.options.pollSeconds * 1000 : 5000;
      const cloneMs = typeof ctx.options.cloneSeconds === 'number' ? ctx.options.cloneSeconds * 1000 : 30_000;
      const phase = ctx.options.spread === true ? (ctx.client * 997) % cloneMs : 0;
      const t = Date.now() - phase;
      const poll = pollMs - (t % pollMs);
      const clone = cloneMs - (t % cloneMs);
      if (clone <= poll) {
        await ctx.sleep(clone);
        await cloneOnce(ctx, transport);
      } else {
        await ctx.sleep(poll);
        await lsRemoteOnce(ctx, transport);
      }
    },
  });
}

export const personaScripts: Script[] = [
  developer,
  buildAgent('bitbucket.persona.SshBuildAgent', 'ssh'),
  buildAgent('bitbucket.persona.HttpBuildAgent', 'http'),
];
