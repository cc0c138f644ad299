// API rate limits: a fixed one-minute window per customer and per vendor token, counted by
// rate-limiter-flexible. On PostgreSQL the counters live in one table that every replica shares
// (its RateLimiterPostgres, through the store's own pool); on SQLite (one process) in memory.
// Responses carry the IETF RateLimit fields as draft-ietf-httpapi-ratelimit-headers-10 spells
// them: `RateLimit-Policy: "customer";q=600;w=60` and `RateLimit: "customer";r=599;t=42`.
import { hash } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { CompiledQuery } from 'kysely';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from './logger.js';
import { setResponseHeader } from './response-headers.js';
import type { Store } from './store/types.js';

export type RateLimitPolicy = 'customer' | 'vendor';

export interface RateLimitSettings {
  /** Requests per minute per customer (every user and token of it together); 0: no limit. */
  customerPerMinute: number;
  /** Requests per minute per vendor token subject (`sub`); 0: no limit. */
  vendorPerMinute: number;
}

export const DEFAULT_RATE_LIMITS: RateLimitSettings = { customerPerMinute: 600, vendorPerMinute: 1200 };
const WINDOW_SECONDS = 60;
/** The counters' table on PostgreSQL (created by rate-limiter-flexible if missing). */
export const RATE_LIMIT_TABLE = 'plugboard_rate_limits';

/** Over the limit: answered 429 with `Retry-After` and the RateLimit fields (problem.ts). */
export class RateLimitedError extends Error {
  override name = 'RateLimitedError';
  constructor(
    readonly policy: RateLimitPolicy,
    readonly retryAfterSeconds: number,
    readonly headers: Record<string, string>,
  ) {
    super(`Too many requests for this ${policy === 'customer' ? 'customer' : 'vendor token'}; retry in ${retryAfterSeconds} s.`);
  }
}

export interface RateLimits {
  readonly settings: RateLimitSettings;
  /** Counts one request of `key`; answers the RateLimit fields, or throws RateLimitedError when over. */
  consume(policy: RateLimitPolicy, key: string): Promise<Record<string, string>>;
  /**
   * `consume` without a promise where the counters are in this process (SQLite: one process owns the
   * file); undefined where they are not (PostgreSQL): call `consume`.
   */
  consumeNow?(policy: RateLimitPolicy, key: string): Record<string, string> | undefined;
}

export interface RateLimitsOptions {
  store: Store;
  settings?: Partial<RateLimitSettings>;
  logger?: Logger;
}

/** Built once (services.ts). On PostgreSQL it waits until the counters' table exists. */
export async function createRateLimits({ store, settings: given, logger }: RateLimitsOptions): Promise<RateLimits> {
  const settings = { ...DEFAULT_RATE_LIMITS, ...given };
  const limiters = new Map<RateLimitPolicy, RateLimiterAbstract>();
  const local = new Map<RateLimitPolicy, LocalWindows>();
  const policyFields = new Map<RateLimitPolicy, string>();
  for (const [policy, points] of [
    ['customer', settings.customerPerMinute],
    ['vendor', settings.vendorPerMinute],
  ] as const) {
    if (points <= 0) continue;
    policyFields.set(policy, `"${policy}";q=${points};w=${WINDOW_SECONDS}`);
    if (store.engine === 'postgres') limiters.set(policy, await limiter(store, policy, points));
    else local.set(policy, new LocalWindows(points));
  }

  function refused(policy: RateLimitPolicy, msBeforeNext: number): RateLimitedError {
    const retryAfter = Math.max(1, Math.ceil(msBeforeNext / 1000));
    logger?.warn({ policy, retryAfter }, 'rate limited');
    return new RateLimitedError(policy, retryAfter, {
      'retry-after': String(retryAfter),
      'ratelimit-policy': policyFields.get(policy)!,
      ratelimit: `"${policy}";r=0;t=${retryAfter}`,
    });
  }
  const fields = (policy: RateLimitPolicy, remaining: number, msBeforeNext: number): Record<string, string> => ({
    'ratelimit-policy': policyFields.get(policy)!,
    ratelimit: `"${policy}";r=${remaining};t=${Math.max(0, Math.ceil(msBeforeNext / 1000))}`,
  });

  function consumeNow(policy: RateLimitPolicy, key: string): Record<string, string> | undefined {
    const windows = local.get(policy);
    if (!windows) return limiters.has(policy) ? undefined : {};
    const { remaining, msBeforeNext } = windows.count(key);
    if (remaining < 0) throw refused(policy, msBeforeNext);
    return fields(policy, remaining, msBeforeNext);
  }

  return {
    settings,
    consumeNow,
    async consume(policy, key): Promise<Record<string, string>> {
      const now = consumeNow(policy, key);
      if (now) return now;
      const limiter = limiters.get(policy)!;
      let res: RateLimiterRes;
      try {
        res = await limiter.consume(counterKey(key));
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
        throw refused(policy, error.msBeforeNext);
      }
      return fields(policy, res.remainingPoints, res.msBeforeNext);
    },
  };
}

