// The narrow IPC protocol between the pool and one customer's executor. A run message carries
// only that execution's inputs; nothing else from the control plane ever crosses.
import type { ConnectionCredentials } from '../../../sdk/index.js';

export interface ChildExecution {
  executionId: string;
  instanceId: string;
  customer: { id: string; externalId: string };
  integrationKey: string;
  flow: string;
  attempt: number;
  trigger: 'webhook' | 'schedule' | 'manual';
  payload: unknown;
  headers: Record<string, string>;
  config: Record<string, unknown>;
  connections: Record<string, ConnectionCredentials>;
}

/** Pool → executor. */
export type ToExecutor =
  | { type: 'run'; id: number; execution: ChildExecution }
  | { type: 'abort'; id: number; cause: 'timeout' | 'cancelled' };

/** Executor → pool. Times are epoch milliseconds with fractions (performance.timeOrigin + now()). */
export type FromExecutor =
  | { type: 'ready'; integrations: string[] }
  | { type: 'load-failed'; error: string }
  | { type: 'log'; id: number; level: 'info' | 'warn' | 'error'; message: string; at: string }
  | {
      type: 'done';
      id: number;
      status: 'succeeded' | 'failed';
      result?: unknown;
      error?: string;
      retryable: boolean;
      startedAt: number;
      endedAt: number;
    }
  | { type: 'fatal'; error: string };

export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}
