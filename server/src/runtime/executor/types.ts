// The executor pool's contract: the job a runner hands over, the outcome it gets back, the pool's
// options and events. Types only, so the pool, its executors and the IPC messages import them
// without importing each other. What also crosses the wire comes from the protocol.
import type { ExecutionLogLine as StoredLogLine, ExecutionStatus, ExecutionTrigger } from 'plugboard/protocol';
import type { ConnectionCredentials } from '../../sdk/index.js';

export interface ExecutionJob {
  executionId: string;
  /** Internal customer id: the pool key. Executors are never shared between customers. */
  customerId: string;
  customerExternalId: string;
  instanceId: string;
  integrationKey: string;
  /** The integration version the instance runs: the executor refuses code of another version. Absent: whatever the module has. */
  integrationVersion?: string;
  /** The module (generation) that holds that version's code; absent: the pool's own module. */
  moduleUrl?: string;
  flow: string;
  attempt: number;
  trigger: ExecutionTrigger;
  payload: unknown;
  headers: Record<string, string>;
  /** Secrets already decrypted by the control plane. */
  config: Record<string, unknown>;
  /** Fresh tokens and API keys, resolved by the control plane before the run. */
  connections: Record<string, ConnectionCredentials>;
  /** Budget for the flow code, counted from the moment the job is handed to its executor. */
  timeoutMs: number;
  /** Secret config values and credentials, blanked out of what the flow logs, throws or returns (never sent to the executor). */
  secrets?: readonly string[];
}

/** A line a flow logged: `message` already formatted (extra args through util.inspect) and capped at 8 KB, `at` the ISO time it was written. The store numbers it (`seq`). */
export type ExecutionLogLine = Omit<StoredLogLine, 'seq'>;

/**
 * One ctx.fetch call as the executor reports it (when the runner traces): enough for a span, never
 * the URL's path, query or any header. Times are epoch milliseconds with fractions.
 */
export interface OutboundCall {
  method: string;
  host: string;
  port?: number;
  /** The response status; absent when the call failed before one (then `error` names why). */
  status?: number;
  error?: string;
  startedAt: number;
  endedAt: number;
}

/** What a flow wrote to ctx.state: JSON text per key set, and the keys it deleted. */
export interface StateChanges {
  set: Record<string, string>;
  deleted: string[];
}

/**
 * What the runner offers one execution besides its inputs (the pool relays the executor's asks):
 * rate-limit turns and pauses of its connections, and its instance's stored state.
 */
export interface ExecutionIO {
  /** Takes a turn of the connection's rate limit, waiting no later than `deadline` (epoch ms); resolves with the ms waited, rejects with a message the flow reads. */
  takeTurn?(connection: string, deadline: number): Promise<number>;
  /** The provider answered 429: the connection takes no turns for `ms`, in any runner. */
  pause?(connection: string, ms: number): Promise<void>;
  /** The instance's stored state, JSON text per key. */
  readState?(): Promise<Record<string, string>>;
}

export type ExecutionFailureReason = 'timeout' | 'memory' | 'crash' | 'error';

export interface ExecutionTimings {
  /** Time waiting in the pool for a slot (per-customer cap or maxExecutors). */
  queuedToStartMs?: number;
  /** Set when this execution waited for its executor to start (a cold start). */
  spawnMs?: number;
  /** Flow code running time, measured inside the executor. */
  runMs: number;
  /** Isolation overhead: IPC round trip minus runMs (serialising inputs and outcome, both hops). */
  overheadMs?: number;
  /** From run() being called to the flow's code starting (queue + spawn + IPC). */
  startLatencyMs?: number;
}

export interface ExecutionOutcome {
  status: Extract<ExecutionStatus, 'succeeded' | 'failed' | 'timed_out'>;
  /** JSON-safe summary of the flow's return value (capped at 4 KB; larger ones become `{ truncated, bytes, preview }`). */
  result?: unknown;
  /** A message a customer can read: the flow's error message, or what happened to the executor. */
  error?: string;
  /** True for RetryableError from src/sdk, and for infrastructure failures (executor crash, OOM, pool shutdown). */
  retryable: boolean;
  reason?: ExecutionFailureReason;
  timings: ExecutionTimings;
  /** A succeeded execution's writes to ctx.state, to be stored with its result (absent: none). */
  state?: StateChanges;
}

export interface ExecutorPoolStats {
  /** Live executor processes (starting or ready), spares included. */
  executors: number;
  /** Executors running at least one execution. */
  busy: number;
  /** Executions running now (handed to an executor), per customer id. */
  byCustomer: Record<string, number>;
  /** Executions accepted by run() and waiting for a slot. */
  queued: number;
}

