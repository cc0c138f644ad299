import type { Problem } from '../protocol/index.js';

/**
 * A failed API call. `problem` is the server's RFC 9457 body (or one made up for a network
 * failure or an unreadable body), so callers branch on `status` / `problem.type` and show
 * `problem.errors` on fields.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly problem: Problem;

  constructor(problem: Problem, options?: { cause?: unknown }) {
    super(problem.detail ?? problem.title, options);
    this.status = problem.status;
    this.problem = problem;
  }

  /** Field errors of a 422, `[]` otherwise. */
  get errors(): { path: string; message: string }[] {
    return this.problem.errors ?? [];
  }
}

/** Status 0: the request never got an HTTP answer (offline, CORS, DNS). */
export const NETWORK_ERROR_TYPE = 'about:network-error';

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}
