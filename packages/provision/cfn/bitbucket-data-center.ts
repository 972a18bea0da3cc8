import {
  BITBUCKET_PARAMETERS,
  DATA_DEVICE,
  IMAGE_PARAMETER,
  VPC_CIDR_PARAMETER,
  cidrConditions,
  cidrIngress,
  cidrParameters,
  equals,
  getAtt,
  groupIngress,
  ifThen,
  installBitbucket,
  javaGitCollectd,
  notEmpty,
  prelude,
  ref,
  sub,
  volumeType,
  volumeTypeConditions,
  volumeTypeParameter,
  vpcIngress,
  waitForStatus,
  type Json,
  type JsonObject,
} from './common.js';

/** The shared home (a snapshot's bitbucket/shared, shared/ or the volume itself, else new), NFS-exported to the VPC. */
const NFS = `apt-get install -y --no-install-recommends nfs-kernel-server postgresql-client
${DATA_DEVICE}if [ -d /media/atl/bitbucket/shared ]; then shared=/media/atl/bitbucket/shared
elif [ -d /media/atl/shared ]; then shared=/media/atl/shared
elif [ -d /media/atl/data/repositories ]; then shared=/media/atl
else shared=/media/atl/bitbucket/shared; mkdir -p "$shared"; fi
chown -R atlbitbucket:atlbitbucket "$shared"
mkdir -p /export/bitbucket-shared
mount --bind "$shared" /export/bitbucket-shared
echo "$shared /export/bitbucket-shared none bind,nofail 0 0" >> /etc/fstab
echo "/export/bitbucket-shared \${VpcCidr}(rw,sync,no_subtree_check,no_root_squash)" > /etc/exports
systemctl enable nfs-server
systemctl restart nfs-server
exportfs -ra
ip=$(hostname -I | awk '{print $1}')
`;

/** OpenSearch \${OpenSearchVersion} on the private address (security plugin off); restores a search snapshot from S3 when named. */
const SEARCH = `sysctl -w vm.max_map_count=262144
echo vm.max_map_count=262144 > /etc/sysctl.d/90-opensearch.conf
useradd --system --no-create-home --shell /usr/sbin/nologin opensearch
mkdir -p /opt/opensearch /var/lib/opensearch
curl -fsSL --retry 5 https://artifacts.opensearch.org/releases/bundle/opensearch/\${OpenSearchVersion}/opensearch-\${OpenSearchVersion}-linux-x64.tar.gz | tar -xz -C /opt/opensearch --strip-components=1
cat > /opt/opensearch/config/opensearch.yml <<EOF
cluster.name: bitbucket-search
node.name: file-server
network.host: $ip
discovery.type: single-node
path.data: /var/lib/opensearch
plugins.security.disabled: true
EOF
if [ -n "\${SearchSnapshotBucket}" ]; then
  /opt/opensearch/bin/opensearch-plugin install --batch repository-s3
  echo "s3.client.default.region: \${AWS::Region}" >> /opt/opensearch/config/opensearch.yml
fi
heap=$(awk '/MemTotal/ {m = int($2 / 1048576 * 0.4); if (m < 1) m = 1; if (m > 31) m = 31; print m}' /proc/meminfo)
chown -R opensearch:opensearch /opt/opensearch /var/lib/opensearch
cat > /etc/systemd/system/opensearch.service <<EOF
[Unit]
Description=OpenSearch for Bitbucket
After=network-online.target
[Service]
User=opensearch
Environment="OPENSEARCH_JAVA_OPTS=-Xms\${!heap}g -Xmx\${!heap}g"
LimitNOFILE=65535
ExecStart=/opt/opensearch/bin/opensearch
Restart=on-failure
[Install]
WantedBy=multi-user.target
EOF
systemctl daemon-reload
systemctl enable --now opensearch
for _ in $(seq 1 60); do curl -fsS "http://$ip:9200/_cluster/health" && break; sleep 5; done
curl -fsS "http://$ip:9200/_cluster/health"
if [ -n "\${SearchSnapshotBucket}" ]; then
  curl -fsS -XPUT "http://$ip:9200/_snapshot/e3" -H 'Content-Type: application/json' -d '{"type": "s3", "settings": {"bucket": "\${SearchSnapshotBucket}", "readonly": true}}'
  curl -fsS -XPOST "http://$ip:9200/_snapshot/e3/\${SearchSnapshotName}/_restore?wait_for_completion=true"
fi
`;

