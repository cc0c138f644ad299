// Executions across customers for the vendor's staff: an instance's executions and one with its
// logs (viewer), and running one again (support): `retry` a failed one, `rerun` any finished one.
// Both queue a new execution with the original's payload, linked to it by `rerunOf`, in the
// customer's own history (its executions and the instance's audit trail, as "vendor staff X").
import { Hono, type Context } from 'hono';
import { ExecutionListQuery, type ExecutionRerun } from 'plugboard/protocol';
import type { Services, VendorEnv } from '../env.js';
import { HttpProblem, notFound } from '../problem.js';
import { isTerminal, toSummary, type ExecutionPayload, type ExecutionRow } from '../runtime/executions.js';
import type { Runtime } from '../runtime/runtime.js';
import type { ExecutionTrigger } from 'plugboard/protocol';
import { parseWith } from '../validation.js';

const FAILED = new Set(['failed', 'timed_out']);

export function vendorExecutionRoutes({ store, integrations }: Pick<Services, 'store' | 'integrations'>, runtime: Runtime): Hono<VendorEnv> {
  const app = new Hono<VendorEnv>();

  app.get('/instances/:id/executions', async (c) => {
    const query = parseWith(ExecutionListQuery, c.req.query(), 'query');
    const instance = await store.vendor.getInstance(c.req.param('id'));
    if (!instance) throw notFound('Instance');
    return c.json(await runtime.executions.list(instance.customerId, instance.id, { status: query.status, cursor: query.cursor, limit: query.limit ?? 20 }));
  });

  app.get('/executions/:id', async (c) => {
    const row = await runtime.executions.get(c.req.param('id'));
    const detail = row && (await runtime.executions.detail(row.customer_id, row.id));
    if (!detail) throw notFound('Execution');
    return c.json(detail);
  });

  async function runAgain(c: Context<VendorEnv>, action: 'execution.retried' | 'execution.rerun'): Promise<Response> {
    const original: ExecutionRow | undefined = await runtime.executions.get(c.req.param('id') ?? '');
    if (!original) throw notFound('Execution');
    if (!isTerminal(original.status)) {
      throw new HttpProblem(409, 'conflict', `The execution is ${original.status}; only a finished one runs again`, { extra: { status: original.status } });
    }
    if (action === 'execution.retried' && !FAILED.has(original.status)) {
      throw new HttpProblem(409, 'conflict', `The execution ${original.status}; only a failed one is retried (re-run runs any finished one)`, {
        extra: { status: original.status },
      });
    }
    const instance = await store.vendor.getInstance(original.instance_id);
    if (!instance) throw notFound('Instance');
    if (!Object.hasOwn(integrations.offered(instance).flows, original.flow)) throw notFound(`Flow "${original.flow}"`);
    // As the runner and invoke do: `error` still runs (a success recovers it); draft and paused don't.
    if (instance.status !== 'active' && instance.status !== 'error') {
      throw new HttpProblem(409, 'conflict', `The instance is ${instance.status}; only an active instance runs flows`, { extra: { status: instance.status } });
    }
    // The original trigger's trace is its own: the new execution starts a trace of its own.
    const { traceparent: _, ...payload } = JSON.parse(original.payload) as ExecutionPayload;
    const row = await runtime.trigger({
      customerId: instance.customerId,
      instanceId: instance.id,
      flow: original.flow,
      trigger: original.trigger as ExecutionTrigger,
      payload,
      maxAttempts: Number(original.max_attempts),
      rerunOf: original.id,
    });
    if (!row) throw new Error('a re-run was not queued'); // only a schedule tick may be skipped
    await store.vendor.recordAudit({
      customerId: instance.customerId,
      actor: c.get('actor'),
      actorName: c.get('claims').name ?? null,
      action,
      target: `instance:${instance.id}`,
      details: { flow: original.flow, execution: row.id, rerunOf: original.id, by: 'vendor' },
    });
    c.header('location', `/api/v1/vendor/executions/${row.id}`);
    return c.json({ execution: toSummary(row), rerunOf: original.id } satisfies ExecutionRerun, 202);
  }

  app.post('/executions/:id/retry', (c) => runAgain(c, 'execution.retried'));
  app.post('/executions/:id/rerun', (c) => runAgain(c, 'execution.rerun'));

  return app;
}
