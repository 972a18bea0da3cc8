import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { repoRoot } from '@e3/test-utils';

import { buildTemplates, templateText } from '../../cfn/index.js';
import { lintTemplate, subNames } from '../../test/support/cfn-lint.js';

/** A small valid template each case breaks in one way. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test fixture edited freely
function base(): Record<string, any> {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Parameters: {
      VPC: { Type: 'AWS::EC2::VPC::Id' },
      Size: { Type: 'Number', Default: '4', MinValue: '1', MaxValue: '10' },
      Flavour: { Type: 'String', Default: 'a', AllowedValues: ['a', 'b'] },
      Cidr: { Type: 'String', Default: '', AllowedPattern: '^$|^[0-9./]+$' },
    },
    Conditions: { HasCidr: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'Cidr' }, ''] }] } },
    Resources: {
      Group: {
        Type: 'AWS::EC2::SecurityGroup',
        Properties: {
          GroupDescription: 'g',
          VpcId: { Ref: 'VPC' },
          SecurityGroupIngress: [{ 'Fn::If': ['HasCidr', { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIp: { Ref: 'Cidr' } }, { Ref: 'AWS::NoValue' }] }],
        },
      },
      Node: {
        Type: 'AWS::EC2::Instance',
        DependsOn: 'Group',
        Properties: {
          ImageId: 'ami-1',
          InstanceType: { 'Fn::If': ['HasCidr', 'c5.large', 'c5.xlarge'] },
          SecurityGroupIds: [{ 'Fn::GetAtt': ['Group', 'GroupId'] }],
          BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { VolumeSize: { Ref: 'Size' }, VolumeType: 'gp3', DeleteOnTermination: true } }],
          UserData: { 'Fn::Base64': { 'Fn::Sub': '#!/bin/bash\nset -eu\necho "${Flavour} ${AWS::Region} ${Group.GroupId} ${!literal}"\nif [ -n "$HOME" ]; then echo ok; fi\n' } },
        },
      },
    },
    Outputs: { Ip: { Value: { 'Fn::GetAtt': ['Node', 'PublicIp'] } } },
  };
}

const lint = (t: unknown) => lintTemplate(t);

describe('the CloudFormation lint', () => {
  it('passes a valid template', () => {
    expect(lint(base())).toEqual([]);
  });

  it('finds ${…} names of Fn::Sub, skipping ${!literal}', () => {
    expect(subNames('a ${X} ${!Y} ${R.Attr} ${AWS::Region}')).toEqual(['X', 'R.Attr', 'AWS::Region']);
  });

  it('catches an unknown resource type and a misspelt property', () => {
    const t = base();
    t.Resources.Group.Properties.GroupDescriptoin = 'typo';
    t.Resources.Extra = { Type: 'AWS::EC2::Instanse', Properties: {} };
    const issues = lint(t);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Resources\.Group\.Properties\.GroupDescriptoin: no property GroupDescriptoin on AWS::EC2::SecurityGroup/),
        expect.stringMatching(/^Resources\.Extra\.Type: "AWS::EC2::Instanse" is not a CloudFormation resource type/),
      ]),
    );
  });

  it('catches a misspelt property inside a nested property type', () => {
    const t = base();
    t.Resources.Node.Properties.BlockDeviceMappings[0].Ebs.VolumeSzie = 10;
    expect(lint(t)).toEqual([expect.stringMatching(/BlockDeviceMappings\[0\]\.Ebs\.VolumeSzie: no property VolumeSzie on Ebs/)]);
  });

  it('catches a missing required property, at the top and nested', () => {
    const t = base();
    delete t.Resources.Group.Properties.GroupDescription;
    t.Resources.Group.Properties.SecurityGroupIngress.push({ FromPort: 80, ToPort: 80, CidrIp: '10.0.0.0/8' });
    const issues = lint(t);
    expect(issues).toEqual(expect.arrayContaining([expect.stringMatching(/Resources\.Group\.Properties: required property GroupDescription/), expect.stringMatching(/SecurityGroupIngress\[1\]: required property IpProtocol/)]));
  });

  it('catches literal values of the wrong shape, and accepts intrinsics anywhere', () => {
    const t = base();
    t.Resources.Node.Properties.SecurityGroupIds = 'sg-1';
    t.Resources.Node.Properties.BlockDeviceMappings[0].Ebs.DeleteOnTermination = 'maybe';
    t.Resources.Node.Properties.BlockDeviceMappings[0].Ebs.Iops = 'big';
    const issues = lint(t);
    expect(issues).toHaveLength(3);
    expect(issues.join('\n')).toMatch(/SecurityGroupIds: "sg-1" is not a list/);
    expect(issues.join('\n')).toMatch(/DeleteOnTermination: "maybe" is not a boolean/);
    expect(issues.join('\n')).toMatch(/Iops: "big" is not an integer/);
  });

  it('catches a wrong GetAtt attribute and a GetAtt of no resource', () => {
    const t = base();
    t.Outputs.Ip.Value = { 'Fn::GetAtt': ['Node', 'PublicAddress'] };
    t.Outputs.Other = { Value: { 'Fn::GetAtt': 'Nodes.PublicIp' } };
    const issues = lint(t);
    expect(issues).toEqual([expect.stringMatching(/AWS::EC2::Instance has no attribute PublicAddress/), expect.stringMatching(/Fn::GetAtt Nodes\.PublicIp: no resource Nodes/)]);
  });

  it('catches an unresolved ${X} and a bad ${Res.Attr} in Fn::Sub, and a Ref to nothing', () => {
    const t = base();
    t.Resources.Node.Properties.UserData['Fn::Base64']['Fn::Sub'] += 'echo ${Flavor} ${Group.Name}\n';
    t.Outputs.Vpc = { Value: { Ref: 'Vpc' } };
    const issues = lint(t);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/\$\{Flavor\}: Ref Flavor names no parameter/),
        expect.stringMatching(/\$\{Group\.Name\}: Fn::GetAtt Group\.Name: AWS::EC2::SecurityGroup has no attribute Name/),
        expect.stringMatching(/Outputs\.Vpc\.Value\.Ref: Ref Vpc names no parameter/),
      ]),
    );
    expect(issues).toHaveLength(3);
  });

  it('catches undeclared conditions, DependsOn on no resource and unknown functions', () => {
    const t = base();
    t.Resources.Node.Condition = 'IsBig';
    t.Resources.Node.DependsOn = ['Group', 'Gruop'];
    t.Resources.Node.Properties.InstanceType = { 'Fn::If': ['HasCider', 'a', 'b'] };
    t.Resources.Node.Properties.ImageId = { 'Fn::Lookup': 'x' };
    const issues = lint(t);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/Resources\.Node\.Condition: "IsBig" is not a declared condition/),
        expect.stringMatching(/Resources\.Node\.DependsOn: "Gruop" is not a resource/),
        expect.stringMatching(/Fn::If\[0\]: "HasCider" is not a declared condition/),
        expect.stringMatching(/unknown intrinsic function Fn::Lookup/),
      ]),
    );
  });

  it('catches a conditional resource named outside its condition, and accepts it inside Fn::If or under the same Condition', () => {
    const t = base();
    t.Resources.Group.Condition = 'HasCidr';
    expect(lint(t)).toEqual(
      expect.arrayContaining([expect.stringMatching(/Resources\.Node\.Properties\.SecurityGroupIds\[0\]\.Fn::GetAtt: Group exists only when HasCidr/), expect.stringMatching(/UserData.*Group exists only when HasCidr/)]),
    );
    const ok = base();
    ok.Resources.Group.Condition = 'HasCidr';
    ok.Resources.Node.Condition = 'HasCidr';
    ok.Outputs.Ip.Condition = 'HasCidr';
    ok.Outputs.Group = { Value: { 'Fn::If': ['HasCidr', { Ref: 'Group' }, 'none'] } };
    expect(lint(ok)).toEqual([]);
  });

  it('catches cfn-signal for a resource with no CreationPolicy, and a CreationPolicy nobody signals', () => {
    const t = base();
    t.Resources.Node.Properties.UserData['Fn::Base64']['Fn::Sub'] += 'cfn-signal -e 0 --stack ${AWS::StackName} --resource Nodes --region ${AWS::Region}\n';
    t.Resources.Group.CreationPolicy = { ResourceSignal: { Count: 1, Timeout: 'PT5M' } };
    expect(lint(t)).toEqual([expect.stringMatching(/UserData: cfn-signal --resource Nodes names no resource with a CreationPolicy/), 'Resources.Group.CreationPolicy: no UserData runs cfn-signal --resource Group']);
  });

  it('catches an unused parameter (W2001)', () => {
    const t = base();
    t.Parameters.Unused = { Type: 'String', Default: 'x' };
    expect(lint(t)).toEqual(['Parameters.Unused: declared but never used (W2001)']);
  });

  it('catches a password or license parameter without NoEcho', () => {
    const t = base();
    t.Parameters.DBPassword = { Type: 'String' };
    t.Parameters.LicenseKey = { Type: 'String', NoEcho: true };
    t.Resources.Node.Properties.UserData['Fn::Base64']['Fn::Sub'] += 'echo ${DBPassword} ${LicenseKey}\n';
    expect(lint(t)).toEqual(['Parameters.DBPassword: a secret needs "NoEcho": true']);
  });

  it('catches bad parameter types and defaults outside AllowedValues, AllowedPattern, MinValue and MaxValue', () => {
    const t = base();
    t.Parameters.VPC.Type = 'AWS::EC2::Vpc::Id';
    t.Parameters.Size.Default = '11';
    t.Parameters.Flavour.Default = 'c';
    t.Parameters.Cidr.Default = 'ten';
    const issues = lint(t);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/Parameters\.VPC\.Type: "AWS::EC2::Vpc::Id" is not a CloudFormation parameter type/),
        expect.stringMatching(/Parameters\.Size\.Default: "11" is above MaxValue 10/),
        expect.stringMatching(/Parameters\.Flavour\.Default: "c" is not one of AllowedValues/),
        expect.stringMatching(/Parameters\.Cidr\.Default: "ten" does not match AllowedPattern/),
      ]),
    );
    expect(issues).toHaveLength(4);
  });

  it('catches a bash syntax error in UserData, and a UserData script over 16 KB', () => {
    const t = base();
    t.Resources.Node.Properties.UserData['Fn::Base64']['Fn::Sub'] += 'if [ -n "${Flavour}" ]; then echo x\n';
    expect(lint(t)).toEqual([expect.stringMatching(/Resources\.Node\.Properties\.UserData: bash -n fails: .*syntax error/)]);
    const big = base();
    big.Resources.Node.Properties.UserData['Fn::Base64']['Fn::Sub'] += `# ${'x'.repeat(17_000)}\n`;
    expect(lint(big)).toEqual([expect.stringMatching(/UserData: the script is \d+ bytes, over EC2's 16384-byte UserData limit/)]);
  });

  it('catches a template over the 51,200-byte TemplateBody limit', () => {
    const t = base();
    t.Description = 'd'.repeat(52_000);
    expect(lint(t)).toEqual([expect.stringMatching(/^template: \d+ bytes, over CloudFormation's 51200-byte TemplateBody limit/)]);
  });
});

describe('every template e3 ships lints clean', () => {
  it.each(['WorkerCluster', 'PublicNetwork', 'BitbucketServer', 'BitbucketDataCenter'])('%s', async (name) => {
    const text = await readFile(join(repoRoot, 'e3-home/templates', `${name}.template`), 'utf8');
    expect(lintTemplate(JSON.parse(text), { text })).toEqual([]);
  });
});

describe('generated templates', () => {
  it('the committed BitbucketServer and BitbucketDataCenter JSON is what packages/provision/cfn generates (else run `pnpm gen:templates`)', async () => {
    for (const [name, template] of Object.entries(await buildTemplates(repoRoot))) {
      const committed = await readFile(join(repoRoot, 'e3-home/templates', `${name}.template`), 'utf8');
      expect(committed === templateText(template) ? `${name}: in sync` : `${name}: stale: run \`pnpm gen:templates\``).toBe(`${name}: in sync`);
    }
  });
});
