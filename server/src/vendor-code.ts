// Calling the vendor's code during a request (data sources, connection tests and identify): bounded
// by a time limit and the caller's signal, so code that never settles can't hang the request, and
// its failure text scrubbed of the secrets it ran with before anything logs it.

/** The vendor's code did not settle within its time limit. */
export class VendorCodeTimeout extends Error {
  override name = 'TimeoutError';
}

/**
 * Runs `call` with a signal that aborts after `timeoutMs` or when `signal` does, and settles when
 * the first of them does: code that ignores the signal is left behind, not waited for.
 */
export async function withTimeLimit<T>(call: (signal: AbortSignal) => Promise<T> | T, options: { timeoutMs: number; signal?: AbortSignal }): Promise<T> {
  // A plain timer (AbortSignal.timeout's is unref'd) so a hanging call still ends the request.
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new VendorCodeTimeout(`did not answer within ${options.timeoutMs} ms`)), options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout.signal, options.signal]) : timeout.signal;
  try {
    return await Promise.race([
      Promise.resolve().then(() => call(signal)),
      new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** True when `error` is withTimeLimit's own time limit (not the caller going away). */
export function timedOut(error: unknown): boolean {
  return error instanceof VendorCodeTimeout;
}

/** Every string inside `value` (credentials, config), to scrub from a log line. */
export function stringsIn(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') into.push(value);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) stringsIn(v, into);
  return into;
}

/** The error's message for a log line, with known secret values replaced and cut to 500 characters. */
export function scrubbedMessage(error: unknown, secrets: readonly unknown[]): string {
  let out: string;
  try {
    out = String((error as Error | undefined)?.message ?? error);
  } catch {
    // A message getter or toString that throws is the vendor's code too: its text is not ours to show.
    out = 'an error whose message could not be read';
  }
  for (const s of secrets) if (typeof s === 'string' && s.length >= 4) out = out.split(s).join('[redacted]');
  return out.slice(0, 500);
}
