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
  type JsonObject,
} from './common.js';

/** The home: a snapshot's (its bitbucket/ folder, Atlassian's AMI layout, or the volume itself), else a new one. */
const HOME = `if [ -d /media/atl/bitbucket/shared ]; then home=/media/atl/bitbucket
elif [ -d /media/atl/shared ]; then home=/media/atl
else home=/media/atl/bitbucket; mkdir -p "$home/shared"; fi
touch "$home/shared/bitbucket.properties"
echo "\${BitbucketProperties}" | tr ',' '\\n' >> "$home/shared/bitbucket.properties"
chown -R atlbitbucket:atlbitbucket "$home"
mkdir -p /var/atlassian/application-data
ln -sfn "$home" /var/atlassian/application-data/bitbucket
# Bitbucket's bundled search (OpenSearch) needs this.
sysctl -w vm.max_map_count=262144
echo vm.max_map_count=262144 > /etc/sysctl.d/90-opensearch.conf
`;

/** The UserData script of the one instance (an Fn::Sub string). */
export function serverScript(collectdConfig: string): string {
  return [prelude('Instance'), javaGitCollectd(collectdConfig), DATA_DEVICE, HOME, installBitbucket(''), waitForStatus(['RUNNING', 'FIRST_RUN'])].join('');
}

/** e3's BitbucketServer template: one EC2 instance with Bitbucket, its home on an EBS volume (from a snapshot or empty). */
export function bitbucketServer(collectdConfig: string): JsonObject {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description:
      "e3 BitbucketServer: one Ubuntu 22.04 instance with Bitbucket (systemd unit atlbitbucket), the Java its release needs, git and collectd with e3's bitbucket config; home on an EBS volume restored from HomeVolumeSnapshotId or empty. HTTP 7990 and git SSH 7999 from the CidrBlocks and the VPC; JMX stays on 127.0.0.1.",
    Parameters: {
      InstanceType: { Type: 'String', Default: 'm5.xlarge', Description: 'EC2 instance type.' },
      ...BITBUCKET_PARAMETERS,
      Subnet: { Type: 'AWS::EC2::Subnet::Id', Description: 'Subnet of the network stack.' },
      HomeSize: { Type: 'Number', Default: '100', MinValue: '10', Description: 'Size of the home volume (GiB); at least the snapshot size.' },
      HomeVolumeType: volumeTypeParameter('Home'),
      HomeIops: { Type: 'Number', Default: '3000', Description: 'IOPS of the home volume (gp3: 3000 to 16000; io1/io2: at most 50 per GiB).' },
      RootSize: { Type: 'Number', Default: '50', MinValue: '8', Description: 'Size of the root volume (GiB).' },
      RootVolumeType: volumeTypeParameter('Root'),
      RootIops: { Type: 'Number', Default: '3000', Description: 'IOPS of the root volume (gp3: 3000 to 16000; io1/io2: at most 50 per GiB).' },
      ...cidrParameters('Bitbucket (SSH 22, HTTP 7990, git SSH 7999)'),
      ...VPC_CIDR_PARAMETER,
      ...IMAGE_PARAMETER,
    },
    Conditions: {
      ...cidrConditions(),
      ...volumeTypeConditions('HomeVolumeType'),
      ...volumeTypeConditions('RootVolumeType'),
      HasHomeSnapshot: notEmpty('HomeVolumeSnapshotId'),
      IsPublic: equals('AssociatePublicIpAddress', 'true'),
    },
    Resources: {
      SecurityGroup: {
        Type: 'AWS::EC2::SecurityGroup',
        Properties: {
          GroupDescription: 'e3 Bitbucket Server: SSH, HTTP 7990 and git SSH 7999 from the CidrBlocks; 7990 and 7999 from the VPC',
          VpcId: ref('VPC'),
          SecurityGroupIngress: [...cidrIngress([22, 7990, 7999]), ...vpcIngress([7990, 7999])],
        },
      },
      Instance: {
        Type: 'AWS::EC2::Instance',
        CreationPolicy: { ResourceSignal: { Count: 1, Timeout: 'PT45M' } },
        Properties: {
          ImageId: ref('ImageId'),
          InstanceType: ref('InstanceType'),
          KeyName: ref('KeyName'),
          EbsOptimized: true,
          NetworkInterfaces: [{ DeviceIndex: '0', SubnetId: ref('Subnet'), AssociatePublicIpAddress: ref('AssociatePublicIpAddress'), GroupSet: [ref('SecurityGroup')] }],
          BlockDeviceMappings: [
            { DeviceName: '/dev/sda1', Ebs: { VolumeSize: ref('RootSize'), VolumeType: volumeType('RootVolumeType'), Iops: ref('RootIops'), DeleteOnTermination: true } },
            {
              DeviceName: '/dev/sdf',
              Ebs: { VolumeSize: ref('HomeSize'), VolumeType: volumeType('HomeVolumeType'), Iops: ref('HomeIops'), SnapshotId: ifThen('HasHomeSnapshot', ref('HomeVolumeSnapshotId')), DeleteOnTermination: true },
            },
          ],
          Tags: [{ Key: 'Name', Value: ref('AWS::StackName') }],
          UserData: { 'Fn::Base64': sub(serverScript(collectdConfig)) },
        },
      },
    },
    Outputs: {
      URL: { Value: ifThen('IsPublic', sub('http://${Instance.PublicDnsName}:7990'), sub('http://${Instance.PrivateDnsName}:7990')), Description: 'Bitbucket base URL (inside the VPC the public name resolves to the private address).' },
      PublicIp: { Condition: 'IsPublic', Value: getAtt('Instance', 'PublicIp'), Description: "The instance's public address." },
      PrivateIp: { Value: getAtt('Instance', 'PrivateIp'), Description: "The instance's private address." },
      SshUser: { Value: 'ubuntu', Description: 'User e3 logs in as (passwordless sudo: `sudo service atlbitbucket restart`).' },
    },
  };
}
