import { gzipSync } from 'node:zlib';

/**
 * Building blocks of e3's CloudFormation templates: plain JSON objects, no CDK. Each template module
 * returns a whole template object; `scripts/gen-templates.ts` writes it as JSON (2-space indent).
 */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export const ref = (name: string): JsonObject => ({ Ref: name });
export const getAtt = (resource: string, attribute: string): JsonObject => ({ 'Fn::GetAtt': [resource, attribute] });
export const ifThen = (condition: string, then: Json, otherwise: Json = ref('AWS::NoValue')): JsonObject => ({ 'Fn::If': [condition, then, otherwise] });
export const notEmpty = (parameter: string): JsonObject => ({ 'Fn::Not': [{ 'Fn::Equals': [ref(parameter), ''] }] });
export const equals = (parameter: string, value: string): JsonObject => ({ 'Fn::Equals': [ref(parameter), value] });
export const sub = (text: string): JsonObject => ({ 'Fn::Sub': text });

/** The four ingress CIDR parameters: e3 passes the controller's /32 first, then allowCidrs. */
export const CIDR_PARAMETERS = ['CidrBlock', 'CidrBlock2', 'CidrBlock3', 'CidrBlock4'] as const;
const CIDR = '[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}';

export function cidrParameters(what: string): JsonObject {
  const out: JsonObject = {
    CidrBlock: {
      Type: 'String',
      AllowedPattern: `^${CIDR}$`,
      Description: `Addresses allowed to reach ${what}: e3 passes the controller's own address (/32). No default: nothing is open to the world unless asked.`,
    },
  };
  for (const p of CIDR_PARAMETERS.slice(1)) {
    out[p] = { Type: 'String', Default: '', AllowedPattern: `^$|^${CIDR}$`, Description: `Another CIDR allowed in the same way (experiment allowCidrs, --allow-cidr); empty: none.` };
  }
  return out;
}

export function cidrConditions(): JsonObject {
  return Object.fromEntries(CIDR_PARAMETERS.slice(1).map((p) => [`Has${p}`, notEmpty(p)]));
}

/** Inline ingress rules: each port from every CidrBlock (the optional ones behind their condition). */
export function cidrIngress(ports: number[]): Json[] {
  const rule = (port: number, cidr: string): JsonObject => ({ IpProtocol: 'tcp', FromPort: port, ToPort: port, CidrIp: ref(cidr) });
  return ports.flatMap((port) => CIDR_PARAMETERS.map((p, i) => (i === 0 ? rule(port, p) : ifThen(`Has${p}`, rule(port, p)))));
}

/** Inline ingress rules from one CIDR parameter (the VPC's). */
export const vpcIngress = (ports: number[], cidr = 'VpcCidr'): Json[] => ports.map((port) => ({ IpProtocol: 'tcp', FromPort: port, ToPort: port, CidrIp: ref(cidr) }));

/** Ingress rules from another security group. */
export const groupIngress = (ports: Array<number | [number, number]>, group: string): Json[] =>
  ports.map((p) => ({ IpProtocol: 'tcp', FromPort: Array.isArray(p) ? p[0] : p, ToPort: Array.isArray(p) ? p[1] : p, SourceSecurityGroupId: getAtt(group, 'GroupId') }));

export const IMAGE_PARAMETER: JsonObject = {
  ImageId: {
    Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>',
    Default: '/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id',
    Description: 'AMI (an SSM parameter): Ubuntu 22.04 LTS.',
  },
};

export const VPC_CIDR_PARAMETER: JsonObject = {
  VpcCidr: {
    Type: 'String',
    Default: '10.0.0.0/16',
    AllowedPattern: `^${CIDR}$`,
    Description: "The VPC's CIDR (the shipped PublicNetwork's): the workers reach Bitbucket from inside it, privately.",
  },
};

export const BITBUCKET_VERSION_PARAMETER: JsonObject = {
  BitbucketVersion: {
    Type: 'String',
    Default: '9.4.5',
    AllowedPattern: '^\\d+\\.\\d+\\.\\d+$',
    Description: 'Bitbucket Data Center release installed from product-downloads.atlassian.com (a current 9.x LTS by default). The node gets the Java the release needs: 8 for 4.x–6.x, 11 for 7.x, 17 for 8.x and later; e3 is built and checked for 8.0 and later.',
  },
};

