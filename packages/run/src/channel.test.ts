import { PassThrough } from 'node:stream';

import { describe, expect, it } from '@jest/globals';
import { AGENT_PROTOCOL_VERSION, exitCodeFor } from '@e3/model';
import type { SpawnedProcess } from '@e3/remote';

import { openChannel } from './channel.js';

/** A fake agent process: the test writes its stdout lines and reads what the controller sent. */
function fakeAgent() {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const proc: SpawnedProcess = { stdin, stdout, stderr, wait: async () => ({ code: 0 }), kill: () => stdout.end() };
  return { proc, say: (m: unknown) => stdout.write(`${typeof m === 'string' ? m : JSON.stringify(m)}\n`), end: () => stdout.end() };
}

const hello = { type: 'hello', protocol: AGENT_PROTOCOL_VERSION, version: '0.1.0', host: 'w1', cpus: 2, node: 'v20.0.0', pid: 42 };

describe('the controller end of an agent channel', () => {
  it('passes well-formed messages, and keeps a line that is not JSON as a log line', async () => {
    const agent = fakeAgent();
    const channel = openChannel(agent.proc, 'w1');
    const seen: string[] = [];
    channel.onMessage((m) => seen.push(m.type === 'log' ? `log ${m.message}` : m.type));
    agent.say('node: warning: something');
    agent.say(hello);
    expect(await channel.waitFor('hello')).toEqual(hello);
    agent.say({ type: 'ready', jobs: ['a.B'] });
    expect(await channel.waitFor('ready')).toEqual({ type: 'ready', jobs: ['a.B'] });
    expect(seen).toEqual(['log node: warning: something', 'hello', 'ready']);
  });

  it.each([
    ['a hello without its host', { ...hello, host: undefined }, /\/: must have required property 'host' \(a "hello" message\)/],
    ['a tick whose ops are not a list', { type: 'tick', t: 1, second: 0, active: 0, ops: 'many' }, /\/ops: must be array/],
    ['a message of no known type', { type: 'greeting' }, /\/type: must be one of hello, ready, tick, done, error, log; got "greeting"/],
    ['a JSON value that is no message', [1, 2], /\/type: must be one of/],
  ])('refuses %s with E3_AGENT, naming the worker and the field', async (_, message, problem) => {
    const agent = fakeAgent();
    const channel = openChannel(agent.proc, 'w1');
    const seen: unknown[] = [];
    channel.onMessage((m) => seen.push(m));
    agent.say(message);
    const err = await channel.waitFor('hello').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E3_AGENT', message: expect.stringMatching(/^agent on w1 sent a malformed message: /) });
    expect((err as Error).message).toMatch(problem);
    expect((err as { hint: string }).hint).toMatch(/--agent-bundle/);
    // Nothing after a malformed message is believed.
    agent.say(hello);
    await expect(channel.waitFor('hello')).rejects.toMatchObject({ code: 'E3_AGENT' });
    expect(seen).toEqual([]);
  });

  it('refuses an agent that speaks another protocol version with E3_AGENT_PROTOCOL (exit 3) and a hint', async () => {
    const agent = fakeAgent();
    const channel = openChannel(agent.proc, 'w1');
    agent.say({ ...hello, protocol: AGENT_PROTOCOL_VERSION + 1, version: '9.0.0' });
    const err = await channel.waitFor('hello').catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'E3_AGENT_PROTOCOL',
      message: `agent on w1 speaks control protocol ${AGENT_PROTOCOL_VERSION + 1} (agent 9.0.0), this e3 speaks ${AGENT_PROTOCOL_VERSION}`,
      hint: expect.stringMatching(/drop --agent-bundle/),
    });
    expect(exitCodeFor('E3_AGENT_PROTOCOL')).toBe(3);
  });

  it('refuses a hello that names no protocol at all (an agent older than the protocol field)', async () => {
    const agent = fakeAgent();
    const channel = openChannel(agent.proc, 'w1');
    agent.say({ ...hello, protocol: undefined });
    await expect(channel.waitFor('hello')).rejects.toMatchObject({ code: 'E3_AGENT_PROTOCOL', message: expect.stringContaining('speaks control protocol none') });
  });

  it("turns the agent's error message into E3_AGENT with its hint", async () => {
    const agent = fakeAgent();
    const channel = openChannel(agent.proc, 'w1');
    agent.say({ type: 'error', code: 'E3_INVALID_FILE', message: 'no such script', hint: 'Fix the workload' });
    await expect(channel.waitFor('ready')).rejects.toMatchObject({ code: 'E3_AGENT', message: 'agent on w1: no such script', hint: 'Fix the workload' });
  });

  it('rejects when the agent exits before the message comes', async () => {
    const agent = fakeAgent();
    const channel = openChannel(agent.proc, 'w1');
    agent.end();
    await expect(channel.waitFor('ready')).rejects.toMatchObject({ code: 'E3_AGENT', message: expect.stringContaining('exited before sending "ready"') });
  });
});
