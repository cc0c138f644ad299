// Backpressure (issue 10): with small queue limits and no runner, one customer's flood fills its
// queue: its webhooks get 429 problem+json with Retry-After, naming no one else, while another
// customer's still get 202; past the global limit every webhook gets 503 with Retry-After. A
// refused webhook stores nothing (no execution, no delivery id kept), a schedule tick is deferred,
// and once a runner drains the queues the same webhooks get 202 again. SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { Backpressure, QueueFullError } from '../../server/src/runtime/backpressure.js';
import { createPgBossQueue } from '../../server/src/runtime/pgboss-queue.js';
import { createScheduler } from '../../server/src/runtime/scheduler.js';
import { runtimeDb } from '../../server/src/runtime/schema.js';
import { eventually } from './fixtures/eventually.js';
import { createHarness, newSchema, PG_URL, type Harness } from './runtime.harness.js';

const LIMITS = { PLUGBOARD_QUEUE_LIMIT_PER_CUSTOMER: '3', PLUGBOARD_QUEUE_LIMIT: '5' };

const engines = [
  { name: 'sqlite', skip: false as const },
  { name: 'postgres', skip: PG_URL ? (false as const) : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped' },
];

for (const engine of engines) {
  describe(`backpressure on ${engine.name}`, { skip: engine.skip }, () => {
    let h: Harness;
    before(async () => {
      const bossSchema = newSchema('tboss');
      h = await createHarness({
        runtimeEnv: LIMITS,
        runner: false, // nothing drains until the test starts a runner
        ...(engine.name === 'postgres'
          ? { pgSchema: newSchema('t'), queue: () => createPgBossQueue({ connectionString: PG_URL!, bossSchema, supervise: false }) }
          : {}),
      });
    });
    after(() => h.close());

    const post = (path: string, headers: Record<string, string> = {}, body = '{}') =>
      h.app.request(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const stored = async (instanceId: string) =>
      (await runtimeDb(h.store.db).selectFrom('executions').select(['id', 'trigger']).where('instance_id', '=', instanceId).execute()).length;

    test('a full customer queue answers 429, a full system 503, with Retry-After; nothing is stored; a drained queue accepts again', async () => {
      const flood = await h.activeInstance('flooder');
      const other = await h.activeInstance('bystander');
      const third = await h.activeInstance('latecomer');
      const floodHook = await flood.hookUrl('record');

      for (let i = 0; i < 3; i++) assert.equal((await post(floodHook)).status, 202, `webhook ${i + 1} of 3 is within the limit`);
      const refused = await post(floodHook);
      assert.equal(refused.status, 429);
      assert.match(refused.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.ok(Number(refused.headers.get('retry-after')) >= 1, 'Retry-After in seconds');
      const problem = (await refused.json()) as { type: string; title: string; status: number };
      assert.equal(problem.type, 'https://plugboard.dev/problems/queue-full');
      assert.equal(problem.status, 429);
      assert.match(problem.title, /customer's execution queue is full/);
      const text = JSON.stringify(problem);
      for (const who of [other, third]) {
        assert.ok(!text.includes(who.customer.id) && !text.includes(who.customer.externalId), 'the refusal names no other customer');
      }
      assert.equal(await stored(flood.instance.id), 3, 'the refused webhook stored no execution');

      // A signed delivery refused as well keeps no claim on its id: the sender's retry runs later.
      const signedHook = await flood.hookUrl('signed');
      const rotated = await h.app.request(`/api/v1/instances/${flood.instance.id}/webhooks/signed/secret`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await h.token('flooder')}` },
      });
      const { secret } = (await rotated.json()) as { secret: string };
      const signed = (id: string) => {
        const at = new Date();
        return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign(id, at, '{}') };
      };
      assert.equal((await post(signedHook, signed('msg_refused'))).status, 429);
      const claims = await runtimeDb(h.store.db).selectFrom('webhook_deliveries').select('delivery_id').where('instance_id', '=', flood.instance.id).execute();
      assert.deepEqual(claims, [], 'no delivery id is kept for a refused webhook');

      // Another customer is unaffected until the global limit (5) is reached.
      assert.equal((await post(await other.hookUrl('record'))).status, 202);
      assert.equal((await post(await other.hookUrl('record'))).status, 202);
      const full = await post(await third.hookUrl('record'));
      assert.equal(full.status, 503);
      assert.ok(Number(full.headers.get('retry-after')) >= 1, 'Retry-After in seconds');
      assert.equal(((await full.json()) as { type: string }).type, 'https://plugboard.dev/problems/queue-full');
      assert.equal(await stored(third.instance.id), 0);

      // A schedule tick of a full customer is deferred, storing nothing; it fires once there is room.
      const scheduler = createScheduler({ store: h.store, integrations: h.services.integrations, runtime: h.runtime });
      await scheduler.tick();
      const ticks = async () =>
        (
          await runtimeDb(h.store.db)
            .selectFrom('executions')
            .select('id')
            .where('instance_id', '=', flood.instance.id)
            .where('trigger', '=', 'schedule')
            .execute()
        ).length;
      assert.equal(await ticks(), 0, 'no schedule execution while the queue is full');

      // A runner drains the queues; the counts refresh off the request path, so the senders' retries are accepted.
      h.startRunner();
      const retried = (send: () => Response | Promise<Response>, what: string) =>
        eventually(
          async () => {
            const res = await send();
            return res.status === 202 ? res : undefined;
          },
          20_000,
          what,
        );
      await retried(() => post(floodHook), 'the drained customer queue to accept a webhook again');
      await retried(() => post(signedHook, signed('msg_refused')), 'the refused delivery id to run on retry');
      await retried(async () => post(await third.hookUrl('record')), 'a webhook past the global limit to be accepted once drained');
      await eventually(async () => (await scheduler.tick()) > 0 || (await ticks()) > 0, 10_000, 'the deferred schedule tick to fire');
    });
  });
}

describe("Retry-After follows the queue's drain", () => {
  // Counts as the database would give them, and a clock the test moves.
  const setup = (limits: { perCustomer: number; global: number }) => {
    let clock = 0;
    let counts = new Map<string, number>();
    const pressure = new Backpressure({ ...limits, countQueued: async () => counts, refreshMs: 250, now: () => clock });
    return {
      pressure,
      /** The queue holds `queued` now, `seconds` later. */
      at: async (seconds: number, queued: Record<string, number>) => {
        clock = seconds * 1000;
        counts = new Map(Object.entries(queued));
        await pressure.refresh();
      },
      refusal: (customer: string) => {
        try {
          pressure.check(customer);
        } catch (error) {
          if (error instanceof QueueFullError) return { scope: error.scope, retryAfterS: error.retryAfterS };
          throw error;
        }
        return undefined;
      },
    };
  };

  test('a full queue that drains asks the sender back before the longest wait; one that does not drain, the longest wait', async () => {
    const stuck = setup({ perCustomer: 1000, global: 0 });
    await stuck.at(0, { a: 1000 });
    assert.deepEqual(stuck.refusal('a'), { scope: 'customer', retryAfterS: 1 }, 'no drain measured yet: soon, to be told more then');
    for (let s = 1; s <= 3; s++) await stuck.at(s, { a: 1000 });
    assert.deepEqual(stuck.refusal('a'), { scope: 'customer', retryAfterS: 5 }, 'a full queue that does not drain');

    const draining = setup({ perCustomer: 1000, global: 0 });
    // 400 a second leave a's queue: 1,100 left, back at half the limit (500) in about 2 s.
    for (let s = 0; s <= 3; s++) await draining.at(s, { a: 2300 - 400 * s });
    const refused = draining.refusal('a');
    assert.equal(refused?.scope, 'customer');
    assert.ok(refused.retryAfterS >= 1 && refused.retryAfterS < 5, `Retry-After ${refused.retryAfterS} s for a queue draining 400/s`);
    const rate = draining.pressure.drainRate('a');
    assert.ok(rate > 200 && rate <= 400, `drain ${rate}/s`);
    assert.equal(draining.refusal('b'), undefined, "another customer's queue is not full");
  });

  test('the global limit asks back within its own maximum, from the drain of every queue together', async () => {
    assert.equal(setup({ perCustomer: 0, global: 100 }).refusal('c'), undefined, 'no counts yet: nothing refused');
    const t = setup({ perCustomer: 0, global: 100 });
    // 200 a second leave the two queues together; 400 left, back at 50.
    for (let s = 0; s <= 4; s++) await t.at(s / 2, { a: 400 - 50 * s, b: 400 - 50 * s });
    const refused = t.refusal('c');
    assert.equal(refused?.scope, 'global');
    assert.ok(refused.retryAfterS >= 1 && refused.retryAfterS < 10, `Retry-After ${refused.retryAfterS} s`);
    const rate = t.pressure.drainRate();
    assert.ok(rate > 100 && rate <= 200, `drain ${rate}/s`);
  });
});
