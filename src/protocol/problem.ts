import * as z from 'zod/mini';

/** One field-level error: `path` is a dotted path into the request body (e.g. `config.channel`). */
export const FieldError = z.object({
  path: z.string(),
  message: z.string(),
});
export type FieldError = z.infer<typeof FieldError>;

/** RFC 9457 problem details, with `errors` naming each bad field. Every 4xx/5xx body has this shape. */
export const Problem = z.looseObject({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  detail: z.optional(z.string()),
  instance: z.optional(z.string()),
  errors: z.optional(z.array(FieldError)),
});
export type Problem = z.infer<typeof Problem>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Stable `type` URIs, so callers can branch on them without parsing titles. */
export const ProblemType = {
  validation: 'https://plugboard.dev/problems/validation',
  unauthorized: 'https://plugboard.dev/problems/unauthorized',
  forbidden: 'https://plugboard.dev/problems/forbidden',
  notFound: 'https://plugboard.dev/problems/not-found',
  conflict: 'https://plugboard.dev/problems/conflict',
  versionMismatch: 'https://plugboard.dev/problems/version-mismatch',
  notReady: 'https://plugboard.dev/problems/not-ready',
  tooLarge: 'https://plugboard.dev/problems/too-large',
  rateLimited: 'https://plugboard.dev/problems/rate-limited',
  queueFull: 'https://plugboard.dev/problems/queue-full',
  upstream: 'https://plugboard.dev/problems/upstream',
  flowFailed: 'https://plugboard.dev/problems/flow-failed',
  timedOut: 'https://plugboard.dev/problems/timed-out',
  internal: 'https://plugboard.dev/problems/internal',
} as const;
