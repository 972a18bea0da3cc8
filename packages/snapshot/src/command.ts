import { isAbsolute, relative } from 'node:path';

import { E3Error, resolveHome } from '@e3/model';
import { COMMAND_HELP, defineCommand, type OptionDef } from '@e3/model/cli';

import { addUsers } from './add-users.js';
import { keygen } from './keygen.js';
import type { KeyType } from './keys.js';
import { readSecret } from './secret.js';
import { snapshot } from './snapshot.js';
import type { Distribution } from './weights.js';

/** A number option: yargs gives NaN for garbage; refuse it with E3_USAGE. */
function num(flag: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new E3Error('USAGE', `--${flag} must be a number; got ${String(value)}`, { hint: `Run \`e3 ${flag} --help\`` });
  return n;
}

const server: Record<string, OptionDef> = {
  url: { type: 'string', description: 'Server base URL with its context path, e.g. http://localhost:7990/bitbucket', required: true },
  username: { type: 'string', description: 'Administrator user name', default: 'admin' },
  'password-env': { type: 'string', description: "Environment variable holding the administrator's password (prompted for on a terminal when absent)" },
};

/** `file` relative to the working directory when it is below it, else absolute. */
const show = (cwd: string, file: string): string => {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
};

interface SnapshotArgs {
  url: string;
  username: string;
  passwordEnv?: string;
  userPasswordEnv?: string;
  name: string;
  description?: string;
  maxProject: number;
  maxRepo: number;
  maxBranch: number;
  maxUser: number;
  distribution: Distribution;
  distributionFactor: number;
  seed: number;
  keyFile?: string;
  aws: boolean;
  pageSize: number;
  home?: string;
}

/** `e3 snapshot`: see {@link snapshot}. */
export const snapshotCommand = defineCommand<SnapshotArgs>({
  name: 'snapshot',
  description: COMMAND_HELP.snapshot,
  options: {
    ...server,
    name: { type: 'string', description: 'Snapshot name: writes e3-home/snapshots/<name>.json', required: true },
    description: { type: 'string', description: 'What the dataset is (default: the name)' },
    'max-project': { type: 'number', description: 'Most projects to read', default: 100 },
    'max-repo': { type: 'number', description: 'Most repositories to read per project', default: 100 },
    'max-branch': { type: 'number', description: 'Most branches to keep per repository', default: 5 },
    'max-user': { type: 'number', description: 'Most users to read', default: 500 },
    distribution: { type: 'string', description: 'Repository weights', choices: ['equal', 'exponential'], default: 'equal' },
    'distribution-factor': { type: 'number', description: 'Factor f of the truncated exponential (> 0)', default: 1 },
    seed: { type: 'number', description: 'Seed of the weight generator (same seed, same weights)', default: 42 },
    'key-file': { type: 'string', description: 'Key pool (name in e3-home/keys or a path): users whose registered SSH key is in it get its private key' },
    'user-password-env': { type: 'string', description: 'Environment variable holding the one password of every user (without it users act over SSH only)' },
    aws: { type: 'boolean', description: 'Add ebs/rds/es placeholders for AWS provisioning', default: false },
    'page-size': { type: 'number', description: 'Values per REST page', default: 100, hidden: true },
  },
  examples: [
    ['E3_ADMIN_PW=… e3 snapshot --url http://localhost:7990 --password-env E3_ADMIN_PW --name my-data --key-file my-keys --user-password-env E3_USER_PW', 'describe a server'],
  ],
  async run(args, ctx) {
    const password = (await readSecret({ varName: args.passwordEnv, flag: '--password-env', what: `password of ${args.username}`, env: ctx.env }))!;
    const userPassword = await readSecret({ varName: args.userPasswordEnv, flag: '--user-password-env', what: 'user password', env: ctx.env, optional: true });
    const r = await snapshot({
      url: args.url,
      username: args.username,
      password,
      userPassword,
      name: args.name,
      description: args.description,
      home: resolveHome({ home: args.home, cwd: ctx.cwd, env: ctx.env }),
      cwd: ctx.cwd,
      maxProject: num('max-project', args.maxProject),
      maxRepo: num('max-repo', args.maxRepo),
      maxBranch: num('max-branch', args.maxBranch),
      maxUser: num('max-user', args.maxUser),
      distribution: args.distribution,
      distributionFactor: num('distribution-factor', args.distributionFactor),
      seed: num('seed', args.seed),
      keyFile: args.keyFile,
      aws: args.aws,
      pageSize: num('page-size', args.pageSize),
      log: ctx.log,
      signal: ctx.signal,
    });
    const lines = [
      `wrote ${show(ctx.cwd, r.file!)}: ${r.projects} project(s), ${r.repos} repositories, ${r.httpUsers} HTTP user(s), ${r.sshUsers} SSH user(s)`,
    ];
    if (r.emptyRepos.length) lines.push(`left out ${r.emptyRepos.length} repositor${r.emptyRepos.length > 1 ? 'ies' : 'y'} without branches: ${r.emptyRepos.slice(0, 10).join(', ')}${r.emptyRepos.length > 10 ? ', …' : ''}`);
    if (r.skippedUsers.length) {
      lines.push(`left out ${r.skippedUsers.length} user(s) with neither a password nor a matching key: ${r.skippedUsers.slice(0, 10).map((u) => u.username).join(', ')}${r.skippedUsers.length > 10 ? ', …' : ''}`);
      lines.push('  give them a password with --user-password-env <VAR>, or register pool keys with `e3 add-users` and pass --key-file');
    }
    const { snapshot: _s, ...summary } = r;
    return { text: lines.join('\n'), data: summary };
  },
});