/**
 * The database role and database (no DB snapshot), and bitbucket.properties in the shared home: written
 * once, by the file server, before any node starts. Passwords stay out of the cloud-init log (set +x).
 */
const DATABASE_AND_PROPERTIES = `set +x
export PGHOST=\${Database.Endpoint.Address} PGPORT=\${Database.Endpoint.Port} PGUSER=postgres PGDATABASE=postgres PGPASSWORD='\${DBMasterUserPassword}'
if [ -z "\${DBSnapshotId}" ]; then
  psql -v ON_ERROR_STOP=1 -c "CREATE ROLE \${DBUser} LOGIN PASSWORD '\${DBPassword}'" -c "GRANT \${DBUser} TO postgres"
  psql -v ON_ERROR_STOP=1 -c "CREATE DATABASE \${DBName} OWNER \${DBUser} ENCODING 'UTF8' TEMPLATE template0"
fi
props=/export/bitbucket-shared/bitbucket.properties
touch "$props"
sed -i -E '/^(jdbc\\.|hazelcast\\.|plugin\\.search\\.config\\.)/d' "$props"
cat >> "$props" <<EOF
jdbc.driver=org.postgresql.Driver
jdbc.url=jdbc:postgresql://\${Database.Endpoint.Address}:\${Database.Endpoint.Port}/\${DBName}
jdbc.user=\${DBUser}
jdbc.password=\${DBPassword}
hazelcast.network.aws=true
hazelcast.network.aws.iam.role=\${NodeRole}
hazelcast.network.aws.region=\${AWS::Region}
hazelcast.network.aws.tag.key=e3-cluster
hazelcast.network.aws.tag.value=\${AWS::StackName}
hazelcast.group.name=\${AWS::StackName}
plugin.search.config.baseurl=http://$ip:9200
EOF
echo "\${BitbucketProperties}" | tr ',' '\\n' >> "$props"
grep -q '^jmx.enabled=true' "$props" || echo jmx.enabled=true >> "$props"
chown atlbitbucket:atlbitbucket "$props"
chmod 600 "$props"
set -x
signal 0
`;

/** The file server's UserData (an Fn::Sub string). */
export const fileServerScript = (): string => prelude('FileServer') + NFS + SEARCH + DATABASE_AND_PROPERTIES;

/** A cluster node: the shared home over NFS, Bitbucket without bundled search, AMIOpts in its environment. */
export function nodeScript(collectdConfig: string): string {
  const mount = `apt-get install -y --no-install-recommends nfs-common
home=/var/atlassian/application-data/bitbucket
mkdir -p "$home/shared"
chown atlbitbucket:atlbitbucket "$home"
echo "\${FileServer.PrivateIp}:/export/bitbucket-shared $home/shared nfs nfsvers=4.1,lookupcache=pos,noatime,rsize=32768,wsize=32768,_netdev 0 0" >> /etc/fstab
for _ in $(seq 1 30); do mount "$home/shared" && break; sleep 10; done
mountpoint -q "$home/shared"
`;
  const amiOpts = `echo "\${AMIOpts}" | tr ',' '\\n' | tee -a /etc/environment >> /etc/default/atlbitbucket\n`;
  return [prelude('ClusterNodeGroup'), javaGitCollectd(collectdConfig), mount, installBitbucket('--no-search', amiOpts), waitForStatus(['RUNNING', 'FIRST_RUN'])].join('');
}

const PASSWORD = '^[A-Za-z0-9_+=.,-]+$';

