const EMBEDDED = /echo [A-Za-z0-9+/=]+ \| base64 -d > \/etc\/collectd\/collectd\.conf/;

/**
 * The worker template's text with `config` (e3-home/config/collectd-worker.conf) embedded, base64, in its
 * UserData line `echo <base64> | base64 -d > /etc/collectd/collectd.conf`. Throws when the line is gone.
 */
export function embedWorkerConfig(template: string, config: string): string {
  if (!EMBEDDED.test(template)) throw new Error('WorkerCluster.template: no `echo <base64> | base64 -d > /etc/collectd/collectd.conf` line in its UserData');
  return template.replace(EMBEDDED, `echo ${Buffer.from(config).toString('base64')} | base64 -d > /etc/collectd/collectd.conf`);
}
