// POST /api/v1/vendor/instances/:id/flows/:flow/invoke against the real runtime: the flow runs in
// the customer's executor process (runtime.fixture.ts), through the queue and a runner, and the
// vendor's backend gets its result, its failure or its time limit, each recorded as an execution.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AuditList, ExecutionDetail, InvokeResult, PROBLEM_CONTENT_TYPE, Problem, ProblemType } from '../../src/protocol/index.js';
import { eventually } from './fixtures/eventually.js';
import { createHarness, newSchema, PG_URL, type Harness } from './runtime.harness.js';

const SECRET = 'sk_test_secret_value'; // the recorder instance's secret config value (runtime.harness.ts)

const ENGINES = [
  { name: 'sqlite', skip: false as const },
  { name: 'postgres', skip: PG_URL ? (false as const) : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped' },
] as const;

for (const engine of ENGINES)
  describe(`synchronous invocation on ${engine.name}`, { skip: engine.skip }, () => {
    let h: Harness;
    let vendor: string;
    before(async () => {
      h = await createHarness(engine.name === 'postgres' ? { pgSchema: newSchema('inv') } : {});
      vendor = await h.vendorToken('support');
    });
    after(() => h?.close());

    async function invoke(instanceId: string, flow: string, body: unknown, token = vendor) {
      const res = await h.app.request(`/api/v1/vendor/instances/${instanceId}/flows/${flow}/invoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      assert.ok(!text.includes(SECRET), 'the secret config value never comes back');
      return { status: res.status, contentType: res.headers.get('content-type'), body: JSON.parse(text) as unknown };
    }

    async function execution(customer: string, id: string): Promise<ExecutionDetail> {
      const res = await h.app.request(`/api/v1/executions/${id}`, { headers: { authorization: `Bearer ${await h.token(customer)}` } });
      assert.equal(res.status, 200);
      return ExecutionDetail.parse(await res.json());
    }

    function problem(res: { status: number; contentType: string | null; body: unknown }, status: number, type: string): Problem & Record<string, unknown> {
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.equal(res.contentType, PROBLEM_CONTENT_TYPE);
      const p = Problem.parse(res.body) as Problem & Record<string, unknown>;
      assert.equal(p.type, type);
      return p;
    }

    test('answers with the flow’s result, run in the customer’s executor and recorded with its logs', async () => {
      const { instance } = await h.activeInstance('invoke-ok');
      // Each test's first run starts its customer's executor: a generous limit, a busy machine may take seconds.
      const res = await invoke(instance.id, 'record', { payload: { note: 'now' }, timeoutMs: 60_000 });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const answer = InvokeResult.parse(res.body);
      // The flow's return value itself, computed with the decrypted secret (its length, never the value).
      assert.deepEqual(answer.result, { ok: true, tokenLength: SECRET.length });
      assert.deepEqual(
        answer.logs.map((l) => l.message),
        ['attempt 1 of record'],
      );
      // A real side effect in the executor, under this execution's id.
      assert.deepEqual(h.sideEffects(instance.id), [answer.executionId]);
      const recorded = await execution('invoke-ok', answer.executionId);
      assert.equal(recorded.trigger, 'invoke');
      assert.equal(recorded.status, 'succeeded');
      assert.deepEqual(
        recorded.logs.map((l) => l.message),
        ['attempt 1 of record'],
      );

      // The payload reaches the flow as given.
      const echoed = InvokeResult.parse((await invoke(instance.id, 'signed', { payload: { contact: { email: 'a@b.test' } } })).body);
      assert.deepEqual(echoed.result, { received: { contact: { email: 'a@b.test' } } });

      // The customer's history says the vendor ran it.
      const audit = await h.app.request(`/api/v1/instances/${instance.id}/audit`, { headers: { authorization: `Bearer ${await h.token('invoke-ok')}` } });
      const events = AuditList.parse(await audit.json()).events.filter((e) => e.action === 'flow.invoked');
      assert.equal(events.length, 2);
      assert.equal(events[1]!.actor.type, 'vendor');
      assert.deepEqual(events[1]!.details, { flow: 'record', execution: answer.executionId, by: 'vendor' });
    });

    test('a failing flow answers 422 with its error, once: an invocation is not retried', async () => {
      const { instance } = await h.activeInstance('invoke-fail');
      const fatal = problem(await invoke(instance.id, 'record', { payload: { fail: 'fatal' }, timeoutMs: 60_000 }), 422, ProblemType.flowFailed);
      assert.equal(fatal.detail, 'the flow failed on purpose');
      assert.equal(fatal.error, 'the flow failed on purpose');
      assert.equal(fatal.status, 422);
      assert.equal((await execution('invoke-fail', fatal.executionId as string)).status, 'failed');

      const retryable = problem(await invoke(instance.id, 'record', { payload: { fail: 'retryable', untilAttempt: 5 } }), 422, ProblemType.flowFailed);
      const detail = await execution('invoke-fail', retryable.executionId as string);
      assert.equal(detail.attempt, 1);
      assert.equal(detail.status, 'failed');
    });

    test('a flow that logs, throws or returns its secret: the value is blanked out of the answer and the stored execution', async () => {
      const { instance } = await h.activeInstance('invoke-leak');
      const thrown = problem(await invoke(instance.id, 'record', { payload: { leak: 'throw' }, timeoutMs: 60_000 }), 422, ProblemType.flowFailed);
      assert.equal(thrown.error, 'the provider refused [redacted]');
      const returned = await invoke(instance.id, 'record', { payload: { leak: 'return' }, timeoutMs: 60_000 });
      assert.equal(returned.status, 200, JSON.stringify(returned.body));
      assert.deepEqual(InvokeResult.parse(returned.body).result, { token: '[redacted]', nested: ['t=[redacted]'] });
      const crashed = problem(await invoke(instance.id, 'record', { payload: { leak: 'crash' }, timeoutMs: 60_000 }), 422, ProblemType.flowFailed);
      assert.equal(crashed.error, 'The executor stopped on an uncaught error: crashed holding [redacted]');
      for (const id of [thrown.executionId as string, InvokeResult.parse(returned.body).executionId]) {
        const stored = await execution('invoke-leak', id);
        assert.ok(!JSON.stringify(stored).includes(SECRET), JSON.stringify(stored));
        assert.match(stored.logs.map((l) => l.message).join('\n'), /Bearer \[redacted\]/);
      }
    });

    test('a flow past its time limit answers 504 and is recorded as timed out', async () => {
      const { instance } = await h.activeInstance('invoke-slow');
      // A warm executor, so the limit counts the flow, not a process start on a busy machine.
      assert.equal((await invoke(instance.id, 'signed', { timeoutMs: 60_000 })).status, 200);
      const res = problem(await invoke(instance.id, 'record', { payload: { sleepMs: 8000 }, timeoutMs: 300 }), 504, ProblemType.timedOut);
      const detail = await eventually(async () => {
        const d = await execution('invoke-slow', res.executionId as string);
        return d.status !== 'running' && d.status !== 'queued' && d;
      });
      assert.equal(detail.status, 'timed_out');
      assert.equal(detail.error, 'The flow ran longer than its timeout of 300 ms');
      assert.equal(h.sideEffects(instance.id).length, 0, 'the flow was stopped before its side effect');
    });

    test('refuses what it can’t run: unknown instance or flow, an instance not active, a bad body, a viewer', async () => {
      const { instance } = await h.activeInstance('invoke-refused');
      problem(await invoke('no-such-instance', 'record', {}), 404, ProblemType.notFound);
      problem(await invoke(instance.id, 'no-such-flow', {}), 404, ProblemType.notFound);
      const bad = problem(await invoke(instance.id, 'record', { timeoutMs: 600_000 }), 422, ProblemType.validation);
      assert.deepEqual(
        bad.errors?.map((e) => e.path),
        ['timeoutMs'],
      );
      problem(await invoke(instance.id, 'record', {}, await h.vendorToken('viewer')), 403, ProblemType.forbidden);
      problem(await invoke(instance.id, 'record', {}, await h.token('invoke-refused')), 403, ProblemType.forbidden);

      const paused = await h.app.request(`/api/v1/vendor/instances/${instance.id}/pause`, { method: 'POST', headers: { authorization: `Bearer ${vendor}` } });
      assert.equal(paused.status, 200);
      const conflict = problem(await invoke(instance.id, 'record', {}), 409, ProblemType.conflict);
      assert.equal(conflict.status, 409);
      assert.equal(conflict.detail, 'The instance is paused; only an active instance runs flows');
      assert.equal(h.sideEffects(instance.id).length, 0);
    });
  });
