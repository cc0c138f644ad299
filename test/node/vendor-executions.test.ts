// The vendor's staff and executions across customers, against the real runtime (flows run in the
// customer's executor process): reading an instance's executions, retrying a failed one and
// re-running any one with its original payload (a new execution linked to the original, in the
// customer's history as the staff member), and the alerts list across customers with its filters.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AuditList,
  ExecutionDetail,
  ExecutionList,
  ExecutionRerun,
  PROBLEM_CONTENT_TYPE,
  Problem,
  ProblemType,
  VendorAlertList,
  type VendorAlert,
} from '../../src/protocol/index.js';
import { createHarness, eventually, newSchema, PG_URL, type Harness } from './runtime.harness.js';

const ENGINES = [
  { name: 'sqlite', skip: false as const },
  { name: 'postgres', skip: PG_URL ? (false as const) : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped' },
] as const;

for (const engine of ENGINES) {
  describe(`vendor executions and alerts on ${engine.name}`, { skip: engine.skip }, () => {
    let h: Harness;
    let support: string;
    let viewer: string;
    before(async () => {
      h = await createHarness(engine.name === 'postgres' ? { pgSchema: newSchema('vex') } : {});
      support = await h.vendorToken('support', 'Jane (Acme support)');
      viewer = await h.vendorToken('viewer');
    });
    after(() => h?.close());

    async function call(method: string, path: string, token: string, body?: unknown) {
      const res = await h.app.request(`/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      assert.ok(!text.includes('sk_test_secret_value'), 'the secret config value never comes back');
      return {
        status: res.status,
        contentType: res.headers.get('content-type'),
        location: res.headers.get('location'),
        body: text ? (JSON.parse(text) as unknown) : null,
      };
    }

    function problem(res: { status: number; contentType: string | null; body: unknown }, status: number, type: string): Problem {
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.equal(res.contentType, PROBLEM_CONTENT_TYPE);
      const p = Problem.parse(res.body);
      assert.equal(p.type, type);
      return p;
    }

    /** Invokes a flow and returns its execution id once it has finished. */
    async function invoked(instanceId: string, flow: string, payload: unknown): Promise<string> {
      const res = await call('POST', `/vendor/instances/${instanceId}/flows/${flow}/invoke`, support, { payload, timeoutMs: 60_000 });
      const id = (res.body as { executionId?: string }).executionId;
      assert.ok(id, JSON.stringify(res.body));
      return id;
    }

    async function finished(id: string, token = viewer): Promise<ExecutionDetail> {
      return eventually(async () => {
        const res = await call('GET', `/vendor/executions/${id}`, token);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const detail = ExecutionDetail.parse(res.body);
        return detail.status !== 'queued' && detail.status !== 'running' && detail;
      }, 60_000);
    }

    test('re-run runs a finished execution again with its payload: a new execution, linked, in the customer’s history as the staff member', async () => {
      const { customer, instance } = await h.activeInstance(`rerun-${engine.name}`);
      const original = await invoked(instance.id, 'signed', { contact: { email: 'a@b.test' } });
      assert.equal((await finished(original)).status, 'succeeded');

      const res = await call('POST', `/vendor/executions/${original}/rerun`, support);
      assert.equal(res.status, 202, JSON.stringify(res.body));
      const { execution, rerunOf } = ExecutionRerun.parse(res.body);
      assert.equal(rerunOf, original);
      assert.notEqual(execution.id, original);
      assert.equal(execution.rerunOf, original);
      assert.equal(execution.flow, 'signed');
      assert.equal(res.location, `/api/v1/vendor/executions/${execution.id}`);

      // It ran in the customer's executor with the original payload: the flow echoes what it received.
      const again = await finished(execution.id);
      assert.equal(again.status, 'succeeded');
      assert.equal(again.resultSummary, JSON.stringify({ received: { contact: { email: 'a@b.test' } } }));
      assert.deepEqual(h.sideEffects(instance.id, 'signed'), [original, execution.id]);

      // The customer sees it in its own executions, linked, and in the instance's history as the vendor's staff member.
      const customerToken = await h.token(customer.externalId);
      const list = ExecutionList.parse((await call('GET', `/instances/${instance.id}/executions`, customerToken)).body);
      assert.deepEqual(
        list.executions.map((e) => [e.id, e.rerunOf ?? null]),
        [
          [execution.id, original],
          [original, null],
        ],
      );
      const audit = AuditList.parse((await call('GET', `/instances/${instance.id}/audit`, customerToken)).body);
      const rerun = audit.events.find((e) => e.action === 'execution.rerun');
      assert.deepEqual(rerun?.actor, { type: 'vendor', name: 'Jane (Acme support)' });
      assert.deepEqual(rerun?.details, { flow: 'signed', execution: execution.id, rerunOf: original, by: 'vendor' });

      // The vendor reads the same list.
      const vendorList = ExecutionList.parse((await call('GET', `/vendor/instances/${instance.id}/executions?limit=1`, viewer)).body);
      assert.deepEqual(
        vendorList.executions.map((e) => e.id),
        [execution.id],
      );
      assert.ok(vendorList.nextCursor);
    });

    test('retry runs a failed execution again; a succeeded one is refused with 409 (re-run is for that)', async () => {
      const { instance } = await h.activeInstance(`retry-${engine.name}`);
      const failed = await invoked(instance.id, 'record', { fail: 'fatal' });
      assert.equal((await finished(failed)).status, 'failed');

      const res = await call('POST', `/vendor/executions/${failed}/retry`, support);
      assert.equal(res.status, 202, JSON.stringify(res.body));
      const { execution } = ExecutionRerun.parse(res.body);
      assert.equal(execution.rerunOf, failed);
      // The same payload fails the same way: it really ran again.
      const again = await finished(execution.id);
      assert.equal(again.status, 'failed');
      assert.equal(again.error, 'the flow failed on purpose');

      const ok = await invoked(instance.id, 'signed', {});
      await finished(ok);
      const refused = problem(await call('POST', `/vendor/executions/${ok}/retry`, support), 409, ProblemType.conflict);
      assert.match(refused.detail ?? '', /only a failed one is retried/);
    });

    test('refuses a viewer, a customer token, an unknown execution, and an instance that is paused', async () => {
      const { customer, instance } = await h.activeInstance(`refused-${engine.name}`);
      const done = await invoked(instance.id, 'signed', {});
      await finished(done);
      problem(await call('POST', `/vendor/executions/${done}/rerun`, viewer), 403, ProblemType.forbidden);
      problem(await call('POST', `/vendor/executions/${done}/retry`, viewer), 403, ProblemType.forbidden);
      problem(await call('POST', `/vendor/executions/${done}/rerun`, await h.token(customer.externalId)), 403, ProblemType.forbidden);
      problem(await call('GET', `/vendor/executions/${done}`, await h.token(customer.externalId)), 403, ProblemType.forbidden);
      problem(await call('POST', '/vendor/executions/no-such-execution/rerun', support), 404, ProblemType.notFound);
      problem(await call('GET', '/vendor/executions/no-such-execution', viewer), 404, ProblemType.notFound);
      assert.equal((await call('POST', `/vendor/instances/${instance.id}/pause`, support)).status, 200);
      const paused = problem(await call('POST', `/vendor/executions/${done}/rerun`, support), 409, ProblemType.conflict);
      assert.equal(paused.detail, 'The instance is paused; only an active instance runs flows');
      assert.deepEqual(h.sideEffects(instance.id, 'signed'), [done], 'nothing ran again');
    });

    test('alerts across customers: failed executions and instance changes, filtered by integration, status, type and time, paged', async () => {
      const started = new Date().toISOString();
      const a = await h.activeInstance(`alerts-a-${engine.name}`);
      const b = await h.activeInstance(`alerts-b-${engine.name}`);
      const failed = await invoked(a.instance.id, 'record', { fail: 'fatal' });
      await finished(failed);
      assert.equal((await call('POST', `/vendor/instances/${b.instance.id}/pause`, support)).status, 200);

      const alerts = async (query: string, token = viewer): Promise<VendorAlert[]> => {
        const res = await call('GET', `/vendor/alerts?${query}`, token);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const mine = new Set([a.instance.id, b.instance.id]);
        return VendorAlertList.parse(res.body).alerts.filter((alert) => mine.has(alert.instance.id));
      };
      const all = await alerts(`since=${encodeURIComponent(started)}`);
      assert.deepEqual(
        all.map((x) => [x.type, x.customer.externalId]),
        [
          ['instance.paused', b.customer.externalId],
          ['execution.failed', a.customer.externalId],
          ['instance.activated', b.customer.externalId],
          ['instance.activated', a.customer.externalId],
        ],
      );
      const [paused, failure] = all;
      assert.deepEqual(paused!.instance, { id: b.instance.id, integrationKey: 'recorder', status: 'paused' });
      assert.deepEqual(paused!.actor, { type: 'vendor', name: 'Jane (Acme support)' });
      assert.equal(paused!.details.by, 'vendor');
      assert.equal(paused!.execution, null);
      assert.deepEqual(failure!.execution, { id: failed, flow: 'record', status: 'failed', error: 'the flow failed on purpose' });
      assert.deepEqual(failure!.instance, { id: a.instance.id, integrationKey: 'recorder', status: 'active' });

      assert.deepEqual(
        (await alerts(`since=${encodeURIComponent(started)}&status=paused`)).map((x) => x.type),
        ['instance.paused', 'instance.activated'],
      );
      assert.deepEqual(
        (await alerts(`since=${encodeURIComponent(started)}&type=execution.failed`)).map((x) => x.id),
        [failed],
      );
      assert.deepEqual(await alerts(`since=${encodeURIComponent(started)}&integration=no-such-integration`), []);
      assert.equal((await alerts(`since=${encodeURIComponent(started)}&integration=recorder`)).length, 4);
      assert.deepEqual(await alerts(`until=${encodeURIComponent(new Date(Date.parse(started) - 60_000).toISOString())}`), []);

      // Paging: one at a time, in the same order, until the cursor runs out.
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await call('GET', `/vendor/alerts?limit=1&since=${encodeURIComponent(started)}${cursor ? `&cursor=${cursor}` : ''}`, viewer);
        const page = VendorAlertList.parse(res.body);
        assert.ok(page.alerts.length <= 1);
        seen.push(...page.alerts.map((x) => x.id));
        cursor = page.nextCursor;
      } while (cursor);
      const ours = new Set(all.map((x) => x.id));
      assert.deepEqual(
        seen.filter((id) => ours.has(id)),
        all.map((x) => x.id),
      );

      const bad = problem(await call('GET', '/vendor/alerts?status=broken&since=yesterday&cursor=nope', viewer), 422, ProblemType.validation);
      assert.deepEqual(bad.errors?.map((e) => e.path).sort(), ['query.since', 'query.status']);
      problem(await call('GET', '/vendor/alerts?cursor=nope', viewer), 422, ProblemType.validation);
      problem(await call('GET', '/vendor/alerts', await h.token(a.customer.externalId)), 403, ProblemType.forbidden);
    });
  });
}