export const BITBUCKET_PARAMETERS: JsonObject = {
  ...BITBUCKET_VERSION_PARAMETER,
  BitbucketProperties: { Type: 'String', Default: '', Description: 'Comma-separated key=value lines appended to bitbucket.properties (e3 passes the experiment properties and jmx.enabled=true).' },
  CatalinaOpts: { Type: 'String', Default: '', Description: "JVM arguments, set as JVM_SUPPORT_RECOMMENDED_ARGS (Bitbucket 5 and later ignore CATALINA_OPTS); e3 passes JMX on 127.0.0.1:3333 for collectd." },
  JvmHeap: { Type: 'String', Default: '4g', AllowedPattern: '^[0-9]+[mg]$', Description: "Bitbucket's JVM heap (JVM_MINIMUM_MEMORY and JVM_MAXIMUM_MEMORY)." },
  StartCollectd: { Type: 'String', Default: 'true', AllowedValues: ['true', 'false'], Description: "Run collectd with e3's bitbucket config (CSV and RRD, JMX from 127.0.0.1:3333)." },
  AssociatePublicIpAddress: { Type: 'String', Default: 'true', AllowedValues: ['true', 'false'], Description: 'Give the Bitbucket machines public addresses.' },
  KeyName: { Type: 'AWS::EC2::KeyPair::KeyName', Description: 'EC2 key pair for SSH as ubuntu (e3 creates one named after the stack).' },
  VPC: { Type: 'AWS::EC2::VPC::Id', Description: 'VPC of the network stack.' },
  HomeVolumeSnapshotId: { Type: 'String', Default: '', AllowedPattern: '^$|^snap-[0-9a-f]+$', Description: "EBS snapshot of a Bitbucket home (the snapshot descriptor's ebs.<region>); empty: an empty home." },
};

/** Volume type words: E³'s ("Provisioned IOPS", "General Purpose (SSD)") or EBS's own. */
export function volumeTypeParameter(what: string): JsonObject {
  return { Type: 'String', Default: 'General Purpose (SSD)', AllowedValues: ['Provisioned IOPS', 'General Purpose (SSD)', 'io1', 'io2', 'gp3'], Description: `${what} volume type: "Provisioned IOPS" is io1, "General Purpose (SSD)" gp3.` };
}

export function volumeTypeConditions(parameter: string): JsonObject {
  return { [`${parameter}IsPiops`]: equals(parameter, 'Provisioned IOPS'), [`${parameter}IsGp`]: equals(parameter, 'General Purpose (SSD)') };
}

export const volumeType = (parameter: string): JsonObject => ifThen(`${parameter}IsPiops`, 'io1', ifThen(`${parameter}IsGp`, 'gp3', ref(parameter)));

/** The e3 collectd config, gzip+base64 (deterministic: no mtime in the header). */
export function embedConfig(config: string): string {
  return gzipSync(Buffer.from(config), { level: 9 }).toString('base64');
}

/**
 * The start of every UserData script: strict bash, apt, cfn-bootstrap, and `signal <code>` (cfn-signal
 * for `resource`); any failing command signals failure.
 */
export function prelude(resource: string): string {
  return `#!/bin/bash
set -euxo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3-pip curl
pip3 install https://s3.amazonaws.com/cloudformation-examples/aws-cfn-bootstrap-py3-latest.tar.gz
signal() { cfn-signal -e "$1" --stack \${AWS::StackName} --resource ${resource} --region \${AWS::Region}; }
trap 'signal 1' ERR
# One atlbitbucket user, the same uid on every machine: the shared home is NFS.
groupadd --gid 2001 atlbitbucket
useradd --uid 2001 --gid 2001 --system --no-create-home --home-dir /var/atlassian/application-data/bitbucket --shell /bin/bash atlbitbucket
`;
}