function parameters(): JsonObject {
  return {
    ClusterNodeInstanceType: { Type: 'String', Default: 'c5.xlarge', Description: 'EC2 instance type of each cluster node.' },
    ClusterNodeMin: { Type: 'Number', Default: '1', MinValue: '1', Description: 'Cluster nodes to start (and the fewest the group keeps).' },
    ClusterNodeMax: { Type: 'Number', Default: '1', MinValue: '1', Description: 'The most cluster nodes the group may run.' },
    FileServerInstanceType: { Type: 'String', Default: 'm5.xlarge', Description: 'EC2 instance type of the file server (NFS shared home and OpenSearch).' },
    ...BITBUCKET_PARAMETERS,
    AMIOpts: { Type: 'String', Default: '', Description: 'Comma-separated KEY=value lines exported into each node\'s environment (E³ passed ATL_FORCE_HOST_NAME=true).' },
    ExternalSubnets: { Type: 'List<AWS::EC2::Subnet::Id>', Description: 'Subnets of the nodes and the internet-facing load balancer (two AZs).' },
    InternalSubnets: { Type: 'List<AWS::EC2::Subnet::Id>', Description: 'Subnets of the database, the file server and the internal load balancers (two AZs).' },
    HomeSize: { Type: 'Number', Default: '100', MinValue: '10', Description: 'Size of the shared home volume (GiB); at least the snapshot size.' },
    HomeVolumeType: volumeTypeParameter('Shared home'),
    HomeIops: { Type: 'Number', Default: '3000', Description: 'IOPS of the shared home volume (gp3: 3000 to 16000; io1/io2: at most 50 per GiB).' },
    DBInstanceClass: { Type: 'String', Default: 'db.m5.large', Description: 'RDS instance class of the PostgreSQL database.' },
    DBEngineVersion: { Type: 'String', Default: '15', AllowedPattern: '^1[56](\\.[0-9]+)?$', Description: 'PostgreSQL major (or full) version of a new database; a restored DB snapshot keeps its own.' },
    DBAllocatedStorage: { Type: 'Number', Default: '100', MinValue: '20', Description: 'Storage of a new database (GiB); a restored DB snapshot keeps its own.' },
    DBIops: { Type: 'String', Default: '', AllowedPattern: '^$|^[0-9]+$', Description: 'Provisioned IOPS (io1) of the database; empty: gp3 with its baseline.' },
    DBMasterUserPassword: { Type: 'String', NoEcho: true, MinLength: '8', MaxLength: '128', AllowedPattern: PASSWORD, Description: 'Password of the RDS master user postgres (e3 generates one per stack).' },
    DBUser: { Type: 'String', Default: 'bitbucket', AllowedPattern: '^[a-z_][a-z0-9_]*$', Description: "Bitbucket's database user (a DB snapshot's own: e3 passes stash for E³'s snapshots)." },
    DBPassword: { Type: 'String', NoEcho: true, MinLength: '1', MaxLength: '128', AllowedPattern: PASSWORD, Description: "Password of DBUser (e3 generates one; E³'s snapshots: stash)." },
    DBName: { Type: 'String', Default: 'bitbucket', AllowedPattern: '^[a-z_][a-z0-9_]*$', Description: "Bitbucket's database (created when there is no DB snapshot)." },
    DBSnapshotId: { Type: 'String', Default: '', AllowedPattern: '^$|^arn:aws[a-z-]*:rds:.+$', Description: 'ARN of an RDS snapshot to restore (the snapshot descriptor\'s rds); empty: a new database.' },
    SearchSnapshotBucket: { Type: 'String', Default: '', Description: "S3 bucket of an OpenSearch snapshot repository to restore the search indexes from (the snapshot descriptor's es.bucket); empty: none." },
    SearchSnapshotName: { Type: 'String', Default: '', Description: "Name of the search snapshot in that bucket (the snapshot descriptor's es.snapshot)." },
    OpenSearchVersion: { Type: 'String', Default: '2.17.1', AllowedPattern: '^2\\.\\d+\\.\\d+$', Description: 'OpenSearch 2.x release run on the file server for Bitbucket search.' },
    ...cidrParameters('the load balancer (HTTP 80) and the nodes and file server (SSH 22)'),
    ...VPC_CIDR_PARAMETER,
    ...IMAGE_PARAMETER,
  };
}

const group = (description: string, ingress: Json[]): JsonObject => ({ Type: 'AWS::EC2::SecurityGroup', Properties: { GroupDescription: description, VpcId: ref('VPC'), SecurityGroupIngress: ingress } });
const assumeEc2 = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] };

