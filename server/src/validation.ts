// Edge validation: request bodies and params parsed with the protocol's zod schemas; a bad one
// answers 422 naming each field (field-errors.ts).
import type { Context } from 'hono';
import { fieldErrors, type IssueLike } from './field-errors.js';
import { HttpProblem, validationProblem } from './problem.js';

/** Standard-schema style parser shared by zod and zod/mini schemas. */
export interface ParsingSchema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: readonly IssueLike[] } };
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
