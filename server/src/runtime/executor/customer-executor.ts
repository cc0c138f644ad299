// One customer's executor process, seen from the pool: spawning it, handing it executions,
// enforcing their timeouts, and turning its death (timeout kill, OOM, crash) into outcomes.
import { fork, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionIO, ExecutionJob, ExecutionLogLine, ExecutionOutcome, ExecutionTimings, ExecutorExitCause, OutboundCall } from './types.js';
import { blankSecrets, blankSecretsIn, capText, ERROR_CAP_BYTES, LOG_LINE_CAP_BYTES } from './summary.js';
import { preciseNow } from './clock.js';
import { containedCommand, type Containment } from './containment.js';
import { parseFromExecutor, type ChildExecution, type FromExecutor, type ToExecutor } from './messages.js';

export interface ExecutorLaunch {
  entryPath: string;
  moduleUrl: string;
  execArgv: string[];
  /** Everything the executor's environment will hold, besides HOME and TMPDIR (its own directory). */
  env: Record<string, string>;
  maxOldSpaceMb: number;
  maxRssMb: number;
  abortGraceMs: number;
  startTimeoutMs: number;
  /** `unshare` and its arguments when executors get their own PID and mount namespaces; undefined: weak isolation. */
  containment?: Containment['command'];
  /** Files no flow may read (the server's *_FILE secrets): covered with /dev/null in each contained executor. */
  hiddenFiles: readonly string[];
}

/** Who the executor process runs as; undefined keeps the server's own user. */
export interface ExecutorIdentity {
  uid: number;
  gid: number;
}

export interface Assignment {
  job: ExecutionJob;
  onLog: (line: ExecutionLogLine) => void;
  /** Tracing: each ctx.fetch call of the flow (the executor reports them only when this is set). */
  onFetch?: (call: OutboundCall) => void;
  /** Rate-limit turns and ctx.state reads the flow asks for (answered here, in the runner). */
  io?: ExecutionIO;
  resolve: (outcome: ExecutionOutcome) => void;
  /** When run() was called (precise epoch ms). */
  calledAt: number;
  queuedToStartMs: number;
}

interface Running extends Assignment {
  id: number;
  assignedAt: number;
  waitedForSpawn: boolean;
  dispatchedAt?: number;
  /** Set once an abort was asked for; decides the outcome if the flow stops after it. */
  aborted?: 'timeout' | 'cancelled';
  timer?: NodeJS.Timeout;
}

export interface ExecutorHooks {
  onReady(executor: CustomerExecutor, spawnMs: number): void;
  /** An execution ended (its outcome is resolved); the pool may hand out more work. */
  onSettled(executor: CustomerExecutor): void;
  onExit(executor: CustomerExecutor, cause: ExecutorExitCause, code: number | null, signal: string | null, startupError?: string): void;
}

const STDERR_TAIL_BYTES = 8192;
/** A rate-limit wait gives up this long before the flow's time limit, so the flow can say why. */
const TURN_DEADLINE_MARGIN_MS = 250;

