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
  const policyFields = new Map<RateLimitPolicy, string>();
  for (const [policy, points] of [
    ['customer', settings.customerPerMinute],
    ['vendor', settings.vendorPerMinute],
  ] as const) {
    if (points <= 0) continue;
    policyFields.set(policy, `"${policy}";q=${points};w=${WINDOW_SECONDS}`);
    limiters.set(policy, await limiter(store, policy, points));
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

  return {
    settings,
    async consume(policy, key): Promise<Record<string, string>> {
      const limiter = limiters.get(policy);
      if (!limiter) return {};
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

async function limiter(store: Store, policy: RateLimitPolicy, points: number): Promise<RateLimiterAbstract> {
  const options = { keyPrefix: policy, points, duration: WINDOW_SECONDS };
  if (store.engine !== 'postgres') return new RateLimiterMemory(options);
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
  return async (c, next) => {
    setFields(c, await limits.consume(policy, keyOf(c as C)));
    await next();
  };
  // Set before the handler runs, so the response is built with them (nothing rewritten after).
  function setFields(c: Context, headers: Record<string, string>): void {
    for (const name in headers) setResponseHeader(c, name, headers[name]!);
  }
}
