import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { repoRoot } from '@e3/test-utils';

const read = (flavour: string) => readFile(join(repoRoot, `e3-home/config/collectd-${flavour}.conf`), 'utf8');

describe.each(['worker', 'bitbucket'])('e3-home/config/collectd-%s.conf', (flavour) => {
  it('keeps E³’s Hostname and folders, writes CSV and RRD every 5 s, and carries its marker', async () => {
    const conf = await read(flavour);
    expect(conf).toContain('\nHostname "localhost"\n');
    expect(conf).toContain('\nInterval 5\n');
    expect(conf).toMatch(/<Plugin csv>\s+DataDir "\/var\/lib\/collectd\/csv"/);
    expect(conf).toMatch(/<Plugin rrdtool>\s+DataDir "\/var\/lib\/collectd\/rrd"/);
    expect(conf).toContain(`# e3-collectd-config: ${flavour} 1\n`);
    expect(conf).not.toMatch(/PluginDir|TypesDB/);
  });

  it('records xvd*, nvme* and sd* disks, whole and partitions', async () => {
    const regex = /Disk "\/(.+)\/"/.exec(await read(flavour))![1]!;
    const disk = new RegExp(regex);
    for (const d of ['xvda', 'xvdf', 'xvda1', 'nvme0n1', 'nvme1n1p1', 'sda', 'sdb2', 'vda', 'hda']) expect(d).toMatch(disk);
    for (const d of ['loop0', 'dm-0', 'sr0']) expect(d).not.toMatch(disk);
  });
});

describe('the bitbucket flavour', () => {
  it('collects every MBean it defines, including the JVM, Tomcat and Hazelcast ones E³’s graphs expect', async () => {
    const conf = await read('bitbucket');
    const defined = [...conf.matchAll(/<MBean "([^"]+)">/g)].map((m) => m[1]);
    const collected = [...conf.matchAll(/Collect "([^"]+)"/g)].map((m) => m[1]);
    expect(collected).toEqual(defined);
    for (const prefix of ['java', 'java_memory', 'catalina_request_processor-', 'request_processor-', 'com.atlassian.bitbucket/HostingTickets', 'com.hazelcast/HazelcastInstance.EventService.hazelcast.hazelcast']) {
      expect(conf).toContain(`InstancePrefix "${prefix}"`);
    }
    // collectd cuts plugin instances at 63 characters: the folders E³'s graphs read.
    const cut = (p: string) => p.replaceAll('/', '_').slice(0, 63);
    expect(cut('com.hazelcast/HazelcastInstance.EventService.hazelcast.hazelcast')).toBe('com.hazelcast_HazelcastInstance.EventService.hazelcast.hazelcas');
    expect(cut('com.hazelcast/HazelcastInstance.OperationService.hazelcast.operationServicehazelcast')).toBe('com.hazelcast_HazelcastInstance.OperationService.hazelcast.oper');
  });

  it('the worker flavour has no JMX', async () => {
    expect(await read('worker')).not.toContain('LoadPlugin java');
  });
});
