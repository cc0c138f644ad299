// Entry of `plugboard serve`'s runner thread (runner-thread.ts starts it): the services a runner
// needs, built from the server's configuration on a connection of their own, with a runner
// inline here; metrics and (optionally) log lines go to the HTTP side, which serves /metrics.
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../logger.js';
import { servicesFromConfig } from '../services.js';
import { startTelemetry } from '../telemetry.js';
import { runtimeSettings } from './index.js';
import type { RuntimeMetrics } from './metrics.js';
import type { FromThread, RunnerThreadData, ToThread } from './runner-thread.js';

const port = parentPort!;
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

let services: Awaited<ReturnType<typeof servicesFromConfig>>;
try {
  services = await servicesFromConfig(data.config, {
    logger,
    telemetry,
    storeOptions: { ...data.storeOptions, migrate: false, cache: { threads: data.threads } },
    runtime: { env: data.env, settings: { ...runtimeSettings(data.env), runnerThread: false }, runner: true, threads: data.threads, metrics },
  });
} catch (err) {
  const error = err instanceof Error ? err : new Error(String(err));
  post({ type: 'failed', name: error.name, message: error.message });
  await telemetry?.shutdown();
  process.exit(1);
}

const runner = services.runner!;
const inFlight = new Int32Array(data.inFlight);
const report = setInterval(() => Atomics.store(inFlight, 0, runner.inFlight), 100);
report.unref();

port.on('message', (message: ToThread) => {
  if (message.type === 'stop') {
    void (async () => {
      try {
        await services.stop(message.graceMs);
        await services.close();
      } catch (err) {
        logger.error({ err }, 'runner thread stopped with an error');
      }
      clearInterval(report);
      Atomics.store(inFlight, 0, runner.inFlight);
      logger.flush?.();
      await telemetry?.shutdown();
      post({ type: 'stopped' });
    })();
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