function securityGroups(): JsonObject {
  return {
    SecurityGroup: group('e3 Bitbucket nodes: SSH from the CidrBlocks; 7990 from the load balancers and the VPC; 7999 from the VPC', [
      ...cidrIngress([22]),
      ...groupIngress([7990], 'LoadBalancerSecurityGroup'),
      ...groupIngress([7990], 'InternalLoadBalancerSecurityGroup'),
      ...vpcIngress([7990, 7999]),
    ]),
    ClusterIngress: {
      Type: 'AWS::EC2::SecurityGroupIngress',
      Properties: { GroupId: getAtt('SecurityGroup', 'GroupId'), IpProtocol: 'tcp', FromPort: 5701, ToPort: 5801, SourceSecurityGroupId: getAtt('SecurityGroup', 'GroupId'), Description: 'Hazelcast and cluster ports between nodes' },
    },
    LoadBalancerSecurityGroup: group('e3 Bitbucket load balancer: HTTP from the CidrBlocks', cidrIngress([80])),
    InternalLoadBalancerSecurityGroup: group('e3 Bitbucket internal load balancer: HTTP from the VPC (the workers)', vpcIngress([80])),
    FileServerSecurityGroup: group('e3 Bitbucket file server: SSH from the CidrBlocks; NFS and OpenSearch from the nodes', [...cidrIngress([22]), ...groupIngress([2049, 9200], 'SecurityGroup')]),
    DatabaseSecurityGroup: group('e3 Bitbucket database: PostgreSQL from the nodes and the file server', [...groupIngress([5432], 'SecurityGroup'), ...groupIngress([5432], 'FileServerSecurityGroup')]),
  };
}

function database(): JsonObject {
  return {
    DatabaseSubnetGroup: { Type: 'AWS::RDS::DBSubnetGroup', Properties: { DBSubnetGroupDescription: 'e3 Bitbucket database', SubnetIds: ref('InternalSubnets') } },
    Database: {
      Type: 'AWS::RDS::DBInstance',
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
      Properties: {
        Engine: 'postgres',
        EngineVersion: ifThen('HasDBSnapshot', ref('AWS::NoValue'), ref('DBEngineVersion')),
        DBInstanceClass: ref('DBInstanceClass'),
        DBSnapshotIdentifier: ifThen('HasDBSnapshot', ref('DBSnapshotId')),
        // A restore takes neither (RDS rejects them): the snapshot keeps its own master user.
        MasterUsername: ifThen('HasDBSnapshot', ref('AWS::NoValue'), 'postgres'),
        MasterUserPassword: ifThen('HasDBSnapshot', ref('AWS::NoValue'), ref('DBMasterUserPassword')),
        AllocatedStorage: ifThen('HasDBSnapshot', ref('AWS::NoValue'), ref('DBAllocatedStorage')),
        StorageType: ifThen('HasDBIops', 'io1', 'gp3'),
        Iops: ifThen('HasDBIops', ref('DBIops')),
        DBSubnetGroupName: ref('DatabaseSubnetGroup'),
        VPCSecurityGroups: [getAtt('DatabaseSecurityGroup', 'GroupId')],
        PubliclyAccessible: false,
        MultiAZ: false,
        BackupRetentionPeriod: 0,
        DeleteAutomatedBackups: true,
      },
    },
  };
}