interface KeygenArgs {
  count: number;
  name: string;
  type: KeyType;
  force: boolean;
  home?: string;
}

/** `e3 keygen`: see {@link keygen}. */
export const keygenCommand = defineCommand<KeygenArgs>({
  name: 'keygen',
  description: COMMAND_HELP.keygen,
  options: {
    count: { type: 'number', description: 'Number of key pairs', default: 100 },
    name: { type: 'string', description: 'Pool name: writes e3-home/keys/<name>.json', required: true },
    type: { type: 'string', description: 'Key type (rsa is 2048 bits, as E³)', choices: ['ed25519', 'rsa'], default: 'ed25519' },
    force: { type: 'boolean', description: 'Replace an existing pool', default: false },
  },
  examples: [['e3 keygen --count 100 --name my-keys', '100 Ed25519 key pairs in e3-home/keys/my-keys.json']],
  async run(args, ctx) {
    const r = await keygen({
      count: num('count', args.count)!,
      name: args.name,
      type: args.type,
      force: args.force,
      home: resolveHome({ home: args.home, cwd: ctx.cwd, env: ctx.env }),
      log: ctx.log,
      signal: ctx.signal,
    });
    return { text: `wrote ${show(ctx.cwd, r.file)}: ${r.count} ${r.type} key pair(s)`, data: r };
  },
});

interface AddUsersArgs {
  url: string;
  username: string;
  passwordEnv?: string;
  userPasswordEnv?: string;
  count: number;
  keys: string;
  prefix: string;
  snapshot?: string;
  home?: string;
}

/** `e3 add-users`: see {@link addUsers}. */
export const addUsersCommand = defineCommand<AddUsersArgs>({
  name: 'add-users',
  description: COMMAND_HELP['add-users'],
  options: {
    ...server,
    count: { type: 'number', description: 'Number of users: <prefix>0 … <prefix><count-1>, user i gets key pair i', required: true },
    keys: { type: 'string', description: 'Key pool (name in e3-home/keys or a path)', required: true },
    prefix: { type: 'string', description: 'User-name prefix', default: 'user_' },
    'user-password-env': { type: 'string', description: 'Environment variable holding the password every created user gets (prompted for on a terminal when absent)' },
    snapshot: { type: 'string', description: 'Snapshot whose users receive the created users (default: the pool name)' },
  },
  examples: [['E3_ADMIN_PW=… E3_USER_PW=… e3 add-users --url http://localhost:7990 --password-env E3_ADMIN_PW --user-password-env E3_USER_PW --count 50 --keys my-keys', 'create user_0 … user_49']],
  async run(args, ctx) {
    const password = (await readSecret({ varName: args.passwordEnv, flag: '--password-env', what: `password of ${args.username}`, env: ctx.env }))!;
    const userPassword = (await readSecret({ varName: args.userPasswordEnv, flag: '--user-password-env', what: 'password for the new users', env: ctx.env }))!;
    const r = await addUsers({
      url: args.url,
      username: args.username,
      password,
      userPassword,
      count: num('count', args.count)!,
      keys: args.keys,
      prefix: args.prefix,
      snapshot: args.snapshot,
      home: resolveHome({ home: args.home, cwd: ctx.cwd, env: ctx.env }),
      cwd: ctx.cwd,
      log: ctx.log,
      event: ctx.event,
      signal: ctx.signal,
    });
    const { users, ...summary } = r;
    return {
      text: `${r.created.length} user(s) created, ${r.existing.length} already there, ${r.keysAdded} key(s) registered; wrote ${users.length} user(s) to ${show(ctx.cwd, r.file)}`,
      data: { ...summary, created: r.created.length, existing: r.existing.length, users: users.map((u) => u.username) },
    };
  },
});
