// The opaque cursor of lists paged newest first by (time, id): the last row's time and id, so the
// next page starts strictly after it even when several rows share a time.
import { validationProblem } from './problem.js';

export const encodePageCursor = (at: string, id: string): string => Buffer.from(`${at}|${id}`).toString('base64url');

/** A 422 naming `query.cursor` when it is not one encodePageCursor made. */
export function decodePageCursor(cursor: string): { at: string; id: string } {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const bar = text.indexOf('|');
  if (bar <= 0 || Number.isNaN(Date.parse(text.slice(0, bar))))
    throw validationProblem([{ path: 'query.cursor', message: 'cursor is not one this API returned' }]);
  return { at: text.slice(0, bar), id: text.slice(bar + 1) };
}