function fileServer(): JsonObject {
  return {
    FileServerRole: {
      Type: 'AWS::IAM::Role',
      Condition: 'HasSearchSnapshot',
      Properties: {
        AssumeRolePolicyDocument: assumeEc2,
        Policies: [
          {
            PolicyName: 'read-search-snapshot',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                { Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation'], Resource: sub('arn:${AWS::Partition}:s3:::${SearchSnapshotBucket}') },
                { Effect: 'Allow', Action: 's3:GetObject', Resource: sub('arn:${AWS::Partition}:s3:::${SearchSnapshotBucket}/*') },
              ],
            },
          },
        ],
      },
    },
    FileServerProfile: { Type: 'AWS::IAM::InstanceProfile', Condition: 'HasSearchSnapshot', Properties: { Roles: [ref('FileServerRole')] } },
    FileServer: {
      Type: 'AWS::EC2::Instance',
      CreationPolicy: { ResourceSignal: { Count: 1, Timeout: 'PT45M' } },
      Properties: {
        ImageId: ref('ImageId'),
        InstanceType: ref('FileServerInstanceType'),
        KeyName: ref('KeyName'),
        EbsOptimized: true,
        IamInstanceProfile: ifThen('HasSearchSnapshot', ref('FileServerProfile')),
        NetworkInterfaces: [{ DeviceIndex: '0', SubnetId: { 'Fn::Select': [0, ref('InternalSubnets')] }, AssociatePublicIpAddress: ref('AssociatePublicIpAddress'), GroupSet: [ref('FileServerSecurityGroup')] }],
        BlockDeviceMappings: [
          { DeviceName: '/dev/sda1', Ebs: { VolumeSize: 50, VolumeType: 'gp3', DeleteOnTermination: true } },
          { DeviceName: '/dev/sdf', Ebs: { VolumeSize: ref('HomeSize'), VolumeType: volumeType('HomeVolumeType'), Iops: ref('HomeIops'), SnapshotId: ifThen('HasHomeSnapshot', ref('HomeVolumeSnapshotId')), DeleteOnTermination: true } },
        ],
        Tags: [{ Key: 'Name', Value: sub('${AWS::StackName}-file-server') }],
        UserData: { 'Fn::Base64': sub(fileServerScript()) },
      },
    },
  };
}

function nodes(collectdConfig: string): JsonObject {
  return {
    NodeRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: assumeEc2,
        Policies: [{ PolicyName: 'hazelcast-discovery', PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:DescribeInstances', Resource: '*' }] } }],
      },
    },
    NodeProfile: { Type: 'AWS::IAM::InstanceProfile', Properties: { Roles: [ref('NodeRole')] } },
    LaunchTemplate: {
      Type: 'AWS::EC2::LaunchTemplate',
      Properties: {
        LaunchTemplateData: {
          ImageId: ref('ImageId'),
          InstanceType: ref('ClusterNodeInstanceType'),
          KeyName: ref('KeyName'),
          EbsOptimized: true,
          IamInstanceProfile: { Arn: getAtt('NodeProfile', 'Arn') },
          NetworkInterfaces: [{ DeviceIndex: 0, AssociatePublicIpAddress: ref('AssociatePublicIpAddress'), Groups: [ref('SecurityGroup')] }],
          BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { VolumeSize: 50, VolumeType: 'gp3', DeleteOnTermination: true } }],
          UserData: { 'Fn::Base64': sub(nodeScript(collectdConfig)) },
        },
      },
    },
    ClusterNodeGroup: {
      Type: 'AWS::AutoScaling::AutoScalingGroup',
      CreationPolicy: { ResourceSignal: { Count: ref('ClusterNodeMin'), Timeout: 'PT60M' } },
      Properties: {
        LaunchTemplate: { LaunchTemplateId: ref('LaunchTemplate'), Version: getAtt('LaunchTemplate', 'LatestVersionNumber') },
        MinSize: ref('ClusterNodeMin'),
        MaxSize: ref('ClusterNodeMax'),
        DesiredCapacity: ref('ClusterNodeMin'),
        VPCZoneIdentifier: ref('ExternalSubnets'),
        TargetGroupARNs: [ref('TargetGroup'), ref('InternalTargetGroup'), ref('SshTargetGroup')],
        Tags: [
          { Key: 'Name', Value: sub('${AWS::StackName}-node'), PropagateAtLaunch: true },
          { Key: 'e3-cluster', Value: ref('AWS::StackName'), PropagateAtLaunch: true },
        ],
      },
    },
  };
}

