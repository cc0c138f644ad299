// Entry of an executor process: one per customer, started by the pool with a scrubbed
// environment, a heap cap and its own temporary working directory. It imports the vendor's
// integrations once, then runs flows as the pool asks over IPC.
//
// Isolation guarantee: module globals (and anything a flow leaves in them) live as long as this
// process, so they persist between runs of the SAME customer. They never reach another customer,
// because the pool never hands this process another customer's execution.
import { AsyncLocalStorage } from 'node:async_hooks';
import { rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FlowContext } from '../../sdk/index.js';
import { preciseNow } from './clock.js';
import { guardExecutorEgress } from './egress.js';
import type { ChildExecution, FromExecutor, ToExecutor } from './messages.js';
import { capText, ERROR_CAP_BYTES, formatLogLine, summarizeResult } from './summary.js';

/** Past this many lines in one execution, further lines are dropped after one notice. */
const MAX_LOG_LINES = 10_000;

interface RunnableFlow {
  run(ctx: FlowContext): unknown;
}
interface LoadedIntegration {
  key: string;
  flows: Record<string, RunnableFlow>;
}
interface Running {
  id: number;
  controller: AbortController;
  logLines: number;
}

const ownDir = dirname(fileURLToPath(import.meta.url));
const current = new AsyncLocalStorage<Running>();
const running = new Map<number, Running>();

function send(message: FromExecutor, then?: () => void): void {
  if (!process.connected) return;
  process.send!(message, undefined, undefined, then ? () => then() : undefined);
}

function isIntegration(v: unknown): v is LoadedIntegration {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as LoadedIntegration).key === 'string' &&
    typeof (v as LoadedIntegration).flows === 'object' &&
    (v as LoadedIntegration).flows !== null
  );
}

/** Accepts a default export that is a list, a single integration or a record of them, and named exports. */
function collectIntegrations(mod: Record<string, unknown>): Map<string, LoadedIntegration> {
  const found = new Map<string, LoadedIntegration>();
  const visit = (v: unknown, depth: number): void => {
    if (isIntegration(v)) found.set(v.key, v);
    else if (Array.isArray(v)) v.forEach((x) => visit(x, depth + 1));
    else if (depth === 0 && typeof v === 'object' && v !== null) Object.values(v).forEach((x) => visit(x, depth + 1));
  };
  for (const [name, value] of Object.entries(mod)) visit(value, name === 'default' || name === 'integrations' ? 0 : 1);
  return found;
}

function log(run: Running, level: 'info' | 'warn' | 'error', message: unknown, rest: unknown[]): void {
  run.logLines++;
  if (run.logLines > MAX_LOG_LINES) {
    if (run.logLines === MAX_LOG_LINES + 1) {
      send({
        type: 'log',
        id: run.id,
        level: 'warn',
        message: `log truncated: more than ${MAX_LOG_LINES} lines, the rest were dropped`,
        at: new Date().toISOString(),
      });
    }
    return;
  }
  send({ type: 'log', id: run.id, level, message: formatLogLine(message, rest), at: new Date().toISOString() });
}

// console.* inside a flow goes to that execution's log; outside any execution, to stderr (the pool discards it).
const original = { log: console.log, info: console.info, warn: console.warn, error: console.error, debug: console.debug };
function route(level: 'info' | 'warn' | 'error', fallback: (...args: unknown[]) => void) {
  return (message?: unknown, ...rest: unknown[]) => {
    const run = current.getStore();
    if (run && running.has(run.id)) log(run, level, message, rest);
    else fallback.call(console, message, ...rest);
  };
}
console.log = route('info', original.error);
console.info = route('info', original.error);
console.debug = route('info', original.error);
console.warn = route('warn', original.error);
console.error = route('error', original.error);

function errorMessage(err: unknown): string {
  if (err instanceof Error) return capText(err.message || err.name, ERROR_CAP_BYTES);
  return capText(formatLogLine(err, []), ERROR_CAP_BYTES);
}

/** Stack frames from the flow's own files, never the executor's or Node's internals. */
function flowFrames(err: unknown): string[] {
  if (!(err instanceof Error) || !err.stack) return [];
  return err.stack
    .split('\n')
    .filter((l) => /^\s+at /.test(l))
    .filter((l) => !l.includes('node:') && !l.includes(ownDir) && !l.includes('/node_modules/tsx/'))
    .slice(0, 10);
}

function isRetryable(err: unknown): boolean {
  // Duck-typed: the vendor's bundle may carry its own copy of the SDK's RetryableError.
  return typeof err === 'object' && err !== null && (err as { retryable?: unknown }).retryable === true;
}

/** Where a call goes, for its span: method, host and port only (never the path, query or headers). */
function describeCall(input: Parameters<typeof fetch>[0], init: RequestInit | undefined): { method: string; host: string; port?: number } {
  const request = typeof input === 'object' && 'url' in input ? input : undefined;
  const method = (init?.method ?? request?.method ?? 'GET').toUpperCase().slice(0, 32);
  try {
    const url = new URL(request ? request.url : String(input));
    return { method, host: url.hostname.slice(0, 300), ...(url.port ? { port: Number(url.port) } : {}) };
  } catch {
    return { method, host: 'invalid-url' };
  }
}

