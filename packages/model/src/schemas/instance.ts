import { Type, type Static } from '@sinclair/typebox';

import { SchemaRef } from './common.js';

export const Instance = Type.Object(
  {
    $schema: SchemaRef,
    ClusterNodes: Type.Optional(
      Type.Array(Type.String({ pattern: '^(localhost|[^@\\s]+@[^@\\s:]+(:[0-9]+)?)$' }), {
        minItems: 1,
        description: 'Nodes: "localhost" (a local process) or "user@host[:port]" (SSH with <name>.pem). Every stack a thread uses needs it; network files (VPC, subnets) have none.',
      }),
    ),
    URL: Type.Optional(Type.String({ pattern: '^https?://', description: 'Bitbucket base URL with any context path, e.g. http://host:7990/bitbucket.' })),
    InternalURL: Type.Optional(
      Type.String({ pattern: '^https?://', description: 'e3: base URL the agents on the workers use (a load balancer inside the VPC); URL stays the one for people and the controller.' }),
    ),
    version: Type.Optional(
      Type.String({
        pattern: '^[0-9]+(\\.[0-9]+){0,3}$',
        description: "The server's Bitbucket version, e.g. \"7.21.0\"; library scripts pick their REST endpoints by it (below 8.0: E³'s legacy audit endpoint). Absent: 8.0 or later.",
      }),
    ),
    snapshot: Type.Optional(Type.String({ description: 'Dataset descriptor in e3-home/snapshots (without .json).' })),
    RunConfig: Type.Optional(
      Type.Object(
        {
          admin_password: Type.Optional(Type.String({ description: 'Password of the admin user (E³ field).' })),
          admin_user: Type.Optional(Type.String({ description: 'Admin user name; "admin" when absent.' })),
          network: Type.Optional(Type.String({ description: 'Network stack name (AWS).' })),
        },
        { additionalProperties: true, description: 'Provisioning settings; hand-written files need admin_password.' },
      ),
    ),
    Name: Type.Optional(Type.String({ description: 'Stack name.' })),
    StackId: Type.Optional(Type.String({ description: 'CloudFormation stack id.' })),
    KeyFile: Type.Optional(Type.String({ description: 'Private key for ClusterNodes; <name>.pem beside this file when absent.' })),
    FileServerConnectionString: Type.Optional(Type.String({ description: 'user@host of the Data Center file server.' })),
    HostKeys: Type.Optional(
      Type.Record(Type.String(), Type.String(), { description: 'SSH host keys pinned on first contact: node → "type base64".' }),
    ),
    restartCommand: Type.Optional(Type.String({ description: "Command that restarts the server on each cluster node; E³'s `sudo service atlbitbucket restart` when absent." })),
    healthUrl: Type.Optional(Type.String({ description: 'URL polled until {"state":"RUNNING"}; <URL>/status when absent.' })),
    logDirs: Type.Optional(Type.Array(Type.String(), { description: "Server log folders to gather; Bitbucket's default when absent." })),
    SshPort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: "Bitbucket's SSH port for git; 7999 when absent." })),
    SshHost: Type.Optional(Type.String({ description: "Host for git over SSH when it differs from URL's host." })),
    DirectURL: Type.Optional(Type.String({ pattern: '^https?://', description: 'A node reached directly, bypassing the load balancer (the *HttpDirect scripts).' })),
    JmxPort: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 65535, description: "Bitbucket's JMX port on each cluster node (collectd's GenericJMX reads it; E³ used 3333); `e3 nodes check` checks it answers when set." }),
    ),
    dataDir: Type.Optional(Type.String({ description: "e3's working folder on the nodes; /tmp/e3 when absent." })),
    reset: Type.Optional(
      Type.Union([Type.Literal('restart'), Type.Literal('restore'), Type.Literal('none')], {
        description:
          'How the instance is reset before each stage: restart (restartCommand on each cluster node, then wait for health), restore (POST <URL>/rest/e3/1.0/state/restore, the local target), none. Default: restart when restartCommand is set or the stack was provisioned (StackId), otherwise none.',
      }),
    ),
    healthTimeoutMs: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'How long to wait for health after a reset, ms (default 600000).' })),
  },
  { additionalProperties: true, description: 'An instance file (E³ format): e3-home/instances/<name>.json, for a system under test or a worker cluster.' },
);
export type Instance = Static<typeof Instance>;
