// Entry of `plugboard serve`'s runner thread (runner-thread.ts starts it): the services a runner
// needs, built from the server's configuration on a connection of their own, with a runner
// inline here; metrics and (optionally) log lines go to the HTTP side, which serves /metrics.
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../logger.js';
import { isDatabaseUnavailable } from '../problem.js';
import { servicesFromConfig } from '../services.js';
import { startTelemetry } from '../telemetry.js';
import { runtimeSettings } from './index.js';
import type { RuntimeMetrics } from './metrics.js';
import type { FromThread, RunnerThreadData, ToThread } from './runner-thread.js';

const port = parentPort!;
/** Back-off while the database does not answer at start: 250 ms, doubling, at most 2 s (back within 2 s of it). */
const START_RETRY_MS = 250;
const START_RETRY_MAX_MS = 2000;
const data = workerData as RunnerThreadData;
const post = (message: FromThread) => port.postMessage(message);

const telemetry = data.telemetry ? await startTelemetry({ serviceName: 'plugboard-server' }) : undefined;
const logger = createLogger({
  level: data.config.logLevel,
  telemetry,
  stream: data.logToParent ? { write: (line: string) => post({ type: 'log', line }) } : undefined,
});
// Counted where /metrics is served (and where the OTel instruments are).
const metrics: RuntimeMetrics = {
  executionFinished: (status, durationMs) => post({ type: 'metric', call: 'executionFinished', status, durationMs }),
  executionRetried: () => post({ type: 'metric', call: 'executionRetried' }),
  executionQueued: (trigger) => post({ type: 'metric', call: 'executionQueued', trigger }),
  httpRequest: () => {},
  render: async () => '',
};

// Spawned while the HTTP side builds its services: the modules above load meanwhile; the database is
// ready (migrated) once it says start.
await new Promise<void>((resolve) => {
  const onStart = (message: ToThread) => {
    if (message.type !== 'start') return;
    port.off('message', onStart);
    resolve();
  };
  port.on('message', onStart);
});

// Asked to stop before its runner took work (the server shut down meanwhile).
let stopRequested = false;
const onEarlyStop = (message: ToThread) => {
  if (message.type === 'stop') stopRequested = true;
};
port.on('message', onEarlyStop);

// A database that does not answer while the thread starts (an outage, a failover) is waited for,
// as a runner that has started waits one out: the replica stays up and its runner takes work once
// the database is back. Anything else (isolation, settings) fails the start.
let started: Awaited<ReturnType<typeof servicesFromConfig>> | undefined;
for (let attempt = 0; started === undefined; attempt++) {
  try {
    started = await servicesFromConfig(data.config, {
      logger,
      telemetry,
      storeOptions: { ...data.storeOptions, migrate: false, cache: { threads: data.threads } },
      runtime: { env: data.env, settings: { ...runtimeSettings(data.env), runnerThread: false }, runner: true, threads: data.threads, metrics },
    });
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    if (isDatabaseUnavailable(error) && !stopRequested) {
      const delayMs = Math.min(START_RETRY_MS * 2 ** attempt, START_RETRY_MAX_MS);
      if (attempt === 0) logger.warn({ err: error.message }, 'runner thread: the database does not answer; starting when it does');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      continue;
    }
    if (stopRequested) {
      await telemetry?.shutdown();
      post({ type: 'stopped' });
      process.exit(0);
    }
    post({ type: 'failed', name: error.name, message: error.message });
    await telemetry?.shutdown();
    process.exit(1);
  }
}
port.off('message', onEarlyStop);
const services = started!;

const runner = services.runner!;
const inFlight = new Int32Array(data.inFlight);
const report = setInterval(() => Atomics.store(inFlight, 0, runner.inFlight), 100);
report.unref();

const stopThread = async (graceMs: number) => {
  try {
    await services.stop(graceMs);
    await services.close();
  } catch (err) {
    logger.error({ err }, 'runner thread stopped with an error');
  }
  clearInterval(report);
  Atomics.store(inFlight, 0, runner.inFlight);
  logger.flush?.();
  await telemetry?.shutdown();
  post({ type: 'stopped' });
};

port.on('message', (message: ToThread) => {
  if (message.type === 'stop') {
    void stopThread(message.graceMs);
    return;
  }
  if (message.type !== 'request') return;
  const answer = message.call === 'retire' ? retire(message.customerId) : runner.sweep();
  answer.then(
    (value) => post({ type: 'reply', id: message.id, value }),
    (err: unknown) => post({ type: 'reply', id: message.id, error: err instanceof Error ? err.message : String(err) }),
  );
});

async function retire(customerId: string): Promise<number> {
  await services.executors?.retire(customerId);
  return 0;
}

post({ type: 'ready', runnerId: runner.id });
// A stop that came while it started (no work taken yet).
if (stopRequested) void stopThread(0);
