// The runtime's control-plane side, shared by the HTTP routes (webhooks, executions API, metrics)
// and the runner: the executions table, webhook endpoints, the queue, metrics and alerts.
import { randomUUID } from 'node:crypto';
import type { Cipher } from '../secrets.js';
import type { Store } from '../store/types.js';
import type { Telemetry } from '../telemetry.js';
import type { AlertSender } from './alerts.js';
import { Backpressure } from './backpressure.js';
import { ExecutionStore, type ExecutionRow, type NewExecution } from './executions.js';
import type { RuntimeMetrics } from './metrics.js';
import type { ExecutionQueue } from './queue.js';
import { runtimeDb } from './schema.js';
import { WebhookEndpoints } from './webhooks.js';

export interface Runtime {
  readonly executions: ExecutionStore;
  readonly webhooks: WebhookEndpoints;
  readonly queue: ExecutionQueue;
  readonly metrics: RuntimeMetrics;
  readonly alerts: AlertSender;
  /** Attempts an execution gets when its failures are retryable (PLUGBOARD_MAX_ATTEMPTS, default 3). */
  readonly maxAttempts: number;
  /** Largest webhook body accepted (PLUGBOARD_WEBHOOK_BODY_LIMIT_BYTES, default 256 KiB). */
  readonly webhookBodyLimitBytes: number;
  /** Queue limits (PLUGBOARD_QUEUE_LIMIT_PER_CUSTOMER, PLUGBOARD_QUEUE_LIMIT): `check` refuses with QueueFullError, without I/O. */
  readonly backpressure: Backpressure;
  /**
   * Stores a queued execution and hands it to the runners. Undefined when a schedule tick already
   * fired. Throws QueueFullError, storing nothing, when the customer's queue (or all) is full.
   * `maxAttempts` defaults to the runtime's (an invocation takes 1: its caller decides about retries).
   */
  trigger(input: Omit<NewExecution, 'maxAttempts'> & { maxAttempts?: number }): Promise<ExecutionRow | undefined>;
}

export function createRuntime(options: {
  store: Store;
  cipher: Cipher;
  queue: ExecutionQueue;
  metrics: RuntimeMetrics;
  alerts: AlertSender;
  publicUrl: string;
  maxAttempts?: number;
  webhookBodyLimitBytes?: number;
  /** Default: no limits. */
  backpressure?: Backpressure;
  /** When on, each execution stores the trigger's trace context (its runner continues the trace). */
  telemetry?: Telemetry;
}): Runtime {
  const db = runtimeDb(options.store.db);
  const executions = new ExecutionStore(db);
  const maxAttempts = options.maxAttempts ?? 3;
  const backpressure = options.backpressure ?? new Backpressure({ perCustomer: 0, global: 0, countQueued: () => executions.queuedByCustomer() });
  return {
    executions,
    webhooks: new WebhookEndpoints(db, options.store.cache, options.cipher, options.publicUrl.replace(/\/+$/, '')),
    queue: options.queue,
    metrics: options.metrics,
    alerts: options.alerts,
    maxAttempts,
    webhookBodyLimitBytes: options.webhookBodyLimitBytes ?? 256 * 1024,
    backpressure,
    async trigger(input) {
      const { queue } = options;
      const unreserve = backpressure.reserve(input.customerId);
      const traceparent = options.telemetry?.traceparent();
      const payload = traceparent ? { ...input.payload, traceparent } : input.payload;
      let row: ExecutionRow | undefined;
      let queued = true;
      let queueing: Awaited<ReturnType<NonNullable<ExecutionQueue['queueing']>>> | undefined;
      try {
        // One statement on PostgreSQL: the execution, its job and the runners' wake-up (not for a schedule tick, whose insert may do nothing).
        if (queue.queueing && input.tickKey === undefined) {
          const id = input.id ?? randomUUID();
          queueing = await queue.queueing({ id, customerId: input.customerId, instanceId: input.instanceId });
          ({ row, queued } = await executions.createQueued({ ...input, id, payload, maxAttempts: input.maxAttempts ?? maxAttempts }, queueing.statements));
        } else {
          row = await executions.create({ ...input, payload, maxAttempts: input.maxAttempts ?? maxAttempts });
        }
      } finally {
        if (!row) unreserve();
      }
      if (!row) return undefined;
      try {
        if (queueing) await queueing.queued(queued);
        else await queue.enqueue({ id: row.id, customerId: row.customer_id, instanceId: row.instance_id });
      } catch (error) {
        // Not handed over: fail it visibly rather than leave it queued with nobody to take it.
        unreserve();
        await executions.finish(row, {
          status: 'failed',
          startedAt: row.queued_at,
          endedAt: new Date().toISOString(),
          durationMs: 0,
          error: 'The execution could not be queued',
          resultSummary: null,
          logs: [],
        });
        throw error;
      }
      options.metrics.executionQueued(input.trigger);
      return row;
    },
  };
}
