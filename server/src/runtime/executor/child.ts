// Entry of an executor process: one per customer, started by the pool with a scrubbed
// environment, a heap cap and its own temporary working directory. It imports the vendor's
// integrations at start (a reloaded module's generation on first use), then runs flows as the pool asks over IPC.
//
// Isolation guarantee: module globals (and anything a flow leaves in them) live as long as this
// process, so they persist between runs of the SAME customer. They never reach another customer,
// because the pool never hands this process another customer's execution.
import { AsyncLocalStorage } from 'node:async_hooks';
import { rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FLOW_STATE_LIMITS, FlowStateLimitError, type FlowContext, type FlowFetch, type FlowState } from '../../sdk/flows.js';
import { preciseNow } from './clock.js';
import { guardExecutorEgress } from './egress.js';
import type { ChildExecution, FromExecutor, ToExecutor } from './messages.js';
import { pauseAfter429 } from './retry-after.js';
import { capText, ERROR_CAP_BYTES, formatLogLine, summarizeResult } from './summary.js';

/** Past this many lines in one execution, further lines are dropped after one notice. */
const MAX_LOG_LINES = 10_000;

interface RunnableFlow {
  run(ctx: FlowContext): unknown;
}
interface LoadedIntegration {
  key: string;
  version?: unknown;
  flows: Record<string, RunnableFlow>;
}
/** A module's integrations by key (the first listed) and by `key@version` (every version it exports). */
type LoadedModule = Map<string, LoadedIntegration>;
interface Running {
  id: number;
  controller: AbortController;
  logLines: number;
  /** Time spent waiting for each connection's rate limit, for the log line at the end. */
  waits: Map<string, { ms: number; calls: number; pauses: number }>;
  /** ctx.state as read from the runner (loaded on first use) and what this execution changed. */
  state?: Promise<Map<string, string>>;
  stateSet: Map<string, string>;
  stateDeleted: Set<string>;
}

/** Answers the runner owes: rate-limit turns (by `${run}:${call}`) and state reads (by run). */
const turns = new Map<string, { resolve: (waitedMs: number) => void; reject: (err: Error) => void }>();
const stateReads = new Map<number, { resolve: (entries: Record<string, string>) => void; reject: (err: Error) => void }>();
let nextCall = 1;

/** The connection's rate limit has no turn left before the flow's time limit: retried later, with backoff. */
class RateLimitWaitError extends Error {
  override name = 'RateLimitWaitError';
  readonly retryable = true;
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
function collectIntegrations(mod: Record<string, unknown>): LoadedModule {
  const found: LoadedModule = new Map();
  const visit = (v: unknown, depth: number): void => {
    if (isIntegration(v)) {
      // The first of a key is its current version, as the control plane reads the module.
      if (!found.has(v.key)) found.set(v.key, v);
      if (typeof v.version === 'string' && !found.has(`${v.key}@${v.version}`)) found.set(`${v.key}@${v.version}`, v);
    } else if (Array.isArray(v)) v.forEach((x) => visit(x, depth + 1));
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

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(done, ms);
    function done() {
      signal.removeEventListener('abort', stop);
      resolve();
    }
    function stop() {
      clearTimeout(timer);
      reject(signal.reason as Error);
    }
    signal.addEventListener('abort', stop, { once: true });
  });
}

function takeTurn(run: Running, connection: string): Promise<number> {
  const call = nextCall++;
  const key = `${run.id}:${call}`;
  const signal = run.controller.signal;
  return new Promise<number>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const stop = () => {
      turns.delete(key);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', stop, { once: true });
    const settle = () => signal.removeEventListener('abort', stop);
    turns.set(key, {
      resolve: (ms) => (settle(), resolve(ms)),
      reject: (err) => (settle(), reject(err)),
    });
    send({ type: 'turn', id: run.id, call, connection });
  });
}

function waited(run: Running, connection: string, ms: number, pause = false): void {
  const w = run.waits.get(connection) ?? { ms: 0, calls: 0, pauses: 0 };
  w.ms += ms;
  w.calls += pause ? 0 : 1;
  w.pauses += pause ? 1 : 0;
  run.waits.set(connection, w);
}

/**
 * ctx.fetch: a call naming a connection takes a turn of its rate limit first (the runner answers,
 * counting in the database); a 429 pauses the connection for every flow and the call is sent again.
 */