export interface ExecutorPool {
  /**
   * Runs one execution in the customer's executor and resolves with its outcome; it never rejects
   * for anything the flow or the executor does. It rejects with ExecutorPoolClosedError only when the
   * pool is draining or closed (the job was not taken: leave it on the queue).
   * `signal` cancels: a queued job is dropped, a running one is aborted, then its executor killed
   * after the grace period; the outcome is failed with reason 'crash' and retryable true.
   * `onFetch`, when given, hears of each ctx.fetch call the flow makes (tracing); without it the
   * executor reports none.
   */
  run(
    job: ExecutionJob,
    onLog: (line: ExecutionLogLine) => void,
    signal?: AbortSignal,
    onFetch?: (call: OutboundCall) => void,
    io?: ExecutionIO,
  ): Promise<ExecutionOutcome>;
  stats(): ExecutorPoolStats;
  /** Takes no new work, lets accepted work finish for up to graceMs, then cancels the rest and stops all executors. */
  drain(graceMs: number): Promise<void>;
  /** Kills every executor at once; running and queued executions end failed, retryable. */
  close(): Promise<void>;
  /**
   * The integrations module changed (`plugboard dev`): spares and idle executors stop now, busy ones
   * once their running executions end; every execution from now on gets a new executor, which imports the module afresh.
   */
  reload(): void;
  /**
   * Ends one customer's executor now (its erasure): its queued executions are dropped (failed, not
   * retryable), what runs in it is killed. Resolves when its processes have exited.
   */
  retire(customerId: string): Promise<void>;
}

export interface ExecutorPoolOptions {
  /** Path, file URL or package name of the module whose default export lists the integrations. */
  integrationsModule: string;
  /** Heap cap of each executor (`--max-old-space-size`), default 128. */
  maxOldSpaceMb?: number;
  /** Resident memory cap of each executor (Buffers count here, not in the heap), checked while it runs work; default 2 × heap + 128. */
  maxRssMb?: number;
  /** An executor with nothing to run for this long is stopped, default 60 000. */
  idleMs?: number;
  /** Executor processes alive at once across customers, spares not counted (the least recently used idle one is evicted), default 32. */
  maxExecutors?: number;
  /**
   * Executors started ahead of need, default 1. A new customer takes a spare (never used by anyone
   * before) instead of waiting for a process start; a new spare is then started in the background.
   */
  spares?: number;
  /** Concurrent executions in one customer's executor, default 4; more wait in the pool. */
  maxPerCustomer?: number;
  /** After a timeout or cancel, how long the flow gets to honour its abort signal before its executor is killed, default 1 000. */
  abortGraceMs?: number;
  /**
   * Run each executor as its own user id from this range, never shared by two live executors, so a flow can't read the server's /proc/<pid>/environ (where DATABASE_URL and
   * PLUGBOARD_* sit) or another customer's executor memory. Needs root; the default is on when the
   * server runs as root (as in its container) and its code is world-readable, off otherwise (with a
   * 'warning' event when only the file modes stop it). `false` keeps the server's user.
   */
  uids?: { first: number; count: number } | false;
  /**
   * Without PID namespaces (no `unshare`, or neither root nor user namespaces), createExecutorPool
   * throws ExecutorIsolationError unless this is true; then executors run uncontained, with a 'warning' event.
   */
  allowWeakIsolation?: boolean;
  /**
   * Files no flow may read, e.g. the server's `*_FILE` secrets: each contained executor sees /dev/null at
   * these paths (a bind mount in its mount namespace that it lacks the privilege to undo).
   */
  hiddenFiles?: readonly string[];
  /** `false` runs executors without namespaces even where they are available (benchmarks compare the two); needs allowWeakIsolation. */
  containment?: false;
  /** An executor that has not loaded the integrations after this long is killed, default 30 000. */
  startTimeoutMs?: number;
  /** Extra variables for every executor (the only way anything from the parent gets in). */
  env?: Record<string, string>;
  /** Executor lifecycle events, for the runner's logs and metrics. Never carries job inputs. */
  onEvent?: (event: ExecutorEvent) => void;
}

export type ExecutorEvent =
  /** Something the operator should fix, e.g. per-executor uids turned off because the code is not world-readable. */
  | { type: 'warning'; message: string }
  /** customerId is '' for a spare. */
  | { type: 'spawned'; customerId: string; pid: number; spawnMs: number }
  | {
      type: 'exited';
      customerId: string;
      pid: number;
      cause: ExecutorExitCause;
      code: number | null;
      signal: string | null;
      /** For an executor that died before it was ready: the end of its stderr (why Node or the module failed). */
      startupError?: string;
    };

export type ExecutorExitCause = 'idle' | 'evicted' | 'timeout' | 'cancelled' | 'memory' | 'crash' | 'closed' | 'load-failed';
