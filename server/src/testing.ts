// `@plugboard/server/testing`: what a vendor's integration engineer uses to unit-test flows with
// node:test like any code. Each run goes through a real executor — the same child process, egress
// policy and time limit as production — with the config, connections and payload the test gives,
// and the instance's state, and hands back the result, the lines logged, the state changes and the
// requests made. No database, no server.
import { randomUUID } from 'node:crypto';
import type { ExecutionTrigger } from 'plugboard/protocol';
import { createExecutorPool, type ExecutionLogLine, type ExecutionOutcome, type OutboundCall } from './runtime/executor/index.js';
import type { ConnectionCredentials } from './sdk/index.js';

export type { ExecutionLogLine, OutboundCall };

/** A connection as a test gives it: an API key's values, or an access token (real or a stand-in's). */
export type TestConnection =
  | { kind: 'apiKey'; values: Record<string, string> }
  | {
      kind: 'oauth2' | 'clientCredentials';
      accessToken: string;
      tokenType?: string;
      expiresAt?: string | null;
      scopes?: string[];
      tenant?: Record<string, string>;
    };

export interface FlowHarnessOptions {
  /** The integrations module, as PLUGBOARD_INTEGRATIONS takes it: a path, a file URL or a package name. */
  integrations: string | URL;
  /** Exceptions to the egress policy, as PLUGBOARD_EGRESS_ALLOW takes them (e.g. `127.0.0.1` for a stand-in API on loopback). */
  egressAllow?: string;
  /** Variables the flows read from `process.env` (PLUGBOARD_EXECUTOR_ENV_* in production). */
  env?: Record<string, string>;
  /**
   * Runs executors without PID namespaces where the machine has none (a laptop without root):
   * default true here, with the reason in `warnings`; production refuses unless told.
   */
  allowWeakIsolation?: boolean;
  /** Default time limit of a run, 30 000 ms. */
  timeoutMs?: number;
}

export interface RunFlowInput {
  /** The integration's key. */
  integration: string;
  /** The flow's name in the integration's `flows`. */
  flow: string;
  config?: Record<string, unknown>;
  connections?: Record<string, TestConnection>;
  payload?: unknown;
  headers?: Record<string, string>;
  /** Default `webhook` for a webhook flow's payload, or whatever the test says. */
  trigger?: ExecutionTrigger;
  attempt?: number;
  timeoutMs?: number;
  /** The customer the run belongs to (`ctx.customer.externalId`); default `test-customer`. */
  customer?: string;
  /** The instance's stored `ctx.state` before the run, JSON values per key (e.g. the previous run's `state`); default empty. */
  state?: Record<string, unknown>;
}

/** What a run wrote to `ctx.state`: values per key set, and the keys deleted. */
export interface FlowStateChanges {
  set: Record<string, unknown>;
  deleted: string[];
}

export interface FlowRun {
  status: ExecutionOutcome['status'];
  /** The flow's return value, JSON-safe and capped as it is stored. */
  result?: unknown;
  /** The message a customer would read: the flow's error, or what happened to its executor. */
  error?: string;
  /** Whether the runtime would retry it (RetryableError, executor crash). */
  retryable: boolean;
  reason?: ExecutionOutcome['reason'];
  /** Every line the flow logged, in order. */
  logs: ExecutionLogLine[];
  /** Every `ctx.fetch` call: method, host, port and status (never a path, a query or a header). */
  requests: OutboundCall[];
  /** What the runtime would store with this run: a succeeded run's writes; none for a failed or timed-out one (they are dropped). */
  stateChanges: FlowStateChanges;
  /** The instance's state after the run as production would keep it: the given `state` with `stateChanges` applied. */
  state: Record<string, unknown>;
  /** Flow code running time inside the executor. */
  runMs: number;
}