/** The first block device that is not the root disk (EBS volumes show up as NVMe on Nitro machines). */
export const DATA_DEVICE = `dev=$(lsblk -dpno NAME,TYPE | awk '$2 == "disk" {print $1}' | { grep -v -e nvme0n1 -e xvda -e sda || true; } | head -n1)
dev=\${!dev:-/dev/xvdf}
blkid "$dev" || mkfs -t ext4 "$dev"
mkdir -p /media/atl
mount "$dev" /media/atl
echo "$dev /media/atl ext4 defaults,nofail 0 2" >> /etc/fstab
`;

/**
 * The Java the release needs (Bitbucket 4–6: 8; 7: 11; 8 and later: 17) in \$java_home, git, and collectd
 * with e3's bitbucket config (its java plugin finds that libjvm through ld.so.conf.d).
 */
export function javaGitCollectd(collectdConfig: string): string {
  return `release=\${BitbucketVersion}
major=\${!release%%.*}
if [ "$major" -lt 7 ]; then java=8; elif [ "$major" -lt 8 ]; then java=11; else java=17; fi
apt-get install -y --no-install-recommends "openjdk-$java-jre-headless" git
java_home=/usr/lib/jvm/java-$java-openjdk-amd64
dirname "$(find "$java_home/" -name libjvm.so -path '*server*' | head -n 1)" > /etc/ld.so.conf.d/e3-libjvm.conf
ldconfig
# e3's bitbucket collectd config, embedded gzip+base64 from e3-home/config/collectd-bitbucket.conf by \`pnpm gen:templates\`
mkdir -p /etc/collectd /var/lib/collectd/csv /var/lib/collectd/rrd
echo ${embedConfig(collectdConfig)} | base64 -d | gunzip > /etc/collectd/collectd.conf
apt-get install -y --no-install-recommends collectd-core librrd8
if [ "\${StartCollectd}" = true ]; then systemctl enable collectd; systemctl restart collectd; else systemctl disable --now collectd; fi
`;
}

/**
 * Bitbucket \${BitbucketVersion} in /opt/atlassian/bitbucket, run by systemd unit \`atlbitbucket\` as user
 * atlbitbucket with BITBUCKET_HOME=$home (a shell variable set before), heap, JVM arguments and \`extraEnv\`.
 */
export function installBitbucket(startArgs: string, extraEnv = ''): string {
  return `mkdir -p /opt/atlassian/bitbucket
curl -fsSL --retry 5 https://product-downloads.atlassian.com/software/stash/downloads/atlassian-bitbucket-\${BitbucketVersion}.tar.gz | tar -xz -C /opt/atlassian/bitbucket --strip-components=1
chown -R atlbitbucket:atlbitbucket /opt/atlassian/bitbucket
cat > /etc/default/atlbitbucket <<EOF
BITBUCKET_HOME=$home
JAVA_HOME=$java_home
JVM_MINIMUM_MEMORY=\${JvmHeap}
JVM_MAXIMUM_MEMORY=\${JvmHeap}
JVM_SUPPORT_RECOMMENDED_ARGS="\${CatalinaOpts}"
EOF
${extraEnv}cat > /etc/systemd/system/atlbitbucket.service <<EOF
[Unit]
Description=Atlassian Bitbucket
After=network-online.target remote-fs.target
[Service]
Type=forking
User=atlbitbucket
EnvironmentFile=/etc/default/atlbitbucket
ExecStart=/opt/atlassian/bitbucket/bin/start-bitbucket.sh ${startArgs}
ExecStop=/opt/atlassian/bitbucket/bin/stop-bitbucket.sh
TimeoutStartSec=600
LimitNOFILE=65536
[Install]
WantedBy=multi-user.target
EOF
systemctl daemon-reload
systemctl enable --now atlbitbucket
`;
}

/** Waits (bounded: 30 min) until /status answers one of `states`, then signals; else signals failure. */
export function waitForStatus(states: string[]): string {
  const pattern = states.map((s) => `*\\"${s}\\"*`).join('|');
  return `state=none
for _ in $(seq 1 180); do
  state=$(curl -fsS --max-time 10 http://localhost:7990/status || true)
  case "$state" in ${pattern}) break ;; esac
  sleep 10
done
case "$state" in ${pattern}) signal 0 ;; *) echo "Bitbucket /status: $state" >&2; signal 1; exit 1 ;; esac
`;
}