function safeName(customerId: string): string {
  return customerId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

export class CustomerExecutor {
  /** The one customer this process serves; '' while it is a spare that no customer has used yet. */
  customerId: string;
  /** The executor's own directory (0700): `work/` is its cwd and HOME, `tmp/` its TMPDIR. */
  readonly root: string;
  readonly cwd: string;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  state: 'starting' | 'ready' | 'stopping' | 'exited' = 'starting';
  lastUsedAt = Date.now();

  private readonly launch: ExecutorLaunch;
  private readonly hooks: ExecutorHooks;
  private readonly spawnedAt = preciseNow();
  private readonly runs = new Map<number, Running>();
  private nextId = 1;
  private stopCause?: ExecutorExitCause;
  /** The execution whose timeout or cancel made us kill the process. */
  private blamed?: number;
  private loadError?: string;
  private fatalError?: string;
  private stderrTail = '';
  /** Host pid of the executor's Node process when it is the first process of its own PID namespace. */
  private namespaceInit?: number;

  readonly identity: ExecutorIdentity | undefined;

  constructor(customerId: string, launch: ExecutorLaunch, hooks: ExecutorHooks, identity?: ExecutorIdentity) {
    this.customerId = customerId;
    this.launch = launch;
    this.hooks = hooks;
    this.identity = identity;
    // mkdtemp makes it 0700: with per-customer uids no other customer can enter it.
    this.root = mkdtempSync(join(tmpdir(), `plugboard-executor-${safeName(customerId) || 'spare'}-`));
    this.cwd = join(this.root, 'work');
    const tmp = join(this.root, 'tmp');
    try {
      for (const dir of [this.cwd, tmp]) mkdirSync(dir, { mode: 0o700 });
      if (identity) for (const dir of [this.root, this.cwd, tmp]) chownSync(dir, identity.uid, identity.gid);
      // Contained: `unshare <namespaces> -- [hide files] setpriv <drop to its uid, or all capabilities> -- node <execArgv>`;
      // the namespaces need root (or a user namespace), so privileges are dropped inside, after them.
      const contained = launch.containment ? containedCommand(launch.containment, launch.execArgv, identity, launch.hiddenFiles) : undefined;
      this.child = fork(launch.entryPath, [launch.moduleUrl], {
        cwd: this.cwd,
        // Scrubbed: only what the pool chose, never the parent's environment.
        env: { ...launch.env, HOME: this.cwd, TMPDIR: tmp },
        // The IPC descriptor passes through unshare, sh and setpriv to the executor's Node.
        ...(contained ? { execPath: contained.path, execArgv: contained.args } : { execArgv: launch.execArgv }),
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        // Own process group: without namespaces, the kill reaches what the flow spawned in the same group (only that).
        detached: true,
        serialization: 'json',
        ...(identity && !contained ? { uid: identity.uid, gid: identity.gid } : {}),
      });
    } catch (err) {
      rmSync(this.root, { recursive: true, force: true });
      throw err;
    }
    // A module whose top level never settles would leave this customer's work waiting forever.
    const startTimer = setTimeout(() => {
      if (this.state !== 'starting') return;
      this.loadError = `The integrations did not load within ${launch.startTimeoutMs} ms`;
      this.kill('load-failed');
    }, launch.startTimeoutMs);
    startTimer.unref();
    this.child.once('exit', () => clearTimeout(startTimer));
    this.child.stdout?.resume();
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_BYTES);
    });
    this.child.on('message', (raw: unknown) => {
      const m = parseFromExecutor(raw);
      if (m) this.receive(m);
    });
    this.exited = new Promise((resolve) => {
      let done = false;
      const finish = (code: number | null, signal: string | null) => {
        if (done) return;
        done = true;
        this.die(code, signal);
        resolve();
      };
      this.child.on('exit', finish);
      this.child.on('error', () => {
        // Spawn failure, or a send on a closed channel: the exit event may never come for the former.
        if (this.child.exitCode === null && this.child.pid === undefined) finish(null, null);
      });
    });
  }

  /** The executor's Node process (its host pid, also when it runs in its own namespace). */
  get pid(): number {
    return this.namespaceInit ?? this.child.pid ?? -1;
  }

  /** Executions handed to this executor and not yet ended. */
  get load(): number {
    return this.runs.size;
  }

  /** A spare becomes this customer's executor, for good. */
  claim(customerId: string): void {
    if (this.customerId !== '' || this.runs.size > 0) throw new Error('Only an unused spare executor can be claimed');
    this.customerId = customerId;
  }

  assign(a: Assignment): void {
    // The isolation guarantee rests on this: a process only ever runs one customer's executions.
    if (a.job.customerId !== this.customerId) throw new Error("An execution was handed to another customer's executor");
    const id = this.nextId++;
    const run: Running = { ...a, id, assignedAt: preciseNow(), waitedForSpawn: this.state === 'starting' };
    this.runs.set(id, run);
    this.lastUsedAt = Date.now();
    this.setBusy(true);
    if (this.state === 'ready') this.dispatch(run);
  }

  /** The caller gave up on an execution: abort it, and kill the executor if the flow ignores that. */
  cancel(job: ExecutionJob): void {
    const run = [...this.runs.values()].find((r) => r.job === job);
    if (!run || run.aborted) return;
    if (run.dispatchedAt === undefined) {
      this.runs.delete(run.id);
      run.resolve(this.shutdownOutcome(run, 'The execution was cancelled before it started'));
      this.settled();
      return;
    }
    this.abort(run, 'cancelled');
  }

  /**
   * Kills the executor for memory when its resident size passes `limitMb`: the heap cap does not
   * count Buffers and other memory outside V8's heap. Linux only; elsewhere the heap cap alone holds.
   */
  async checkResidentMemory(limitMb: number): Promise<void> {
    if (this.state !== 'ready' || this.pid < 0) return;
    let status: string;
    try {
      status = await readFile(`/proc/${this.pid}/status`, 'utf8');
    } catch {
      return;
    }
    const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
    if (kb > limitMb * 1024 && this.state === 'ready') this.kill('memory');
  }

  kill(cause: ExecutorExitCause, blamed?: number): void {
    if (this.state === 'exited') return;
    this.stopCause ??= cause;
    this.blamed ??= blamed;
    this.state = 'stopping';
    this.setBusy(true); // keep the parent alive until the exit is seen and outcomes are settled
    if (this.child.pid === undefined) return; // never started: there is nothing to kill (and -(-1) would be init)
    const init = this.findNamespaceInit();
    try {
      // The namespace's first process, not unshare: unshare then exits only after the kernel has ended
      // every process in the namespace, so the exit event (which frees the uid) comes after all of them.
      // Before unshare has forked there is no namespace yet: its process group is all there is.
      process.kill(init ?? -this.child.pid, 'SIGKILL');
    } catch {
      this.child.kill('SIGKILL');
    }
  }

  /** unshare's one child is the namespace's first process: the executor's Node. */
  private findNamespaceInit(): number | undefined {
    const pid = this.child.pid;
    if (this.namespaceInit !== undefined || !this.launch.containment || pid === undefined) return this.namespaceInit;
    try {
      const first = Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0]);
      if (Number.isInteger(first) && first > 0) this.namespaceInit = first;
    } catch {
      // unshare already gone, or no /proc: fall back to its process group
    }
    return this.namespaceInit;
  }

  private setBusy(busy: boolean): void {
    // An idle executor must not keep the parent process alive on its own.
    const channel = this.child.channel as { ref?: () => void; unref?: () => void } | undefined;
    if (busy) {
      this.child.ref();
      channel?.ref?.();
    } else {
      this.child.unref();
      channel?.unref?.();
    }
  }

  private send(message: ToExecutor): void {
    if (!this.child.connected) return;
    // A failed send means the process is dying; its exit event ends the executions.
    this.child.send(message, (err) => void err);
  }

  private dispatch(run: Running): void {
    const { job } = run;
    const execution: ChildExecution = {
      executionId: job.executionId,
      instanceId: job.instanceId,
      customer: { id: job.customerId, externalId: job.customerExternalId },
      integrationKey: job.integrationKey,
      ...(job.integrationVersion !== undefined ? { integrationVersion: job.integrationVersion } : {}),
      ...(job.moduleUrl !== undefined ? { moduleUrl: job.moduleUrl } : {}),
      flow: job.flow,
      attempt: job.attempt,
      trigger: job.trigger,
      payload: job.payload,
      headers: job.headers,
      config: job.config,
      connections: job.connections,
    };
    run.dispatchedAt = preciseNow();
    run.timer = setTimeout(() => this.abort(run, 'timeout'), Math.max(0, job.timeoutMs));
    this.send({ type: 'run', id: run.id, execution, ...(run.onFetch ? { reportFetches: true } : {}) });
  }

  private abort(run: Running, cause: 'timeout' | 'cancelled'): void {
    run.aborted = cause;
    clearTimeout(run.timer);
    this.send({ type: 'abort', id: run.id, cause });
    // A flow stuck in a loop never sees the abort: kill the process after the grace.
    run.timer = setTimeout(() => this.kill(cause, run.id), this.launch.abortGraceMs);
  }

  private receive(m: FromExecutor): void {
    switch (m.type) {
      case 'ready': {
        if (this.state !== 'starting') return;
        this.state = 'ready';
        this.findNamespaceInit();
        const spawnMs = round(preciseNow() - this.spawnedAt);
        for (const run of this.runs.values()) if (run.dispatchedAt === undefined) this.dispatch(run);
        this.hooks.onReady(this, spawnMs);
        return;
      }
      case 'load-failed':
        this.loadError = m.error;
        this.stopCause ??= 'load-failed';
        return;
      case 'fatal':
        this.fatalError = m.error;
        return;
      case 'log': {
        const run = this.runs.get(m.id);
        if (!run) return;
        try {
          run.onLog({ level: m.level, message: capText(blankSecrets(m.message, run.job.secrets), LOG_LINE_CAP_BYTES), at: m.at });
        } catch {
          // The caller's sink failing must not take the executor down with it.
        }
        return;
      }
      case 'fetch': {
        const run = this.runs.get(m.id);
        if (!run?.onFetch) return;
        const { type: _type, id: _id, ...call } = m;
        try {
          run.onFetch(call);
        } catch {
          // As for logs: the caller's sink failing must not take the executor down.
        }
        return;
      }
      case 'turn': {
        const run = this.runs.get(m.id);
        if (!run) return;
        const answer = (reply: { waitedMs?: number; error?: string }) => {
          if (this.runs.get(m.id) === run) this.send({ type: 'turn', id: m.id, call: m.call, ...reply });
        };
        if (!run.io?.takeTurn) return answer({ waitedMs: 0 });
        // Ends a little before the time limit, so the flow hears why instead of being cut off.
        const deadline = (run.dispatchedAt ?? preciseNow()) + run.job.timeoutMs - TURN_DEADLINE_MARGIN_MS;
        run.io.takeTurn(m.connection, deadline).then(
          (waitedMs) => answer({ waitedMs }),
          (err: unknown) => answer({ error: capText(err instanceof Error ? err.message : String(err), ERROR_CAP_BYTES) }),
        );
        return;
      }
      case 'pause': {
        const run = this.runs.get(m.id);
        run?.io?.pause?.(m.connection, m.ms).catch(() => {
          // The pause is advice to the other flows; this one waits out the 429 regardless.
        });
        return;
      }
      case 'state-read': {
        const run = this.runs.get(m.id);
        if (!run) return;
        const answer = (reply: { entries?: Record<string, string>; error?: string }) => {
          if (this.runs.get(m.id) === run) this.send({ type: 'state', id: m.id, ...reply });
        };
        if (!run.io?.readState) return answer({ entries: {} });
        run.io.readState().then(
          (entries) => answer({ entries }),
          (err: unknown) => answer({ error: `The instance's state could not be read: ${err instanceof Error ? err.message : String(err)}` }),
        );
        return;
      }
      case 'done': {
        const run = this.runs.get(m.id);
        if (!run) return;
        clearTimeout(run.timer);
        this.runs.delete(m.id);
        const runMs = m.endedAt - m.startedAt;
        const timings: ExecutionTimings = {
          ...this.baseTimings(run),
          runMs: round(runMs),
          overheadMs: round(preciseNow() - (run.dispatchedAt ?? m.startedAt) - runMs),
          startLatencyMs: round(m.startedAt - run.calledAt),
        };
        run.resolve(this.outcomeOf(run, m, timings));
        this.settled();
        return;
      }
    }
  }

  private outcomeOf(run: Running, m: Extract<FromExecutor, { type: 'done' }>, timings: ExecutionTimings): ExecutionOutcome {
    if (run.aborted === 'timeout') {
      return { status: 'timed_out', error: this.timeoutMessage(run), retryable: false, reason: 'timeout', timings };
    }
    // The flow's own text may carry what it was given (a provider's error echoing the key): blanked here, outside its process.
    const { secrets } = run.job;
    if (m.status === 'succeeded') {
      return { status: 'succeeded', result: blankSecretsIn(m.result, secrets), retryable: false, timings, ...(m.state ? { state: m.state } : {}) };
    }
    if (run.aborted === 'cancelled') {
      return { status: 'failed', error: 'The execution was cancelled while it ran', retryable: true, reason: 'crash', timings };
    }
    return {
      status: 'failed',
      error: capText(blankSecrets(m.error ?? 'The flow failed', secrets), ERROR_CAP_BYTES),
      retryable: m.retryable,
      reason: 'error',
      timings,
    };
  }

  private baseTimings(run: Running): Omit<ExecutionTimings, 'runMs'> {
    const t: Omit<ExecutionTimings, 'runMs'> = { queuedToStartMs: round(run.queuedToStartMs) };
    if (run.waitedForSpawn && run.dispatchedAt !== undefined) t.spawnMs = round(run.dispatchedAt - run.assignedAt);
    return t;
  }

  private timeoutMessage(run: Running): string {
    return `The flow ran longer than its timeout of ${run.job.timeoutMs} ms`;
  }

  private shutdownOutcome(run: Running, error: string): ExecutionOutcome {
    const runMs = run.dispatchedAt === undefined ? 0 : round(preciseNow() - run.dispatchedAt);
    // An uncaught error's text is the flow's (of any run in this process): blanked of every run's secrets.
    const secrets = [...this.runs.values(), run].flatMap((r) => r.job.secrets ?? []);
    return { status: 'failed', error: blankSecrets(error, secrets), retryable: true, reason: 'crash', timings: { ...this.baseTimings(run), runMs } };
  }

  private settled(): void {
    this.lastUsedAt = Date.now();
    if (this.runs.size === 0) this.setBusy(false);
    this.hooks.onSettled(this);
  }

  private outOfMemory(code: number | null, signal: string | null): boolean {
    return /heap out of memory|Reached heap limit|Allocation failed/i.test(this.stderrTail) || signal === 'SIGABRT' || code === 134;
  }

  private die(code: number | null, signal: string | null): void {
    const startupError = this.state === 'starting' ? (this.loadError ?? this.stderrTail.trim().slice(-1024)) : undefined;
    this.state = 'exited';
    const cause: ExecutorExitCause = this.stopCause ?? (this.outOfMemory(code, signal) ? 'memory' : 'crash');
    for (const run of this.runs.values()) {
      clearTimeout(run.timer);
      const outcome = this.deathOutcome(run, cause, code, signal);
      run.resolve(outcome);
    }
    this.runs.clear();
    rmSync(this.root, { recursive: true, force: true });
    this.hooks.onExit(this, cause, code, signal, startupError || undefined);
  }

  private deathOutcome(run: Running, cause: ExecutorExitCause, code: number | null, signal: string | null): ExecutionOutcome {
    const blamed = run.id === this.blamed;
    switch (cause) {
      case 'timeout':
        if (blamed) {
          const runMs = round(preciseNow() - (run.dispatchedAt ?? preciseNow()));
          return { status: 'timed_out', error: this.timeoutMessage(run), retryable: false, reason: 'timeout', timings: { ...this.baseTimings(run), runMs } };
        }
        // Executions share their customer's process; a stuck neighbour takes them down (retry is safe).
        return this.shutdownOutcome(run, 'The executor was restarted because another execution of this customer ran past its timeout');
      case 'cancelled':
        return this.shutdownOutcome(
          run,
          blamed
            ? 'The execution was cancelled and did not stop in time'
            : 'The executor was restarted because another execution of this customer was cancelled',
        );
      case 'memory':
        return {
          ...this.shutdownOutcome(
            run,
            `The executor ran out of memory (limit ${this.launch.maxOldSpaceMb} MB of heap, ${this.launch.maxRssMb} MB resident) and was replaced`,
          ),
          reason: 'memory',
        };
      case 'load-failed':
        return this.shutdownOutcome(run, this.loadError ?? 'The integrations could not be loaded');
      case 'crash': {
        const how = signal ? `signal ${signal}` : `exit code ${code}`;
        return this.shutdownOutcome(
          run,
          this.fatalError
            ? `The executor stopped on an uncaught error: ${this.fatalError}`
            : run.dispatchedAt === undefined
              ? `The executor failed to start (${how})`
              : `The executor stopped unexpectedly (${how})`,
        );
      }
      default:
        return this.shutdownOutcome(run, 'The executor pool shut down before the execution finished');
    }
  }
}
