// The executor pool: one warm child process per customer, never shared between customers.
//
// Isolation guarantee: a flow's module globals live in its customer's executor, so state a flow
// leaves behind is visible to that same customer's later runs (like any warm serverless runtime)
// but never to another customer's, whose flows run in a different process with its own memory,
// environment (scrubbed: nothing of the parent's) and working directory; and in its own PID and
// mount namespaces (containment.ts), so nothing a flow starts outlives its executor or sees past it.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as z from 'zod';
import { CustomerExecutor, type Assignment, type ExecutorIdentity, type ExecutorLaunch } from './customer-executor.js';
import type {
  ExecutionJob,
  ExecutionLogLine,
  ExecutionIO,
  ExecutionOutcome,
  ExecutorPool,
  ExecutorPoolOptions,
  ExecutorPoolStats,
  ExecutorExitCause,
  OutboundCall,
} from './types.js';
import { preciseNow } from './clock.js';
import { detectContainment, ExecutorIsolationError, type Containment } from './containment.js';

export class ExecutorPoolClosedError extends Error {
  override name = 'ExecutorPoolClosedError';
  constructor() {
    super('The executor pool is draining or closed and takes no new executions');
  }
}

interface Waiting extends Assignment {
  signal?: AbortSignal;
  onAbort?: () => void;
}

/** Variables an executor inherits from the parent; everything else (DATABASE_URL, PLUGBOARD_*, …) stays out. */
const INHERITED_ENV = ['PATH', 'NODE_ENV', 'TZ', 'LANG'] as const;

function moduleUrlOf(spec: string): string {
  if (spec.startsWith('file:')) return spec;
  if (isAbsolute(spec) || spec.startsWith('.') || existsSync(spec)) return pathToFileURL(resolvePath(spec)).href;
  // A package name: resolved from here, which finds the vendor's packages beside plugboard's.
  return import.meta.resolve(spec);
}

/** Whether a user other than the owner could load this file: o+r on it and o+x on every folder above. */
function othersCanRead(path: string): boolean {
  try {
    if ((statSync(path).mode & 0o004) === 0) return false;
    for (let dir = dirname(path); ; dir = dirname(dir)) {
      if ((statSync(dir).mode & 0o001) === 0) return false;
      if (dirname(dir) === dir) return true;
    }
  } catch {
    return false;
  }
}

/** The files an executor must be able to read: its entry, the loader when used, the integrations module. */
function filesToLoad(launch: ExecutorLaunch): string[] {
  const urls = [launch.moduleUrl, ...launch.execArgv.filter((a) => a.startsWith('file:'))].filter((u) => u.startsWith('file:'));
  return [launch.entryPath, ...urls.map((u) => fileURLToPath(u))];
}

/** Uids that own a live process right now: a uid is not handed out again while any process of it lives. */
function uidsInUse(): Set<number> {
  const owners = new Set<number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return owners;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      owners.add(statSync(`/proc/${name}`).uid);
    } catch {
      // ended while we looked
    }
  }
  return owners;
}

function launchOf(o: ExecutorPoolOptions, containment: Containment): ExecutorLaunch {
  const moduleUrl = moduleUrlOf(o.integrationsModule);
  // Under tsx (tests, dev) this file is .ts and so is the child entry; compiled, both are .js.
  const fromSource = import.meta.url.endsWith('.ts');
  const entryPath = fileURLToPath(new URL(fromSource ? './child.ts' : './child.js', import.meta.url));
  const maxOldSpaceMb = o.maxOldSpaceMb ?? 128;
  const execArgv = [`--max-old-space-size=${maxOldSpaceMb}`];
  if (fromSource || /\.[cm]?tsx?$/.test(new URL(moduleUrl).pathname)) {
    // An absolute URL: the child's cwd is its own empty directory, where a bare `tsx` would not resolve.
    execArgv.push('--import', import.meta.resolve('tsx'));
  }
  // From source, `plugboard/protocol` resolves to the library's .ts files too (package.json exports).
  if (fromSource) execArgv.push('--conditions=plugboard-source');
  const env: Record<string, string> = {};
  for (const name of INHERITED_ENV) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  env.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  Object.assign(env, o.env);
  const maxRssMb = o.maxRssMb ?? maxOldSpaceMb * 2 + 128;
  return {
    entryPath,
    moduleUrl,
    execArgv,
    env,
    maxOldSpaceMb,
    maxRssMb,
    abortGraceMs: o.abortGraceMs ?? 1000,
    startTimeoutMs: o.startTimeoutMs ?? 30_000,
    containment: containment.command,
    hiddenFiles: o.hiddenFiles ?? [],
  };
}

