// Rolling restart of 2 replicas behind HAProxy (issue 10): deploy/haproxy.cfg with the compose
// defaults (/readyz every 2 s, 500 ms while a replica changes state) in front of two `plugboard
// serve` processes on PostgreSQL with compose.yaml's PLUGBOARD_SHUTDOWN_DELAY_MS (5 s); a steady load
// of catalog reads and activate/pause POSTs while each replica in turn gets SIGTERM, exits, starts
// again and is back UP in HAProxy. Prints the failed requests; asserts nothing.
// BALANCER_HAPROXY=plain: bench/haproxy-plain.cfg instead (HAProxy's own defaults, fall 3), the replicas
// on their default PLUGBOARD_SHUTDOWN_DELAY_MS. Needs haproxy and PostgreSQL (PLUGBOARD_TEST_DATABASE_URL,
// default the local test database).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { balancerUnavailable, rollingRestart } from '../test/node/fixtures/rolling-restart.js';

const PG_URL = process.env.PLUGBOARD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const missing = balancerUnavailable();
if (missing) {
  console.log(`skipped: ${missing}`);
} else {
  console.log(`node ${process.version}, load average at start ${loadavg()}`);
  const plain = process.env.BALANCER_HAPROXY === 'plain';
  console.log(plain ? 'bench/haproxy-plain.cfg, default shutdown delay' : 'deploy/haproxy.cfg, shutdown delay 5 s (compose.yaml)');
  const result = await rollingRestart({
    databaseUrl: PG_URL,
    checkInter: '2s',
    checkFast: '500ms',
    ...(plain ? { haproxyConfig: fileURLToPath(new URL('./haproxy-plain.cfg', import.meta.url)) } : { shutdownDelayMs: 5000 }),
    clients: 8,
    pauseMs: 10,
    servedAfterRestart: 200,
  });
  console.log(`failed requests, rolling restart of 2 replicas behind HAProxy: ${result.failed} of ${result.total}`);
  for (const [name, served] of Object.entries(result.served)) {
    console.log(`  ${name}: ${served.before} responses before its restart, ${served.after} from the new process while the load ran on`);
  }
  console.log(`  timeline: ${result.timeline.join(', ')}`);
  console.log(`  exit codes after SIGTERM: ${result.exitCodes.join(', ')}`);
  for (const failure of result.failures) console.log(`  failed: ${failure}`);
  console.log(`load average at end ${loadavg()}`);
}