/**
 * Fixed one-minute windows counted in this process (SQLite), as rate-limiter-flexible's memory
 * limiter counts them (a window starts with a key's first request; past `points` it refuses until
 * the window ends), but without a promise, a result object and a timer per key on every request.
 */
class LocalWindows {
  private readonly windows = new Map<string, { used: number; endsAt: number }>();
  private sweepAt = 0;

  constructor(private readonly points: number) {}

  /** Counts a request of `key`: what is left of its window (below 0: over the limit) and when the window ends. */
  count(key: string): { remaining: number; msBeforeNext: number } {
    const now = Date.now();
    let window = this.windows.get(key);
    if (window === undefined || window.endsAt <= now) {
      if (now >= this.sweepAt) this.sweep(now);
      window = { used: 0, endsAt: now + WINDOW_SECONDS * 1000 };
      this.windows.set(key, window);
    }
    window.used++;
    return { remaining: this.points - window.used, msBeforeNext: window.endsAt - now };
  }

  // Ended windows go once a window's length, so keys seen once don't stay.
  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key);
    this.sweepAt = now + WINDOW_SECONDS * 1000;
  }
}

async function limiter(store: Store, policy: RateLimitPolicy, points: number): Promise<RateLimiterAbstract> {
  const options = { keyPrefix: policy, points, duration: WINDOW_SECONDS };
  // RateLimiterPostgres talks to a pg-style client: `query({ text, values })` → `{ rows }`. The
  // store's Kysely runs it on the store's pool (and in its schema), so no second pool is opened.
  const storeClient = { query: (q: { text: string; values?: unknown[] }) => store.db.executeQuery(CompiledQuery.raw(q.text, q.values ?? [])) };
  return new Promise((resolve, reject) => {
    const created: RateLimiterPostgres = new RateLimiterPostgres(
      {
        ...options,
        storeClient,
        storeType: 'pool',
        tableName: RATE_LIMIT_TABLE,
        // A database that stops answering must not take the API down with it: count in memory meanwhile.
        insuranceLimiter: new RateLimiterMemory(options),
      },
      (error?: Error) => (error ? reject(error) : resolve(created)),
    );
  });
}

/** Hashes kept, so a busy customer's requests don't each hash its id again (a few MB at most). */
const COUNTER_KEYS_KEPT = 10_000;
const counterKeys = new Map<string, string>();

/** Counters are keyed by a hash: the table never names a customer (erasure leaves nothing to find there) and rows expire with their window. */
function counterKey(key: string): string {
  let hashed = counterKeys.get(key);
  if (hashed === undefined) {
    hashed = hash('sha256', key, 'base64url').slice(0, 22);
    if (counterKeys.size >= COUNTER_KEYS_KEPT) counterKeys.delete(counterKeys.keys().next().value!); // oldest first
    counterKeys.set(key, hashed);
  }
  return hashed;
}

/** Middleware: counts the request against `policy` for the identity `keyOf` names (set by auth, which runs first). */
export function rateLimit<C extends Context>(limits: RateLimits, policy: RateLimitPolicy, keyOf: (c: C) => string): MiddlewareHandler {
  // Not async where the counters are in this process: next()'s promise as it is (no wrapper, no await).
  return (c, next) => {
    const key = keyOf(c as C);
    const counted = limits.consumeNow?.(policy, key);
    if (counted === undefined) return countThenNext(c, next, key);
    setFields(c, counted);
    return next();
  };
  async function countThenNext(c: Context, next: () => Promise<void>, key: string): Promise<void> {
    setFields(c, await limits.consume(policy, key));
    await next();
  }
  // Set before the handler runs, so the response is built with them (nothing rewritten after).
  function setFields(c: Context, headers: Record<string, string>): void {
    for (const name in headers) setResponseHeader(c, name, headers[name]!);
  }
}
