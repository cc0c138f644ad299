// Request budgets a provider imposes on one connected account, declared by the integration and
// enforced by the runtime for every ctx.fetch through that connection, across all runners.

/** A window: seconds, minutes, hours or days, e.g. `'1s'`, `'10s'`, `'1m'`, `'1h'`, `'1d'`. */
export type RateWindow = `${number}${'s' | 'm' | 'h' | 'd'}`;

/** At most `requests` calls in each `per` window, e.g. `{ requests: 100, per: '1m' }`. */
export interface RateLimit {
  requests: number;
  per: RateWindow;
}

/** A limit with its window in milliseconds, as the runtime counts it. */
export interface ParsedRateLimit {
  requests: number;
  windowMs: number;
}

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const WINDOW = /^(\d+)(s|m|h|d)$/;

/** Checks limits at definition time so a typo fails at start-up; shortest window first (the one a 429 pauses). */
export function parseRateLimits(where: string, limits: readonly RateLimit[] | undefined): ParsedRateLimit[] | undefined {
  if (limits === undefined) return undefined;
  // `as unknown`: Array.isArray would narrow a readonly list to any[].
  if (!Array.isArray(limits as unknown) || limits.length === 0) throw new Error(`${where}: rateLimit must be a non-empty list of { requests, per }`);
  return limits
    .map((l: RateLimit, i) => {
      const match = WINDOW.exec(String(l?.per));
      if (!match || Number(match[1]) < 1)
        throw new Error(`${where}: rateLimit[${i}].per "${String(l?.per)}" must be a whole number and s, m, h or d, e.g. "1m"`);
      if (!Number.isInteger(l.requests) || l.requests < 1) throw new Error(`${where}: rateLimit[${i}].requests must be a whole number of at least 1`);
      return { requests: l.requests, windowMs: Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] };
    })
    .sort((a, b) => a.windowMs - b.windowMs);
}
