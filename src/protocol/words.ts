// Words for the customer derived from the contract, shared by the server's SDK and the elements.
// No zod here: the elements import this file alone, without the schemas.

/** A key in words, for a flow without a `label`: `syncContacts` → "Sync contacts", `payment_event` → "Payment event". */
export function keyInWords(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * The summary in words of a run's stored result: a flow that returned a string, or an object
 * with a `summary` string. Undefined when the result is only data (shown behind "Details").
 */
export function resultInWords(resultSummary: string | null | undefined): string | undefined {
  if (!resultSummary) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(resultSummary);
  } catch {
    // Not JSON: the flow returned text (or a long result was cut short; its start is not words).
    return /^[[{"]/.test(resultSummary) ? undefined : resultSummary;
  }
  if (typeof parsed === 'string') return parsed;
  const summary = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as { summary?: unknown }).summary : undefined;
  return typeof summary === 'string' && summary.trim() !== '' ? summary : undefined;
}