function flowFetch(run: Running, base: typeof fetch): FlowFetch {
  const signal = run.controller.signal;
  return async (input, init = {}) => {
    const { connection, maxRetries = 5, ...rest } = init;
    const request: RequestInit = { ...rest, signal: rest.signal ? AbortSignal.any([rest.signal, signal]) : signal };
    if (connection === undefined) return base(input, request);
    // A streamed body can be sent once only: its 429 goes to the flow.
    const replayable = !(input instanceof Request && input.body !== null) && !(rest.body instanceof ReadableStream);
    for (let attempt = 0; ; attempt++) {
      const started = preciseNow();
      try {
        await takeTurn(run, connection);
      } finally {
        waited(run, connection, preciseNow() - started);
      }
      const res = await base(input, request);
      if (res.status !== 429 || attempt >= maxRetries || !replayable) return res;
      const ms = pauseAfter429(res.headers, attempt);
      await res.body?.cancel();
      send({ type: 'pause', id: run.id, connection, ms });
      log(
        run,
        'warn',
        `The provider answered 429 (too many requests) through connection "${connection}": every flow on it pauses for ${seconds(ms)}, then this request is sent again (retry ${attempt + 1} of ${maxRetries})`,
        [],
      );
      const paused = preciseNow();
      await sleep(ms, signal);
      waited(run, connection, preciseNow() - paused, true);
    }
  };
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

function readState(run: Running): Promise<Map<string, string>> {
  run.state ??= new Promise<Record<string, string>>((resolve, reject) => {
    stateReads.set(run.id, { resolve, reject });
    send({ type: 'state-read', id: run.id });
  }).then((entries) => new Map(Object.entries(entries)));
  return run.state;
}

/** ctx.state: read once from the runner, written back with the execution's success. */
function flowState(run: Running): FlowState {
  const checkKey = (key: string) => {
    if (typeof key !== 'string' || key.length === 0 || key.length > FLOW_STATE_LIMITS.keyChars) {
      throw new FlowStateLimitError(`ctx.state: a key must be a string of 1 to ${FLOW_STATE_LIMITS.keyChars} characters`);
    }
  };
  return {
    async get<T>(key: string): Promise<T | undefined> {
      checkKey(key);
      const text = (await readState(run)).get(key);
      return text === undefined ? undefined : (JSON.parse(text) as T);
    },
    async set(key, value) {
      checkKey(key);
      const text = JSON.stringify(value);
      if (text === undefined)
        throw new FlowStateLimitError(`ctx.state.set("${key}"): the value must be JSON (got ${typeof value}); use delete() to remove a key`);
      const entries = await readState(run);
      if (!entries.has(key) && entries.size >= FLOW_STATE_LIMITS.keys) {
        throw new FlowStateLimitError(`ctx.state.set("${key}"): the instance's state already holds ${FLOW_STATE_LIMITS.keys} keys, its limit`);
      }
      let bytes = Buffer.byteLength(key) + Buffer.byteLength(text);
      for (const [k, v] of entries) if (k !== key) bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
      if (bytes > FLOW_STATE_LIMITS.totalBytes) {
        throw new FlowStateLimitError(
          `ctx.state.set("${key}"): the instance's state would take ${Math.ceil(bytes / 1024)} KB; its limit is ${FLOW_STATE_LIMITS.totalBytes / 1024} KB`,
        );
      }
      entries.set(key, text);
      run.stateSet.set(key, text);
      run.stateDeleted.delete(key);
    },
    async delete(key) {
      checkKey(key);
      (await readState(run)).delete(key);
      run.stateSet.delete(key);
      run.stateDeleted.add(key);
    },
    async keys() {
      return [...(await readState(run)).keys()];
    },
  };
}

/** One line for the log: how long rate limits held this execution back (only when they did). */
function logWaits(run: Running): void {
  for (const [connection, w] of run.waits) {
    if (w.ms < 1) continue;
    const pauses = w.pauses > 0 ? `; ${w.pauses} pause${w.pauses === 1 ? '' : 's'} after a 429` : '';
    log(run, 'info', `Waited ${seconds(w.ms)} for the rate limit of connection "${connection}" (${w.calls} request${w.calls === 1 ? '' : 's'}${pauses})`, []);
  }
}

/**
 * The module generations this executor has imported, by URL: a reload of the vendor's module adds
 * one, and instances still on an older version keep running its code (imported once, on first use).
 */
const modules = new Map<string, Promise<LoadedModule>>();
let defaultModuleUrl = '';
function moduleAt(url: string | undefined): Promise<LoadedModule> {
  const target = url ?? defaultModuleUrl;
  let loaded = modules.get(target);
  if (!loaded) {
    loaded = import(target).then((mod) => collectIntegrations(mod as Record<string, unknown>));
    modules.set(target, loaded);
    loaded.catch(() => modules.delete(target)); // a failed import may be retried by a later run
  }
  return loaded;
}

async function integrationFor(execution: ChildExecution): Promise<LoadedIntegration> {
  let loaded: LoadedModule;
  try {
    loaded = await moduleAt(execution.moduleUrl);
  } catch (err) {
    throw new Error(`Could not load the integrations of this version: ${errorMessage(err)}`);
  }
  const { integrationKey: key, integrationVersion: version } = execution;
  const integration = version !== undefined ? (loaded.get(`${key}@${version}`) ?? loaded.get(key)) : loaded.get(key);
  if (!integration) throw new Error(`Integration "${key}" is not in this deployment`);
  // The module file changed under this version's name: running other code than the instance's would be worse than failing.
  if (version !== undefined && typeof integration.version === 'string' && integration.version !== version) {
    throw new Error(
      `Integration "${key}" version ${version} is not in the module this executor loaded (it has ${integration.version}); reload the integrations`,
    );
  }
  return integration;
}

async function execute(id: number, execution: ChildExecution, egressFetch: typeof fetch, reportFetches: boolean): Promise<void> {
  const run: Running = { id, controller: new AbortController(), logLines: 0, waits: new Map(), stateSet: new Map(), stateDeleted: new Set() };
  running.set(id, run);
  const signal = run.controller.signal;
  const startedAt = preciseNow();
  let done: FromExecutor;
  try {
    const integration = await integrationFor(execution);
    const flow = Object.hasOwn(integration.flows, execution.flow) ? integration.flows[execution.flow] : undefined;
    if (!flow || typeof flow.run !== 'function') {
      throw new Error(`Flow "${execution.flow}" does not exist in integration "${execution.integrationKey}"`);
    }
    const baseFetch = reportFetches ? reportingFetch(id, egressFetch) : egressFetch;
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
      fetch: flowFetch(run, baseFetch),
      state: flowState(run),
      signal,
    };
    const value = await current.run(run, () => flow.run(ctx));
    logWaits(run);
    const changed = run.stateSet.size > 0 || run.stateDeleted.size > 0;
    done = {
      type: 'done',
      id,
      status: 'succeeded',
      result: summarizeResult(value),
      retryable: false,
      ...(changed ? { state: { set: Object.fromEntries(run.stateSet), deleted: [...run.stateDeleted] } } : {}),
      startedAt,
      endedAt: preciseNow(),
    };
  } catch (err) {
    logWaits(run);
    const frames = flowFrames(err);
    if (frames.length > 0) log(run, 'error', `${errorMessage(err)}\n${frames.join('\n')}`, []);
    done = { type: 'done', id, status: 'failed', error: errorMessage(err), retryable: isRetryable(err), startedAt, endedAt: preciseNow() };
  }
  running.delete(id);
  stateReads.delete(id);
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

  let integrations: LoadedModule;
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
    defaultModuleUrl = moduleUrl;
    integrations = await moduleAt(moduleUrl);
  } catch (err) {
    send({ type: 'load-failed', error: `Could not load the integrations: ${errorMessage(err)}` }, () => process.exit(65));
    return;
  }
  process.on('message', (m: ToExecutor) => {
    if (m.type === 'run') void execute(m.id, m.execution, egressFetch, m.reportFetches === true);
    else if (m.type === 'turn') {
      const waiting = turns.get(`${m.id}:${m.call}`);
      turns.delete(`${m.id}:${m.call}`);
      if (m.error !== undefined) waiting?.reject(new RateLimitWaitError(m.error));
      else waiting?.resolve(m.waitedMs ?? 0);
    } else if (m.type === 'state') {
      const waiting = stateReads.get(m.id);
      stateReads.delete(m.id);
      if (m.error !== undefined) waiting?.reject(new Error(m.error));
      else waiting?.resolve(m.entries ?? {});
    } else if (m.type === 'abort') {
      const reason =
        m.cause === 'timeout'
          ? new DOMException('The execution ran past its timeout', 'TimeoutError')
          : new DOMException('The execution was cancelled', 'AbortError');
      running.get(m.id)?.controller.abort(reason);
    }
  });
  send({ type: 'ready', integrations: [...integrations.keys()].filter((k) => !k.includes('@')) });
}

void main();