export interface FlowHarness {
  /** Runs one flow to its end; never rejects for what the flow does (a throw is `status: 'failed'`). */
  run(input: RunFlowInput): Promise<FlowRun>;
  /** What the executor pool told the operator (weak isolation, uids off). */
  readonly warnings: readonly string[];
  /** Stops the executors; call it in `after()`. */
  close(): Promise<void>;
}

function credentialsOf(connection: TestConnection): ConnectionCredentials {
  if (connection.kind === 'apiKey') return { kind: 'apiKey', values: { ...connection.values } };
  return {
    kind: connection.kind,
    accessToken: connection.accessToken,
    tokenType: connection.tokenType ?? 'Bearer',
    expiresAt: connection.expiresAt ?? null,
    scopes: connection.scopes ?? [],
    ...(connection.tenant ? { tenant: connection.tenant } : {}),
  };
}

function stateText(key: string, value: unknown): string {
  const text = value === undefined ? undefined : JSON.stringify(value);
  if (text === undefined) throw new TypeError(`state.${key}: the value must be JSON (got ${typeof value})`);
  return text;
}

/** One harness per test file: its executor stays warm between runs, as a customer's does in production. */
export function createFlowHarness(options: FlowHarnessOptions): FlowHarness {
  const warnings: string[] = [];
  const pool = createExecutorPool({
    integrationsModule: options.integrations instanceof URL ? options.integrations.href : options.integrations,
    allowWeakIsolation: options.allowWeakIsolation ?? true,
    spares: 0,
    env: { ...options.env, ...(options.egressAllow ? { PLUGBOARD_EGRESS_ALLOW: options.egressAllow } : {}) },
    onEvent: (event) => {
      if (event.type === 'warning') warnings.push(event.message);
    },
  });
  return {
    warnings,
    async run(input) {
      const logs: ExecutionLogLine[] = [];
      const requests: OutboundCall[] = [];
      const customer = input.customer ?? 'test-customer';
      // As the store holds it: JSON text per key, so the flow reads what a round trip through the database gives.
      const stored = Object.fromEntries(Object.entries(input.state ?? {}).map(([key, value]) => [key, stateText(key, value)]));
      const outcome = await pool.run(
        {
          executionId: randomUUID(),
          customerId: `test:${customer}`,
          customerExternalId: customer,
          instanceId: `test-instance-${input.integration}`,
          integrationKey: input.integration,
          flow: input.flow,
          attempt: input.attempt ?? 1,
          trigger: input.trigger ?? 'webhook',
          payload: input.payload ?? null,
          headers: input.headers ?? {},
          config: input.config ?? {},
          connections: Object.fromEntries(Object.entries(input.connections ?? {}).map(([name, c]) => [name, credentialsOf(c)])),
          timeoutMs: input.timeoutMs ?? options.timeoutMs ?? 30_000,
        },
        (line) => logs.push(line),
        undefined,
        (call) => requests.push(call),
        { readState: () => Promise.resolve(stored) },
      );
      const written = outcome.state ?? { set: {}, deleted: [] };
      const stateChanges: FlowStateChanges = {
        set: Object.fromEntries(Object.entries(written.set).map(([key, text]) => [key, JSON.parse(text) as unknown])),
        deleted: [...written.deleted],
      };
      // A Map, not object assignment: a key such as `__proto__` is data here, as it is in the store.
      const after = new Map(Object.entries(stored));
      for (const key of written.deleted) after.delete(key);
      for (const [key, text] of Object.entries(written.set)) after.set(key, text);
      const state = Object.fromEntries([...after].map(([key, text]) => [key, JSON.parse(text) as unknown]));
      return {
        status: outcome.status,
        ...(outcome.result !== undefined ? { result: outcome.result } : {}),
        ...(outcome.error !== undefined ? { error: outcome.error } : {}),
        retryable: outcome.retryable,
        ...(outcome.reason ? { reason: outcome.reason } : {}),
        logs,
        requests,
        stateChanges,
        state,
        runMs: outcome.timings.runMs,
      };
    },
    close: () => pool.close(),
  };
}
