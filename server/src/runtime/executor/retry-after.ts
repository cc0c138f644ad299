// How long a provider's 429 asks us to wait, from the headers providers actually send: Retry-After
// (seconds or an HTTP date), the IETF RateLimit fields (`RateLimit: "x";r=0;t=5`, or the older
// RateLimit-Reset) and the X-RateLimit-Reset that GitHub and others send (epoch seconds or a delta).

/** The longest pause a provider can impose on a connection; a flow's time limit usually ends it sooner. */
export const MAX_PAUSE_MS = 3_600_000;

/** Milliseconds to pause after a 429; without any hint, 1 s doubled on each further 429 of the same call. */
export function pauseAfter429(headers: Headers, attempt: number, now = Date.now()): number {
  const ms = hintedPause(headers, now) ?? 1000 * 2 ** Math.min(attempt, 10);
  return Math.min(MAX_PAUSE_MS, Math.max(0, Math.ceil(ms)));
}

function hintedPause(headers: Headers, now: number): number | undefined {
  const retryAfter = headers.get('retry-after')?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return Number(retryAfter) * 1000;
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return at - now;
  }
  const ietf = /(?:^|;)\s*t=(\d+)/.exec(headers.get('ratelimit') ?? '')?.[1];
  if (ietf !== undefined) return Number(ietf) * 1000;
  for (const name of ['ratelimit-reset', 'x-ratelimit-reset', 'x-rate-limit-reset']) {
    const value = headers.get(name)?.trim();
    if (!value || !/^\d+(\.\d+)?$/.test(value)) continue;
    const n = Number(value);
    // Large numbers are epoch seconds (GitHub), small ones seconds from now.
    return n > 1e9 ? n * 1000 - now : n * 1000;
  }
  return undefined;
}
