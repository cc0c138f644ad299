// Edge validation: request bodies and params parsed with the protocol's zod schemas, and zod
// issues turned into the `errors: [{ path, message }]` of a 422.
import type { Context } from 'hono';
import type { FieldError } from 'plugboard/protocol';
import { HttpProblem, validationProblem } from './problem.js';

/** The part of a zod issue we read; works for zod and zod/mini. */
export interface IssueLike {
  path: readonly PropertyKey[];
  message: string;
}

/** Standard-schema style parser shared by zod and zod/mini schemas. */
export interface ParsingSchema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: readonly IssueLike[] } };
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

/** Parses the JSON body with `schema`; 400 if it is not JSON, 422 naming each bad field. */
export async function readBody<T>(c: Context, schema: ParsingSchema<T>): Promise<T> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new HttpProblem(400, 'validation', 'The request body must be JSON.', {
      errors: [{ path: '(body)', message: 'The request body must be JSON' }],
      title: 'Malformed request body',
    });
  }
  return parseWith(schema, raw);
}

export function parseWith<T>(schema: ParsingSchema<T>, value: unknown, prefix?: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw validationProblem(fieldErrors(result.error.issues, prefix));
  return result.data;
}