/** ctx.fetch that also reports each call to the pool (only when the runner traces). */
function reportingFetch(id: number, call: typeof fetch): typeof fetch {
  return async (input, init) => {
    const startedAt = preciseNow();
    const target = describeCall(input, init);
    try {
      const res = await call(input, init);
      send({ type: 'fetch', id, ...target, status: res.status, startedAt, endedAt: preciseNow() });
      return res;
    } catch (err) {
      const error = err instanceof Error ? err.name.slice(0, 100) : 'Error';
      send({ type: 'fetch', id, ...target, error, startedAt, endedAt: preciseNow() });
      throw err;
    }
  };
}

async function execute(
  id: number,
  execution: ChildExecution,
  integrations: Map<string, LoadedIntegration>,
  egressFetch: typeof fetch,
  reportFetches: boolean,
): Promise<void> {
  const run: Running = { id, controller: new AbortController(), logLines: 0 };
  running.set(id, run);
  const signal = run.controller.signal;
  const startedAt = preciseNow();
  let done: FromExecutor;
  try {
    const integration = integrations.get(execution.integrationKey);
    if (!integration) throw new Error(`Integration "${execution.integrationKey}" is not in this deployment`);
    const flow = Object.hasOwn(integration.flows, execution.flow) ? integration.flows[execution.flow] : undefined;
    if (!flow || typeof flow.run !== 'function') {
      throw new Error(`Flow "${execution.flow}" does not exist in integration "${execution.integrationKey}"`);
    }
    const flowFetch = reportFetches ? reportingFetch(id, egressFetch) : egressFetch;
    const ctx: FlowContext = {
      executionId: execution.executionId,
      instanceId: execution.instanceId,
      customer: execution.customer,
      flow: execution.flow,
      attempt: execution.attempt,
      trigger: execution.trigger,
      payload: execution.payload,
      headers: execution.headers,
      config: execution.config,
      connections: execution.connections,
      log: {
        info: (message, ...rest) => log(run, 'info', message, rest),
        warn: (message, ...rest) => log(run, 'warn', message, rest),
        error: (message, ...rest) => log(run, 'error', message, rest),
      },
      fetch: (input, init) => flowFetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal }),
      signal,
    };
    const value = await current.run(run, () => flow.run(ctx));
    done = { type: 'done', id, status: 'succeeded', result: summarizeResult(value), retryable: false, startedAt, endedAt: preciseNow() };
  } catch (err) {
    const frames = flowFrames(err);
    if (frames.length > 0) log(run, 'error', `${errorMessage(err)}\n${frames.join('\n')}`, []);
    done = { type: 'done', id, status: 'failed', error: errorMessage(err), retryable: isRetryable(err), startedAt, endedAt: preciseNow() };
  }
  running.delete(id);
  send(done);
}

async function main(): Promise<void> {
  const moduleUrl = process.argv[2];
  if (!process.send || !moduleUrl) {
    original.error('This is the Plugboard executor entry; the executor pool starts it.');
    process.exit(64);
  }
  // The parent went away (even by SIGKILL): nothing left to do, and nobody else will remove our directory.
  const ownRoot = dirname(process.env.HOME ?? process.cwd());
  process.on('disconnect', () => {
    if (basename(ownRoot).startsWith('plugboard-executor-')) rmSync(ownRoot, { recursive: true, force: true });
    process.exit(0);
  });
  process.on('uncaughtException', (err) => {
    send({ type: 'fatal', error: errorMessage(err) }, () => process.exit(70));
    setTimeout(() => process.exit(70), 500).unref();
  });
  process.on('unhandledRejection', (reason) => {
    original.error('unhandled rejection in a flow:', errorMessage(reason));
  });

  let integrations: Map<string, LoadedIntegration>;
  let egressFetch: typeof fetch;
  try {
    // Before the integrations load, so a module that keeps a reference to fetch keeps the guarded one.
    egressFetch = guardExecutorEgress(process.env.PLUGBOARD_EGRESS_ALLOW);
    // Read once: changing it later changes nothing, and flows see no PLUGBOARD_* variable.
    delete process.env.PLUGBOARD_EGRESS_ALLOW;
  } catch (err) {
    send({ type: 'load-failed', error: `The egress policy is invalid: ${errorMessage(err)}` }, () => process.exit(65));
    return;
  }
  try {
    integrations = collectIntegrations((await import(moduleUrl)) as Record<string, unknown>);
  } catch (err) {
    send({ type: 'load-failed', error: `Could not load the integrations: ${errorMessage(err)}` }, () => process.exit(65));
    return;
  }
  process.on('message', (m: ToExecutor) => {
    if (m.type === 'run') void execute(m.id, m.execution, integrations, egressFetch, m.reportFetches === true);
    else if (m.type === 'abort') {
      const reason =
        m.cause === 'timeout'
          ? new DOMException('The execution ran past its timeout', 'TimeoutError')
          : new DOMException('The execution was cancelled', 'AbortError');
      running.get(m.id)?.controller.abort(reason);
    }
  });
  send({ type: 'ready', integrations: [...integrations.keys()] });
}

void main();