/** An HTTP load balancer to the nodes' 7990 (sticky, health check /status), with its listener on 80. */
function httpLoadBalancer(prefix: string, scheme: 'internet-facing' | 'internal', subnets: string): JsonObject {
  return {
    [`${prefix}LoadBalancer`]: {
      Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer',
      Properties: { Type: 'application', Scheme: scheme, Subnets: ref(subnets), SecurityGroups: [ref(`${prefix}LoadBalancerSecurityGroup`)] },
    },
    [`${prefix}TargetGroup`]: {
      Type: 'AWS::ElasticLoadBalancingV2::TargetGroup',
      Properties: {
        VpcId: ref('VPC'),
        Protocol: 'HTTP',
        Port: 7990,
        HealthCheckPath: '/status',
        TargetGroupAttributes: [
          { Key: 'stickiness.enabled', Value: 'true' },
          { Key: 'stickiness.type', Value: 'lb_cookie' },
          { Key: 'deregistration_delay.timeout_seconds', Value: '30' },
        ],
      },
    },
    [`${prefix}Listener`]: {
      Type: 'AWS::ElasticLoadBalancingV2::Listener',
      Properties: { LoadBalancerArn: ref(`${prefix}LoadBalancer`), Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: ref(`${prefix}TargetGroup`) }] },
    },
  };
}

function loadBalancers(): JsonObject {
  return {
    ...httpLoadBalancer('', 'internet-facing', 'ExternalSubnets'),
    ...httpLoadBalancer('Internal', 'internal', 'InternalSubnets'),
    SshLoadBalancer: { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: { Type: 'network', Scheme: 'internal', Subnets: ref('InternalSubnets') } },
    SshTargetGroup: { Type: 'AWS::ElasticLoadBalancingV2::TargetGroup', Properties: { VpcId: ref('VPC'), Protocol: 'TCP', Port: 7999 } },
    SshListener: {
      Type: 'AWS::ElasticLoadBalancingV2::Listener',
      Properties: { LoadBalancerArn: ref('SshLoadBalancer'), Protocol: 'TCP', Port: 7999, DefaultActions: [{ Type: 'forward', TargetGroupArn: ref('SshTargetGroup') }] },
    },
  };
}

/**
 * e3's BitbucketDataCenter template: cluster nodes in an auto scaling group behind an internet-facing ALB
 * (people, the controller) and internal ALB + NLB (the workers, inside the VPC); a file server with the
 * shared home (NFS) and OpenSearch; PostgreSQL on RDS. Each part restores its piece of an e3 snapshot.
 */
export function bitbucketDataCenter(collectdConfig: string): JsonObject {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description:
      "e3 BitbucketDataCenter: Bitbucket cluster nodes (auto scaling group, Ubuntu 22.04, the Java its release needs, git, collectd with e3's bitbucket config) behind an internet-facing ALB and, for the workers inside the VPC, an internal ALB and NLB; a file server with the NFS shared home and OpenSearch; PostgreSQL on RDS. Home, database and search restore from a snapshot when given.",
    Parameters: parameters(),
    Conditions: {
      ...cidrConditions(),
      ...volumeTypeConditions('HomeVolumeType'),
      HasHomeSnapshot: notEmpty('HomeVolumeSnapshotId'),
      HasDBSnapshot: notEmpty('DBSnapshotId'),
      HasSearchSnapshot: notEmpty('SearchSnapshotBucket'),
      HasDBIops: notEmpty('DBIops'),
      IsPublic: equals('AssociatePublicIpAddress', 'true'),
    },
    Resources: { ...securityGroups(), ...database(), ...fileServer(), ...nodes(collectdConfig), ...loadBalancers() },
    Outputs: {
      URL: { Value: sub('http://${LoadBalancer.DNSName}'), Description: 'Bitbucket base URL for people and the controller (internet-facing, open to the CidrBlocks).' },
      InternalURL: { Value: sub('http://${InternalLoadBalancer.DNSName}'), Description: 'Bitbucket base URL for the workers (an internal load balancer inside the VPC).' },
      SshHost: { Value: getAtt('SshLoadBalancer', 'DNSName'), Description: 'Host for git over SSH (port 7999) from inside the VPC (an internal NLB).' },
      ClusterNodeGroup: { Value: ref('ClusterNodeGroup'), Description: "The cluster nodes' auto scaling group." },
      FileServer: { Value: ifThen('IsPublic', getAtt('FileServer', 'PublicDnsName'), getAtt('FileServer', 'PrivateDnsName')), Description: "The file server's DNS name (public when AssociatePublicIpAddress)." },
      SshUser: { Value: 'ubuntu', Description: 'User e3 logs in as on the nodes and the file server (passwordless sudo).' },
      SecurityGroup: { Value: ref('SecurityGroup'), Description: "The cluster nodes' security group." },
    },
  };
}
