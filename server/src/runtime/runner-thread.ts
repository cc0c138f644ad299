// `plugboard serve`'s runner on a thread of its own. On the HTTP side's event loop, each step of an
// execution (the executor's answer, each statement) waited behind a turn that serves every
// connection, so under a webhook flood executions crawled (0.10 of their drain rate). The thread
// (runner-thread-main.ts) builds its own services from the same configuration: its own database
// connection (SQLite WAL with busy_timeout; PostgreSQL pools), the executor pool, dispatcher,
// scheduler and lifecycle relay. What crosses the boundary:
//   - new work: SQLite wakes the thread's dispatcher through a BroadcastChannel (sqlite-queue.ts),
//     PostgreSQL through pg-boss's NOTIFY, as for any runner process;
//   - cache invalidations: SQLite through a BroadcastChannel (store/cache.ts), PostgreSQL NOTIFY;
//   - the thread's metrics, log lines (when the server logs to a given stream), erasure's
//     `retire`, and the drain on stop, as messages on the worker's port.
// PLUGBOARD_RUNNER=inline keeps the runner on the HTTP side's thread.
import { randomUUID } from 'node:crypto';
import { setPriority } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { ExecutorPool } from './executor/index.js';
import type { RuntimeMetrics } from './metrics.js';
import type { Runner } from './runner.js';

/** What the thread builds its services from (structured-cloned into it). */
export interface RunnerThreadData {
  config: Config;
  /** The runtime's variables (PLUGBOARD_RUNNER_*, executor env…), as the HTTP side read them. */
  env: Record<string, string | undefined>;
  storeOptions: { sqlitePath?: string; pgSchema?: string; queryTimeoutMs?: number };
  /** BroadcastChannel name shared with the HTTP side (SQLite cache invalidations and wake-ups). */
  threads: string;
  /** Start OpenTelemetry export in the thread (the HTTP side has it on). */
  telemetry: boolean;
  /** Send log lines to the HTTP side instead of writing them to stdout. */
  logToParent: boolean;
  /** One Int32: executions the thread's runner is running. */
  inFlight: SharedArrayBuffer;
}

/** What the HTTP side asks of the thread, answered by a `reply`. */
export type ThreadCall = { call: 'retire'; customerId: string } | { call: 'sweep' };

export type ToThread = { type: 'start' } | ({ type: 'request'; id: number } & ThreadCall) | { type: 'stop'; graceMs: number };

export type FromThread =
  | { type: 'ready'; runnerId: string }
  | { type: 'failed'; name: string; message: string }
  | { type: 'log'; line: string }
  | { type: 'metric'; call: 'executionFinished'; status: string; durationMs: number }
  | { type: 'metric'; call: 'executionRetried' }
  | { type: 'metric'; call: 'executionQueued'; trigger: string }
  | { type: 'reply'; id: number; value?: number; error?: string }
  | { type: 'stopped' };

export interface RunnerThreadLaunch {
  config: Config;
  env: Record<string, string | undefined>;
  storeOptions: RunnerThreadData['storeOptions'];
  threads: string;
  telemetry: boolean;
  /** Where the thread's log lines go; absent: it writes them to stdout itself. */
  logLine?: (line: string) => void;
  /** PLUGBOARD_HTTP_NICE: lower this (the HTTP) thread's priority by this much once the runner's thread exists. */
  httpNice?: number;
}

export interface RunnerThread {
  /** The thread's runner as this side sees it (its id, executions in flight; stop drains the thread). */
  runner: Runner;
  /** Erasure stops a customer's executors, which live in the thread. */
  executors: Pick<ExecutorPool, 'retire'>;
  /** Drains the thread's runner for up to `graceMs`, stops its services and ends the thread. */
  stop(graceMs: number): Promise<void>;
  /**
   * Resolves once the thread's runner takes work; rejects with why it could not start. The server
   * listens meanwhile (the thread loads and builds its services a second time, which under tsx
   * and a loaded host takes seconds): webhooks queue until the runner is there.
   */
  ready: Promise<void>;
}

/** A fresh channel name per server: two servers in one process (tests) don't hear each other. */
export const newThreadsChannel = () => `plugboard-threads-${randomUUID()}`;

/** A thread that failed to start, with its error's name and message (ExecutorIsolationError, RuntimeSettingsError…). */
export class RunnerThreadError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

/** Where the stop waits no longer for the thread (its drain is bounded by graceMs; closing by a few seconds). */
const STOP_MARGIN_MS = 15_000;
/** A thread that ended on its own is started again after this. */
const RESTART_DELAY_MS = 1000;

/** A thread spawned early: it loads its modules while the HTTP side builds its services, then `start` builds the runner's. */
export interface PendingRunnerThread {
  readonly launch: RunnerThreadLaunch;
  /** Has the thread build its services (the database is migrated by now); `ready` says when its runner takes work. */
  start(hooks: { metrics: RuntimeMetrics; logger?: Logger }): RunnerThread;
  /** Ends a thread never started (the HTTP side failed to start). */
  cancel(): Promise<void>;
}

