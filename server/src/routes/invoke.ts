// Synchronous invocation for the vendor's backend: POST /vendor/instances/:id/flows/:flow/invoke
// queues an execution like a webhook does (so it runs in the customer's own executor, on any
// runner, with its logs stored), then waits for its end and answers with the flow's result.
// 200 result · 404 instance or flow · 409 instance not active · 422 the flow failed · 504 time limit.
import { Hono } from 'hono';
import { INVOKE_TIMEOUT_DEFAULT_MS, InvokeBody, type InvokeResult } from 'plugboard/protocol';
import type { Services, VendorEnv } from '../env.js';
import { HttpProblem, notFound } from '../problem.js';
import { isTerminal, type ExecutionRow } from '../runtime/executions.js';
import type { Runtime } from '../runtime/runtime.js';
import { readBody } from '../validation.js';

/** Past the flow's own limit, how long the caller waits for a runner to take the execution and an executor to start. */
export const INVOKE_START_GRACE_MS = 10_000;

/** Reads the execution until it ends or the deadline passes: quick at first (most flows are short), then every 200 ms. */
async function settled(runtime: Runtime, id: string, deadline: number, signal: AbortSignal): Promise<ExecutionRow | undefined> {
  let wait = 10;
  for (;;) {
    const row = await runtime.executions.get(id);
    if (!row || isTerminal(row.status) || Date.now() >= deadline || signal.aborted) return row;
    await new Promise((r) => setTimeout(r, Math.min(wait, Math.max(0, deadline - Date.now()))));
    wait = Math.min(wait * 2, 200);
  }
}

function parseResult(stored: string | null): unknown {
  if (stored === null) return null;
  try {
    return JSON.parse(stored) as unknown;
  } catch {
    return stored; // written before invocations kept JSON: the text as it is
  }
}

export function invokeRoutes({ store, integrations }: Pick<Services, 'store' | 'integrations'>, runtime: Runtime): Hono<VendorEnv> {
  const app = new Hono<VendorEnv>();

  app.post('/instances/:id/flows/:flow/invoke', async (c) => {
    const instance = await store.vendor.getInstance(c.req.param('id'));
    if (!instance) throw notFound('Instance');
    const flow = c.req.param('flow');
    if (!Object.hasOwn(integrations.offered(instance).flows, flow)) throw notFound(`Flow "${flow}"`);
    // `error` still runs (a success recovers it), as the runner does; draft and paused don't.
    if (instance.status !== 'active' && instance.status !== 'error') {
      throw new HttpProblem(409, 'conflict', `The instance is ${instance.status}; only an active instance runs flows`, { extra: { status: instance.status } });
    }
    const body = await readBody(c, InvokeBody);
    const timeoutMs = body.timeoutMs ?? INVOKE_TIMEOUT_DEFAULT_MS;

    const row = await runtime.trigger({
      customerId: instance.customerId,
      instanceId: instance.id,
      flow,
      trigger: 'invoke',
      payload: { body: body.payload ?? null, headers: {}, timeoutMs },
      maxAttempts: 1,
    });
    if (!row) throw new Error('an invocation was not queued'); // only a schedule tick may be skipped
    await store.vendor.recordAudit({
      customerId: instance.customerId,
      actor: c.get('actor'),
      action: 'flow.invoked',
      target: `instance:${instance.id}`,
      details: { flow, execution: row.id, by: 'vendor' },
    });

    const done = await settled(runtime, row.id, Date.now() + timeoutMs + INVOKE_START_GRACE_MS, c.req.raw.signal);
    const detail = done && isTerminal(done.status) ? await runtime.executions.detail(instance.customerId, row.id) : undefined;
    if (!detail) {
      throw new HttpProblem(504, 'timedOut', `The flow did not finish within ${timeoutMs} ms; execution ${row.id} goes on and is recorded`, {
        extra: { executionId: row.id, status: done?.status ?? 'queued' },
      });
    }
    const extra = { executionId: detail.id, status: detail.status, logs: detail.logs };
    if (detail.status === 'timed_out') {
      throw new HttpProblem(504, 'timedOut', detail.error ?? `The flow did not finish within ${timeoutMs} ms`, { extra });
    }
    if (detail.status !== 'succeeded') {
      throw new HttpProblem(422, 'flowFailed', detail.error ?? 'The flow failed', { extra: { ...extra, error: detail.error } });
    }
    const answer: InvokeResult = {
      executionId: detail.id,
      status: 'succeeded',
      result: parseResult(detail.resultSummary),
      durationMs: detail.durationMs,
      logs: detail.logs,
    };
    return c.json(answer);
  });

  return app;
}
