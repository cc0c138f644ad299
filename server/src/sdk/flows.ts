import type { ExecutionTrigger, FlowTrigger } from 'plugboard/protocol';
import type { ConnectionCredentials } from './connections.js';

/** What starts a flow: the protocol's `FlowTrigger`, as the catalog shows it (plus a webhook's own verifier). */
export type Trigger = WebhookTrigger | ScheduleTrigger;
export type ScheduleTrigger = Extract<FlowTrigger, { type: 'schedule' }>;

/** What a custom webhook verifier gets: every request header (lower-case names), the raw body, and the flow's signing secret. */
export interface WebhookVerifierInput {
  headers: Readonly<Record<string, string>>;
  rawBody: Buffer;
  /** The secret the customer generated for this flow (`whsec_…`), exactly as it was shown. */
  secret: string;
}

/**
 * Checks a provider's own signature. `true` or `{ id }` accepts (an `id`, such as GitHub's
 * `X-GitHub-Delivery`, makes a redelivery run once); `false` or a throw refuses with 401. Runs in
 * the server with a time limit, never in the executor: it needs the secret.
 */
export type WebhookVerifier = (input: WebhookVerifierInput) => boolean | { id?: string } | Promise<boolean | { id?: string }>;

/**
 * A webhook trigger. `hmac` on the wire means "requests are signed: the customer generates a
 * secret"; `verify` is server-side only and never reaches the catalog.
 */
export type WebhookTrigger = Extract<FlowTrigger, { type: 'webhook' }> & { verify?: WebhookVerifier };

export interface WebhookOptions {
  /** Callers sign each request the Standard Webhooks way (`webhook-id`, `webhook-timestamp`, `webhook-signature`) with the flow's secret. */
  signed?: boolean;
  /** The old name of `signed` (kept so existing integrations keep working): the same scheme. */
  hmac?: boolean;
  /** A provider that signs its own way (GitHub, Stripe): this check replaces the Standard Webhooks one. */
  verify?: WebhookVerifier;
}

/**
 * Unsigned by default: the unguessable URL is the credential. `signed: true` asks for Standard
 * Webhooks signatures (5-minute tolerance, a `webhook-id` runs once); `verify` for a provider's own.
 */
export function webhook(o: WebhookOptions = {}): WebhookTrigger {
  const signed = Boolean(o.signed || o.hmac || o.verify);
  return o.verify ? { type: 'webhook', hmac: signed, verify: o.verify } : { type: 'webhook', hmac: signed };
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
