// zod issues as the `errors: [{ path, message }]` every refusal carries (services and the HTTP edge).
import type { FieldError } from 'plugboard/protocol';

/** The part of a zod issue we read; works for zod and zod/mini. */
export interface IssueLike {
  path: readonly PropertyKey[];
  message: string;
}

/**
 * zod issues as `{ path, message }`. `depth` cuts paths (e.g. `config.events.1` → `config.events`
 * with depth 2) so a form can put each error on its field; one error per path is kept.
 */
export function fieldErrors(issues: readonly IssueLike[], prefix?: string, depth = Infinity): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const issue of issues) {
    const parts = [...(prefix ? [prefix] : []), ...issue.path.map((p) => String(p))].slice(0, depth);
    const path = parts.join('.') || '(body)';
    if (depth !== Infinity && seen.has(path)) continue;
    seen.add(path);
    out.push({ path, message: issue.message });
  }
  return out;
}