export function spawnRunnerThread(launch: RunnerThreadLaunch): PendingRunnerThread {
  const inFlight = new Int32Array(new SharedArrayBuffer(4));
  const data: RunnerThreadData = {
    // The JWT settings are the HTTP side's business (and may hold key objects).
    config: { ...launch.config, jwt: { ...launch.config.jwt, keys: undefined } },
    env: launch.env,
    storeOptions: launch.storeOptions,
    threads: launch.threads,
    telemetry: launch.telemetry,
    logToParent: launch.logLine !== undefined,
    inFlight: inFlight.buffer as SharedArrayBuffer,
  };
  // Under tsx (tests, dev) this file is .ts and so is the thread's entry; compiled, both are .js.
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './runner-thread-main.ts' : './runner-thread-main.js', import.meta.url);
  // Under Node 20 a worker does not get the loader hooks `--import tsx` registered: from source, a
  // small script registers them (ESM and CommonJS, as `--import tsx` does: an integrations module
  // outside a `"type": "module"` package is loaded as CommonJS) in the thread, then imports the entry.
  const tsx = (api: string) => JSON.stringify(import.meta.resolve(`tsx/${api}/api`));
  const source = fromSource
    ? `Promise.all([import(${tsx('esm')}), import(${tsx('cjs')})]).then(([esm, cjs]) => { esm.register(); cjs.register(); return import(${JSON.stringify(entry.href)}); })`
    : undefined;

  let hooks: { metrics: RuntimeMetrics; logger?: Logger } | undefined;
  let worker!: Worker;
  let runnerId = '';
  let stopping = false;
  let nextId = 0;
  let starting: { resolve(): void; reject(error: Error): void } | undefined;
  /** How the thread failed before it was asked to start (reported by `start`). */
  let failedEarly: Error | undefined;
  const pending = new Map<number, { resolve(value: number): void; reject(error: Error): void }>();

  const fail = (error: Error) => {
    if (starting) starting.reject(error);
    else failedEarly ??= error;
    starting = undefined;
  };

  const niced = (launch.httpNice ?? 0) > 0 && process.platform === 'linux';
  const spawn = () => {
    let ready = false;
    const w = source !== undefined ? new Worker(source, { eval: true, workerData: data }) : new Worker(entry, { workerData: data });
    worker = w;
    w.on('message', (message: FromThread) => {
      switch (message.type) {
        case 'ready':
          runnerId = message.runnerId;
          ready = true;
          starting?.resolve();
          starting = undefined;
          break;
        case 'failed':
          fail(new RunnerThreadError(message.name, message.message));
          break;
        case 'log':
          launch.logLine?.(message.line);
          break;
        case 'metric': {
          const metrics = hooks?.metrics;
          if (message.call === 'executionFinished') metrics?.executionFinished(message.status, message.durationMs);
          else if (message.call === 'executionRetried') metrics?.executionRetried();
          else metrics?.executionQueued(message.trigger);
          break;
        }
        case 'reply': {
          const waiting = pending.get(message.id);
          pending.delete(message.id);
          if (message.error !== undefined) waiting?.reject(new Error(message.error));
          else waiting?.resolve(message.value ?? 0);
          break;
        }
        case 'stopped':
          void w.terminate();
          break;
      }
    });
    w.on('error', (err) => {
      hooks?.logger?.error({ err }, 'runner thread failed');
      if (!ready) fail(err);
    });
    w.on('exit', (code) => {
      for (const waiting of pending.values()) waiting.reject(new Error('the runner thread ended'));
      pending.clear();
      if (!ready) fail(new Error(`the runner thread ended while starting (exit code ${code})`));
      if (stopping || !ready) return;
      // Its executions go back to the queue (SQLite: requeued at the next start; PostgreSQL: taken by another runner's sweep).
      // A thread inherits its creator's priority, which can't be raised back without privileges.
      hooks?.logger?.error(
        { code },
        niced
          ? "runner thread ended; starting it again, at the HTTP thread's lowered priority (PLUGBOARD_HTTP_NICE)"
          : 'runner thread ended; starting it again',
      );
      setTimeout(() => {
        if (stopping) return;
        spawn();
        w.postMessage({ type: 'start' } satisfies ToThread);
      }, RESTART_DELAY_MS).unref();
    });
  };

  const request = (call: ThreadCall) =>
    new Promise<number>((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, { resolve, reject });
      worker.postMessage({ type: 'request', id, ...call } satisfies ToThread);
    });

  let stopped: Promise<void> | undefined;
  const stop = (graceMs: number) =>
    (stopped ??= (async () => {
      stopping = true;
      const w = worker;
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      w.postMessage({ type: 'stop', graceMs } satisfies ToThread);
      const force = setTimeout(() => void w.terminate(), graceMs + STOP_MARGIN_MS);
      await exited;
      clearTimeout(force);
      Atomics.store(inFlight, 0, 0);
    })());

  const runner: Runner = {
    get id() {
      return runnerId;
    },
    get inFlight() {
      return Atomics.load(inFlight, 0);
    },
    start() {},
    stop,
    sweep: () => request({ call: 'sweep' }),
  };

  spawn();
  // After the spawn, so that only this thread runs at the lower priority: on Linux a priority is
  // per thread, and the runner's thread (and the executors it starts) keep the process's.
  if (niced) setPriority(launch.httpNice!);
  return {
    launch,
    start(given) {
      hooks = given;
      const ready = failedEarly
        ? Promise.reject(failedEarly)
        : new Promise<void>((resolve, reject) => {
            starting = { resolve, reject };
            worker.postMessage({ type: 'start' } satisfies ToThread);
          });
      ready.catch(() => {}); // the caller awaits it when it chooses
      return {
        runner,
        ready,
        executors: {
          async retire(customerId: string) {
            await request({ call: 'retire', customerId });
          },
        },
        stop,
      };
    },
    async cancel() {
      stopping = true;
      await worker.terminate();
    },
  };
}
