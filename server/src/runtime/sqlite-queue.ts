// The embedded engine's queue: the executions table itself, claimed in-process. One process owns
// the SQLite file's runner, so an execution left `running` at start-up was cut off by a crash and
// goes back to the queue. In `plugboard serve` the runner has a thread of its own (runner-thread.ts):
// the HTTP side's queue wakes it through a BroadcastChannel (`threads`).
import { BroadcastChannel } from 'node:worker_threads';
import type { ExecutionStore } from './executions.js';
import { FairDispatcher, type Claim, type DispatchOptions, type ExecutionQueue } from './queue.js';

export function createSqliteQueue(options: {
  executions: ExecutionStore;
  runnerId: string;
  onError?: (error: unknown) => void;
  /** The BroadcastChannel name this process's threads wake each other's runner on (the customer id of new work). */
  threads?: string;
}): ExecutionQueue {
  const { executions, runnerId } = options;
  let dispatcher: FairDispatcher | undefined;
  let recovered: Promise<number> | undefined;
  const threads = options.threads === undefined ? undefined : new BroadcastChannel(options.threads);
  threads?.unref();

  // One at a time: SQLite's claim is a local call, not a round trip (the dispatcher asks again for more).
  const claim = async (customerId: string): Promise<Claim[]> => {
    const claimed = await executions.claimNext(customerId, runnerId);
    if (!claimed) return [];
    const { more, ...row } = claimed;
    return [
      {
        executionId: row.id,
        customerId,
        row,
        more: Boolean(more),
        complete: async () => {},
        // The runner already wrote `queued` and the retry time; the claim query honours it.
        retry: async () => {},
      },
    ];
  };

  return {
    engine: 'sqlite',
    async enqueue(execution) {
      if (dispatcher) dispatcher.wake(execution.customerId);
      else threads?.postMessage(execution.customerId);
    },
    consume(handle, dispatch: DispatchOptions) {
      if (dispatcher) throw new Error('this queue is already being consumed');
      const d = new FairDispatcher({ readyCustomers: () => executions.readyCustomers(), claim }, handle, dispatch, options.onError ?? (() => {}));
      dispatcher = d;
      if (threads) threads.onmessage = (event) => d.wake((event as { data: string }).data);
      recovered = executions.requeueRunning();
      void recovered.then(() => d.start(), options.onError);
    },
    async stopConsuming() {
      await recovered;
      await dispatcher?.stop();
    },
    depth: () => executions.depth(),
    stats: () => executions.queueStats(),
    async close() {
      await this.stopConsuming();
      threads?.close();
    },
  };
}
