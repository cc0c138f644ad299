// The isolated executor pool: runs integration flows in child processes kept warm per customer.
// Its contract (types.ts) is what other runtime parts (queue, runners, triggers) build on; keep it stable.
export type * from './types.js';
export { createExecutorPool, ExecutorPoolClosedError } from './pool.js';
export { ExecutorIsolationError } from './containment.js';
