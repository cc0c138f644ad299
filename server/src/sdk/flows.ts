import type { ExecutionTrigger, FlowTrigger } from 'plugboard/protocol';
import type { ConnectionCredentials } from './connections.js';

/** What starts a flow: the protocol's `FlowTrigger`, as the catalog shows it. */
export type Trigger = FlowTrigger;
/** With `hmac`, callers must sign the body: `X-Plugboard-Signature: sha256=<hex HMAC of the raw body>`. */
export type WebhookTrigger = Extract<FlowTrigger, { type: 'webhook' }>;
export type ScheduleTrigger = Extract<FlowTrigger, { type: 'schedule' }>;

export function webhook(o: { hmac?: boolean } = {}): WebhookTrigger {
  return { type: 'webhook', hmac: Boolean(o.hmac) };
}

/** Five-field cron (`m h dom mon dow`), in `timezone` (IANA name, default UTC). */
export function schedule(cron: string, o: { timezone?: string } = {}): ScheduleTrigger {
  return { type: 'schedule', cron, timezone: o.timezone ?? 'UTC' };
}

export interface FlowLogger {
  info(message: string, ...rest: unknown[]): void;
  warn(message: string, ...rest: unknown[]): void;
  error(message: string, ...rest: unknown[]): void;
}

export interface FlowContext<Config = Record<string, unknown>> {
  executionId: string;
  instanceId: string;
  customer: { id: string; externalId: string };
  flow: string;
  attempt: number;
  trigger: ExecutionTrigger;
  /** The webhook body (parsed JSON when it was JSON, else the text), or `{ scheduledFor }`. */
  payload: unknown;
  headers: Record<string, string>;
  config: Config;
  connections: Record<string, ConnectionCredentials>;
  log: FlowLogger;
  fetch: typeof fetch;
  signal: AbortSignal;
}

export interface FlowDefinition<Config = Record<string, unknown>> {
  description?: string;
  trigger: Trigger;
  /** May return a value or a promise of one (the summary is stored with the execution). */
  run(ctx: FlowContext<Config>): unknown;
}

/** Throw this from a flow for a failure worth retrying (with backoff); other errors fail at once. */
export class RetryableError extends Error {
  override name = 'RetryableError';
  readonly retryable = true;
}
