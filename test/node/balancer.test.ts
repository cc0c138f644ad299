// Rolling restart behind a real balancer: HAProxy (deploy/haproxy.cfg) health-checks /readyz of two
// `plugboard serve` processes on PostgreSQL; under a steady load each replica in turn gets SIGTERM,
// exits 0 and comes back, and no request through HAProxy fails. Short check intervals and shutdown
// delay keep it quick; bench/balancer.ts runs the compose defaults.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PG_URL } from './fixtures/harness.js';
import { balancerUnavailable, rollingRestart } from './fixtures/rolling-restart.js';

const skip = PG_URL ? balancerUnavailable() : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped';

test('rolling restart of 2 replicas behind HAProxy: no request fails and both replicas serve before and after', { skip: skip ?? false }, async (t) => {
  const result = await rollingRestart({
    databaseUrl: PG_URL!,
    checkInter: '200ms',
    checkFast: '100ms',
    // 1.5 s of serving while /readyz answers 503: HAProxy (200 ms + 100 ms) takes the replica out well before.
    shutdownDelayMs: 1500,
    clients: 4,
    pauseMs: 20,
    servedAfterRestart: 20,
  });
  t.diagnostic(`${result.failed} of ${result.total} requests failed; 2xx per replica: ${JSON.stringify(result.served)}; ${result.timeline.join(', ')}`);
  assert.equal(
    result.failed,
    0,
    `${result.failed} of ${result.total} requests failed:\n${result.failures.join('\n')}\nHAProxy:\n${result.haproxyEvents.join('\n')}`,
  );
  assert.ok(result.total >= 200, `only ${result.total} requests were sent`);
  assert.deepEqual(result.exitCodes, [0, 0]);
  // A keep-alive client straight to a draining replica is told to reconnect (elsewhere).
  assert.deepEqual(result.connectionWhileDraining, ['close', 'close']);
  for (const name of ['api-1', 'api-2']) {
    assert.ok(result.served[name]!.before > 0 && result.served[name]!.after > 0, `${name}: ${JSON.stringify(result.served[name])}`);
  }
  // The replicas kept their tables in PLUGBOARD_PG_SCHEMA, as `plugboard runner` does.
  assert.equal(result.instancesInSchema, 4);
});
