// The minimal keep-alive server every load generator is measured against: GET → 200 "ok".
// GET /__stats answers {requests, cpuUs} since the previous /__stats (the bench reads the server's cost per request).
import { createServer } from 'node:http';

let requests = 0;
let cpu = process.cpuUsage();
const server = createServer((req, res) => {
  if (req.url === '/__stats') {
    const used = process.cpuUsage(cpu);
    const body = JSON.stringify({ requests, cpuUs: used.user + used.system });
    requests = 0;
    cpu = process.cpuUsage();
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    return;
  }
  requests++;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
  res.end('ok');
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
