// Turns what flows return or log into bounded, JSON-safe values before they leave the executor.
import { formatWithOptions, inspect } from 'node:util';

export const RESULT_CAP_BYTES = 4096;
export const LOG_LINE_CAP_BYTES = 8192;
export const ERROR_CAP_BYTES = 2048;

/** Cuts text to at most `maxBytes` of UTF-8, marking the cut. */
export function capText(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const marker = ' … [truncated]';
  // Slicing the buffer may split a code point; toString replaces the broken tail, which we drop.
  const cut = Buffer.from(text)
    .subarray(0, maxBytes - Buffer.byteLength(marker))
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  return cut + marker;
}

/**
 * The flow's return value as JSON would carry it (bigint as text, cycles and repeats as
 * "[Circular]"), or `{ truncated: true, bytes, preview }` when its JSON exceeds `maxBytes`.
 */
export function summarizeResult(value: unknown, maxBytes = RESULT_CAP_BYTES): unknown {
  if (value === undefined) return undefined;
  let json: string | undefined;
  try {
    const seen = new WeakSet<object>();
    json = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (typeof v === 'object' && v !== null) {
        if (seen.has(v)) return '[Circular]';
        seen.add(v);
      }
      return v;
    });
  } catch {
    // A throwing toJSON or getter: fall back to how Node would print it.
    json = JSON.stringify(inspect(value, { depth: 2, breakLength: Infinity }));
  }
  if (json === undefined) return undefined;
  const bytes = Buffer.byteLength(json);
  if (bytes <= maxBytes) return JSON.parse(json) as unknown;
  return { truncated: true, bytes, preview: capText(json, maxBytes - 64) };
}

/** Shorter values are not blanked: they would cut ordinary words out of the text. */
const SECRET_MIN_LENGTH = 8;

/** `text` with every occurrence of each secret replaced by "[redacted]". */
export function blankSecrets(text: string, secrets: readonly string[] | undefined): string {
  if (!secrets) return text;
  let out = text;
  for (const secret of secrets) if (secret.length >= SECRET_MIN_LENGTH && out.includes(secret)) out = out.split(secret).join('[redacted]');
  return out;
}

/** A JSON value (a summarized result) with the secrets blanked out of every string in it, keys included. */
export function blankSecretsIn(value: unknown, secrets: readonly string[] | undefined): unknown {
  if (!secrets?.length) return value;
  if (typeof value === 'string') return blankSecrets(value, secrets);
  if (Array.isArray(value)) return value.map((v) => blankSecretsIn(v, secrets));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [blankSecrets(k, secrets), blankSecretsIn(v, secrets)]));
  }
  return value;
}

/** One log line: like console.log (format specifiers, util.inspect for the rest), capped. */
export function formatLogLine(message: unknown, rest: unknown[]): string {
  const text = formatWithOptions({ depth: 4, breakLength: Infinity, maxStringLength: LOG_LINE_CAP_BYTES }, message, ...rest);
  return capText(text, LOG_LINE_CAP_BYTES);
}
