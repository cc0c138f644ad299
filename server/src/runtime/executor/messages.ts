// The narrow IPC protocol between the pool and one customer's executor (the executor imports only
// its types, so zod is loaded on the pool's side only). A run message carries
// only that execution's inputs; nothing else from the control plane ever crosses.
import * as z from 'zod';
import { LogLevel, type ExecutionStatus } from 'plugboard/protocol';
import { FLOW_STATE_LIMITS } from '../../sdk/flows.js';
import type { ExecutionJob } from './types.js';

/** What the child receives of a job: the pool key and budget stay in the parent. */
export type ChildExecution = Omit<ExecutionJob, 'customerId' | 'customerExternalId' | 'timeoutMs' | 'secrets'> & {
  customer: { id: string; externalId: string };
};

/** Pool → executor. */
export type ToExecutor =
  | { type: 'run'; id: number; execution: ChildExecution; /** Send a `fetch` message per ctx.fetch call (the runner traces). */ reportFetches?: boolean }
  | { type: 'abort'; id: number; cause: 'timeout' | 'cancelled' }
  /** The answer to a `turn`: go (after `waitedMs` of waiting), or the reason not to. */
  | { type: 'turn'; id: number; call: number; waitedMs?: number; error?: string }
  /** The answer to `state-read`: the instance's stored state, each value as JSON text. */
  | { type: 'state'; id: number; entries?: Record<string, string>; error?: string };

// Executor → pool: what the pool accepts. A flow shares its process with this protocol and could
// send anything; whatever does not fit is dropped, and it can only ever touch its own customer's runs.
// Times are epoch milliseconds with fractions (see clock.ts).
const fromExecutor = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), integrations: z.array(z.string()) }),
  z.object({ type: z.literal('load-failed'), error: z.string() }),
  z.object({ type: z.literal('log'), id: z.number(), level: LogLevel, message: z.string(), at: z.string() }),
  // One ctx.fetch call: method, host and status only (the executor never sends the URL's path or query).
  z.object({
    type: z.literal('fetch'),
    id: z.number(),
    method: z.string().max(32),
    host: z.string().max(300),
    port: z.number().int().min(0).max(65535).optional(),
    status: z.number().int().min(0).max(999).optional(),
    error: z.string().max(100).optional(),
    startedAt: z.number(),
    endedAt: z.number(),
  }),
  // A ctx.fetch through a connection asks for a turn of its rate limit; a 429 pauses the connection.
  z.object({ type: z.literal('turn'), id: z.number(), call: z.number(), connection: z.string().max(200) }),
  z.object({ type: z.literal('pause'), id: z.number(), connection: z.string().max(200), ms: z.number().min(0).max(3_600_000) }),
  z.object({ type: z.literal('state-read'), id: z.number() }),
  z.object({
    type: z.literal('done'),
    id: z.number(),
    // A flow ends succeeded or failed; a timeout is the pool's verdict, never the executor's.
    status: z.enum(['succeeded', 'failed'] as const satisfies readonly ExecutionStatus[]),
    result: z.unknown().optional(),
    error: z.string().optional(),
    retryable: z.boolean(),
    // What the flow wrote to ctx.state (JSON text per key), kept only when it succeeded.
    state: z
      .object({
        set: z.record(z.string().max(FLOW_STATE_LIMITS.keyChars), z.string().max(FLOW_STATE_LIMITS.totalBytes)),
        deleted: z.array(z.string().max(FLOW_STATE_LIMITS.keyChars)).max(FLOW_STATE_LIMITS.keys),
      })
      .optional(),
    startedAt: z.number(),
    endedAt: z.number(),
  }),
  z.object({ type: z.literal('fatal'), error: z.string() }),
]);

/** Executor → pool. */
export type FromExecutor = z.infer<typeof fromExecutor>;

export function parseFromExecutor(raw: unknown): FromExecutor | undefined {
  const parsed = fromExecutor.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}
