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

/** Words the customer reads about a trigger (the dialog and the runs show them, never the flow's key). */
export interface TriggerWords {
  /** Short name, e.g. "Ledgerly payment events". */
  label?: string;
  /** One sentence: who calls it, or when it runs. */
  description?: string;
}

export interface WebhookOptions extends TriggerWords {
  /**
   * The customer gives this URL to a third party (e.g. pastes it into Ledgerly's webhook settings):
   * the dialog shows it, with its signing secret. Default false: the vendor's own product calls it,
   * and the customer never sees it.
   */
  customerFacing?: boolean;
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
  return {
    type: 'webhook',
    hmac: signed,
    ...(o.customerFacing ? { customerFacing: true } : {}),
    ...words(o),
    ...(o.verify ? { verify: o.verify } : {}),
  };
}

export interface ScheduleOptions extends TriggerWords {
  /** IANA name, default UTC. */
  timezone?: string;
  /**
   * A config field of whole minutes (e.g. a `field.number({ integer: true, min: 15 })`): when an
   * instance has a value there, the flow runs every that many minutes instead of on `cron`, and the
   * dialog says so ("Every 30 minutes"). Runs fall on the multiples of the interval since
   * 1970-01-01 00:00 UTC: an interval that divides a day (15, 30, 60, 120…) runs at the same times
   * every day, counted from midnight UTC; another (45, 90…) shifts from one day to the next.
   */
  intervalField?: string;
}

/** Five-field cron (`m h dom mon dow`), in `timezone` (IANA name, default UTC). */
export function schedule(cron: string, o: ScheduleOptions = {}): ScheduleTrigger {
  return { type: 'schedule', cron, timezone: o.timezone ?? 'UTC', ...(o.intervalField ? { intervalField: o.intervalField } : {}), ...words(o) };
}

function words(o: TriggerWords): TriggerWords {
  return { ...(o.label !== undefined ? { label: o.label } : {}), ...(o.description !== undefined ? { description: o.description } : {}) };
}

export interface FlowLogger {
  info(message: string, ...rest: unknown[]): void;
  warn(message: string, ...rest: unknown[]): void;
  error(message: string, ...rest: unknown[]): void;
}

/** `fetch`'s options plus the connection the call goes through (its rate limit applies, its 429s pause it). */
export type FlowFetchInit = RequestInit & {
  /**
   * The connection's name: the call first takes a turn from the connection's rate limit (waiting when
   * none is left), and a 429 from the provider pauses the connection for every flow, then the call is
   * sent again after the pause (up to `maxRetries` times, within the flow's time limit).
   */
  connection?: string;
  /** How many times a 429 through `connection` is retried before the flow gets it (default 5; 0: never). */
  maxRetries?: number;
};
export type FlowFetch = (input: string | URL | Request, init?: FlowFetchInit) => Promise<Response>;

/**
 * A small key-value store per instance (JSON values) for cursors, last-seen ids and dedupe sets.
 * Reads see this execution's own writes; writes are kept only when the execution succeeds, in the
 * same transaction as its result (a failed or retried execution leaves the state as it was).
 */
export interface FlowState {
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** Throws FlowStateLimitError when the value is not JSON or the instance's state would pass its size limit. */
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  keys(): Promise<string[]>;
}

/** Limits of one instance's state (the executor enforces them in `set`). */
export const FLOW_STATE_LIMITS = { keyChars: 200, keys: 1000, totalBytes: 1024 * 1024 } as const;

/** Thrown by ctx.state.set when the key or value breaks a limit of FLOW_STATE_LIMITS. */
export class FlowStateLimitError extends Error {
  override name = 'FlowStateLimitError';
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
  /** `fetch` under the egress policy; `{ connection: 'name' }` in its options applies that connection's rate limit. */
  fetch: FlowFetch;
  /** This instance's state, kept between executions (written when this one succeeds). */
  state: FlowState;
  signal: AbortSignal;
}

export interface FlowDefinition<Config = Record<string, unknown>> {
  /** What the customer reads for this flow, e.g. "Sync contacts" (default: the flow's key in words). */
  label?: string;
  /** One sentence for the customer: what the flow does. */
  description?: string;
  trigger: Trigger;
  /**
   * May return a value or a promise of one (stored with the execution). The runs list shows a
   * returned string, or a returned object's `summary` string, as the run's summary in words;
   * the rest is behind its "Details".
   */
  run(ctx: FlowContext<Config>): unknown;
}

/** Throw this from a flow for a failure worth retrying (with backoff); other errors fail at once. */
export class RetryableError extends Error {
  override name = 'RetryableError';
  readonly retryable = true;
}
