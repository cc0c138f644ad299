// No zod here: the elements import this file alone, without the schemas (src/protocol/shapes.ts).

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
