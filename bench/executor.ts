// Executor pool figures, on the compiled (production) build of the pool and a trivial flow:
//   warm overhead per execution (IPC round trip minus flow time), warm start latency,
//   cold start (first run of a new customer: process start + module load), and
//   executions per second with N customers. Prints figures; asserts nothing.
// Run: node --import tsx bench/executor.ts   (or npm run bench -- executor)
// Knobs: BENCH_WARM_RUNS (2000), BENCH_COLD_CUSTOMERS (20), BENCH_CUSTOMERS (8), BENCH_TOTAL (4000).
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { rmSync } from 'node:fs';
import type * as Executor from '../server/src/runtime/executor/index.js';
import { compileExecutor } from '../test/node/fixtures/flows/compiled.js';

const warmRuns = Number(process.env.BENCH_WARM_RUNS ?? 2000);
const coldCustomers = Number(process.env.BENCH_COLD_CUSTOMERS ?? 20);
const customers = Number(process.env.BENCH_CUSTOMERS ?? 8);
const total = Number(process.env.BENCH_TOTAL ?? 4000);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
function line(label: string, values: number[]): void {
  const f = (n: number) => n.toFixed(2).padStart(8);
  console.log(`${label.padEnd(46)} p50 ${f(percentile(values, 50))} ms   p99 ${f(percentile(values, 99))} ms   (n=${values.length})`);
}

function job(customerId: string): Executor.ExecutionJob {
  return {
    executionId: randomUUID(),
    customerId,
    customerExternalId: customerId,
    instanceId: 'inst_bench',
    integrationKey: 'probe',
    flow: 'trivial',
    attempt: 1,
    trigger: 'webhook',
    payload: { order: 1, items: ['a', 'b', 'c'] },
    headers: { 'content-type': 'application/json' },
    config: { listId: 'L1' },
    connections: { crm: { kind: 'apiKey', values: { key: 'k' } } },
    timeoutMs: 30_000,
  };
}

const compiled = await compileExecutor();
const { createExecutorPool } = (await import(compiled.poolModule)) as typeof Executor;
const pool = createExecutorPool({ integrationsModule: compiled.integrationsModule, maxExecutors: 64 });
const noLog = () => {};

console.log(`# executor pool, compiled build, trivial flow; ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)} at start`);

// Warm: one customer, one execution at a time.
await pool.run(job('warm'), noLog);
for (let i = 0; i < 200; i++) await pool.run(job('warm'), noLog); // let both sides' JIT settle
const overhead: number[] = [];
const startLatency: number[] = [];
const roundTrip: number[] = [];
for (let i = 0; i < warmRuns; i++) {
  const t0 = performance.now();
  const o = await pool.run(job('warm'), noLog);
  roundTrip.push(performance.now() - t0);
  overhead.push(o.timings.overheadMs ?? NaN);
  startLatency.push(o.timings.startLatencyMs ?? NaN);
}
line('warm isolation overhead (IPC round trip)', overhead);
line('warm start latency (run() → flow code)', startLatency);
line('warm run() → outcome', roundTrip);

// Cold: the first execution of a customer that has no executor yet, three ways.
async function coldStarts(prefix: string, p: Executor.ExecutorPool, before?: () => Promise<void>): Promise<number[]> {
  const latency: number[] = [];
  for (let i = 0; i < coldCustomers; i++) {
    await before?.();
    const o = await p.run(job(`${prefix}-${i}`), noLog);
    latency.push(o.timings.startLatencyMs ?? NaN);
  }
  return latency;
}
const bare = createExecutorPool({ integrationsModule: compiled.integrationsModule, spares: 0, maxExecutors: 64 });
line('cold start, no spare (fork + module load)', await coldStarts('bare', bare));
await bare.close();
// What the PID and mount namespaces (unshare) add to a process start: the same without them.
const uncontained = createExecutorPool({
  integrationsModule: compiled.integrationsModule,
  spares: 0,
  maxExecutors: 64,
  containment: false,
  allowWeakIsolation: true,
});
line('cold start, no spare, without namespaces', await coldStarts('uncontained', uncontained));
await uncontained.close();

let sparesReady = 0;
const spared = createExecutorPool({
  integrationsModule: compiled.integrationsModule,
  spares: 1,
  maxExecutors: 64,
  onEvent: (e) => {
    if (e.type === 'spawned' && e.customerId === '') sparesReady++;
  },
});
let claimed = 0;
const spareReady = async () => {
  while (sparesReady <= claimed) await new Promise((r) => setTimeout(r, 5));
  claimed++;
};
line('cold start, spare ready (spares: 1)', await coldStarts('spared', spared, spareReady));
const burst = await Promise.all(Array.from({ length: coldCustomers }, (_, i) => spared.run(job(`burst-${i}`), noLog)));
line(
  `cold start, burst of ${coldCustomers} new customers`,
  burst.map((o) => o.timings.startLatencyMs ?? NaN),
);
await spared.close();

// Throughput: N warm customers, each keeping maxPerCustomer (4) executions in flight.
await Promise.all(Array.from({ length: customers }, (_, c) => pool.run(job(`tp-${c}`), noLog)));
let next = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: customers * 4 }, async (_, lane) => {
    while (next < total) {
      next++;
      await pool.run(job(`tp-${lane % customers}`), noLog);
    }
  }),
);
const seconds = (performance.now() - t0) / 1000;
console.log(
  `${`throughput, ${customers} customers × 4 in flight`.padEnd(46)} ${(total / seconds).toFixed(0)} executions/s (${total} in ${seconds.toFixed(2)} s)`,
);

await pool.close();
rmSync(compiled.dir, { recursive: true, force: true });
console.log(`# load average ${loadavg()[0]!.toFixed(1)} at end`);