// The fields the pool itself relies on; the rest travel to the flow as they are.
const runnableJob = z.object({
  executionId: z.string().min(1),
  customerId: z.string().min(1),
  integrationKey: z.string().min(1),
  flow: z.string().min(1),
  timeoutMs: z
    .number()
    .positive()
    .max(2 ** 31 - 1),
});

function notRunOutcome(error: string, calledAt: number): ExecutionOutcome {
  return { status: 'failed', error, retryable: true, reason: 'crash', timings: { queuedToStartMs: preciseNow() - calledAt, runMs: 0 } };
}

export function createExecutorPool(o: ExecutorPoolOptions): ExecutorPool {
  const containment: Containment = o.containment === false ? { weakness: 'containment was turned off for this pool' } : detectContainment();
  if (containment.weakness && !o.allowWeakIsolation) {
    throw new ExecutorIsolationError(
      `refusing to run flows: executors can't be contained, ${containment.weakness}; ` +
        "a process a flow starts could outlive its executor and read this server's memory. Set PLUGBOARD_ALLOW_WEAK_ISOLATION=1 to run them anyway",
    );
  }
  const launch = launchOf(o, containment);
  const idleMs = o.idleMs ?? 60_000;
  const maxExecutors = Math.max(1, o.maxExecutors ?? 32);
  const maxPerCustomer = Math.max(1, o.maxPerCustomer ?? 4);
  let uids = o.uids ?? (process.getuid?.() === 0 ? { first: 200_000, count: 65_536 } : false);
  let warning: string | undefined;
  if (o.uids === undefined && uids && !filesToLoad(launch).every(othersCanRead)) {
    // Chosen by default, not asked for: running flows at all beats separate uids that can't load the code.
    uids = false;
    warning =
      'Executors run as the server user: their code is not readable by other users (a folder above it lacks o+x, or the file o+r), ' +
      "so per-executor uids are off and a flow could read this process's /proc environment. Make the code world-readable to turn them on.";
  }
  const spareCount = Math.max(0, o.spares ?? 1);
  const executors = new Map<string, CustomerExecutor>();
  /** Started and loaded before any customer needs them, so a new customer skips the process start. */
  const spares: CustomerExecutor[] = [];
  const dying = new Set<CustomerExecutor>();
  /** Loaded an older version of the module (reload()): they finish what they run, then stop. */
  const outdated = new WeakSet<CustomerExecutor>();
  const idleTimers = new Map<CustomerExecutor, NodeJS.Timeout>();
  const queue: Waiting[] = [];
  let accepting = true;

  const memoryWatch = setInterval(() => {
    for (const e of executors.values()) if (e.load > 0) void e.checkResidentMemory(launch.maxRssMb);
  }, 250);
  memoryWatch.unref();
  let onQuiet: (() => void) | undefined;

  const emit: NonNullable<ExecutorPoolOptions['onEvent']> = (event) => {
    try {
      o.onEvent?.(event);
    } catch {
      // An observer's mistake must not break the pool.
    }
  };

  const hooks = {
    onReady(executor: CustomerExecutor, spawnMs: number) {
      emit({ type: 'spawned', customerId: executor.customerId, pid: executor.pid, spawnMs });
    },
    onSettled(executor: CustomerExecutor) {
      if (executor.load === 0 && outdated.has(executor)) stop(executor, 'closed');
      else if (executor.load === 0) armIdle(executor);
      pump();
    },
    onExit(executor: CustomerExecutor, cause: ExecutorExitCause, code: number | null, signal: string | null, startupError?: string) {
      // A spare that dies is not replaced until one is claimed, so a broken module can't respawn in a loop.
      if (spares.includes(executor)) spares.splice(spares.indexOf(executor), 1);
      clearTimeout(idleTimers.get(executor));
      idleTimers.delete(executor);
      dying.delete(executor);
      if (executors.get(executor.customerId) === executor) executors.delete(executor.customerId);
      emit({ type: 'exited', customerId: executor.customerId, pid: executor.pid, cause, code, signal, ...(startupError ? { startupError } : {}) });
      pump();
    },
  };

  function armIdle(executor: CustomerExecutor): void {
    clearTimeout(idleTimers.get(executor));
    const timer = setTimeout(() => {
      idleTimers.delete(executor);
      if (executor.load === 0) stop(executor, 'idle');
    }, idleMs);
    timer.unref();
    idleTimers.set(executor, timer);
  }

  function stop(executor: CustomerExecutor, cause: 'idle' | 'evicted' | 'closed'): void {
    if (executors.get(executor.customerId) === executor) executors.delete(executor.customerId);
    dying.add(executor);
    executor.kill(cause);
  }

  /** A uid no live executor holds: the customer's hash slot in the range, or the next free one. */
  function identityFor(customerId: string): ExecutorIdentity | undefined {
    if (!uids) return undefined;
    const taken = new Set<number | undefined>([...executors.values(), ...dying, ...spares].map((e) => e.identity?.uid));
    // Namespaces end every process with their executor; this also covers weak isolation and strays.
    for (const uid of uidsInUse()) taken.add(uid);
    let slot = createHash('sha256').update(customerId).digest().readUInt32BE(0) % uids.count;
    for (let tries = 0; tries < uids.count; tries++, slot = (slot + 1) % uids.count) {
      const uid = uids.first + slot;
      if (!taken.has(uid)) return { uid, gid: uid };
    }
    throw new Error('No free executor uid left in the configured range');
  }

  function leastRecentlyUsedIdle(): CustomerExecutor | undefined {
    let victim: CustomerExecutor | undefined;
    for (const e of executors.values()) {
      if (e.load === 0 && (!victim || e.lastUsedAt < victim.lastUsedAt)) victim = e;
    }
    return victim;
  }

  function executorFor(customerId: string): CustomerExecutor | undefined {
    const existing = executors.get(customerId);
    if (existing) return existing;
    if (executors.size >= maxExecutors) {
      const victim = leastRecentlyUsedIdle();
      if (!victim) return undefined; // every executor is busy: wait for one to settle
      stop(victim, 'evicted');
    }
    const ready = spares.findIndex((e) => e.state === 'ready');
    const spare = ready >= 0 ? ready : spares.findIndex((e) => e.state === 'starting');
    let executor: CustomerExecutor;
    if (spare >= 0) {
      executor = spares.splice(spare, 1)[0]!;
      executor.claim(customerId);
      // Forking takes milliseconds of this thread: do it after the claimed executor got its work.
      setImmediate(replenishSpares);
    } else {
      executor = new CustomerExecutor(customerId, launch, hooks, identityFor(customerId));
    }
    executors.set(customerId, executor);
    return executor;
  }

  function replenishSpares(): void {
    try {
      while (accepting && spares.length < spareCount) {
        spares.push(new CustomerExecutor('', launch, hooks, identityFor(`spare:${randomUUID()}`)));
      }
    } catch {
      // No spare now; customers start their own executor (and see why, if that fails too).
    }
  }

  /** Hands queued executions to executors, oldest first, within the per-customer and total caps. */
  function pump(): void {
    for (let i = 0; i < queue.length;) {
      const w = queue[i]!;
      let current = executors.get(w.job.customerId);
      if (current && current.state === 'stopping') {
        // Killed after a timeout or cancel: its replacement takes the customer's next work.
        executors.delete(current.customerId);
        dying.add(current);
        current = undefined;
      }
      if (current && current.load >= maxPerCustomer) {
        i++;
        continue;
      }
      let executor: CustomerExecutor | undefined;
      try {
        executor = current ?? executorFor(w.job.customerId);
      } catch (err) {
        // No process could be started (fork, temp dir or uid failed): fail this one, keep the pool up.
        queue.splice(i, 1);
        if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
        w.resolve(notRunOutcome(`The executor could not be started: ${err instanceof Error ? err.message : String(err)}`, w.calledAt));
        continue;
      }
      if (!executor) {
        i++;
        continue;
      }
      queue.splice(i, 1);
      if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
      clearTimeout(idleTimers.get(executor));
      idleTimers.delete(executor);
      const { job, signal } = w;
      const cancel = () => executor.cancel(job);
      const resolve = (outcome: ExecutionOutcome) => {
        signal?.removeEventListener('abort', cancel);
        w.resolve(outcome);
      };
      signal?.addEventListener('abort', cancel, { once: true });
      executor.assign({ job, onLog: w.onLog, onFetch: w.onFetch, io: w.io, resolve, calledAt: w.calledAt, queuedToStartMs: preciseNow() - w.calledAt });
    }
    if (onQuiet && queue.length === 0 && [...executors.values()].every((e) => e.load === 0)) onQuiet();
  }

  async function stopAll(): Promise<void> {
    clearInterval(memoryWatch);
    for (const w of queue.splice(0)) {
      if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
      w.resolve(notRunOutcome('The executor pool shut down before the execution started', w.calledAt));
    }
    const all = [...executors.values(), ...dying, ...spares];
    for (const e of [...executors.values(), ...spares, ...[...dying].filter((d) => outdated.has(d))]) stop(e, 'closed');
    await Promise.all(all.map((e) => e.exited));
  }

  if (warning) emit({ type: 'warning', message: warning });
  if (containment.weakness) {
    emit({
      type: 'warning',
      message: `Weak isolation (allowed): executors have no PID namespace (${containment.weakness}), so a process a flow starts in a new session outlives its executor`,
    });
  }
  replenishSpares();

  return {
    run(
      job: ExecutionJob,
      onLog: (line: ExecutionLogLine) => void,
      signal?: AbortSignal,
      onFetch?: (call: OutboundCall) => void,
      io?: ExecutionIO,
    ): Promise<ExecutionOutcome> {
      if (!accepting) return Promise.reject(new ExecutorPoolClosedError());
      const calledAt = preciseNow();
      const checked = runnableJob.safeParse(job);
      if (!checked.success) {
        const fields = [...new Set(checked.error.issues.map((i) => i.path.join('.')))].join(', ');
        return Promise.resolve({ ...notRunOutcome(`The execution job is invalid (${fields})`, calledAt), retryable: false, reason: 'error' });
      }
      if (signal?.aborted) return Promise.resolve(notRunOutcome('The execution was cancelled before it started', calledAt));
      return new Promise<ExecutionOutcome>((resolve) => {
        const w: Waiting = { job, onLog, onFetch, io, resolve, calledAt, queuedToStartMs: 0, signal };
        if (signal) {
          w.onAbort = () => {
            const at = queue.indexOf(w);
            if (at >= 0) {
              queue.splice(at, 1);
              resolve(notRunOutcome('The execution was cancelled before it started', calledAt));
            }
          };
          signal.addEventListener('abort', w.onAbort, { once: true });
        }
        queue.push(w);
        pump();
      });
    },

    stats(): ExecutorPoolStats {
      const byCustomer: Record<string, number> = {};
      let busy = 0;
      for (const e of executors.values()) {
        if (e.load > 0) {
          busy++;
          byCustomer[e.customerId] = e.load;
        }
      }
      return { executors: executors.size + spares.length, busy, byCustomer, queued: queue.length };
    },

    async drain(graceMs: number): Promise<void> {
      accepting = false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, graceMs);
        function done() {
          clearTimeout(timer);
          onQuiet = undefined;
          resolve();
        }
        onQuiet = done;
        pump();
      });
      await stopAll();
    },

    async close(): Promise<void> {
      accepting = false;
      await stopAll();
    },

    reload(): void {
      for (const executor of spares.splice(0)) stop(executor, 'closed');
      for (const executor of [...executors.values()]) {
        executors.delete(executor.customerId);
        if (executor.load === 0) {
          stop(executor, 'closed');
        } else {
          outdated.add(executor);
          dying.add(executor);
        }
      }
      replenishSpares();
      pump();
    },

    async retire(customerId: string): Promise<void> {
      for (let i = queue.length - 1; i >= 0; i--) {
        const w = queue[i]!;
        if (w.job.customerId !== customerId) continue;
        queue.splice(i, 1);
        if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
        w.resolve({ ...notRunOutcome('The customer was removed before the execution started', w.calledAt), retryable: false, reason: 'error' });
      }
      const ending = [...dying].filter((e) => e.customerId === customerId);
      const executor = executors.get(customerId);
      if (executor) {
        stop(executor, 'closed');
        ending.push(executor);
      }
      await Promise.all(ending.map((e) => e.exited));
    },
  };
}
