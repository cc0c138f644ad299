// What the tests import as '@open-wc/testing' (web-test-runner.config.mjs redirects it here): the
// same helpers, with two allowances for a loaded CI host, neither of which hides a condition that
// never holds (mocha still fails a test after 10 s).
import { waitUntil as waitBriefly } from '@open-wc/testing';
// The vendor console client's schemas (zod), loaded before any test: the dev server's first
// transform of zod took 3 s on a host at load 25, inside whichever test first met a response.
import '../../src/client/validation.js';

export * from '@open-wc/testing';

/** waitUntil with a 5 s default instead of 1 s: a render on a loaded host overran the second. */
export function waitUntil(predicate: () => unknown, message?: string, options: { interval?: number; timeout?: number } = {}): Promise<void> {
  return waitBriefly(predicate, message, { timeout: 5_000, ...options });
}
