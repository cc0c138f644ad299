// An instance's change history as the customer's admin reads it: newest first, paged by a cursor,
// each event with when, who (as the vendor's token named them), what and on what. Details pass
// through a list of known keys, so a value written into an audit line by mistake never reaches the
// browser.
import type { AuditActor, AuditEntry, AuditList } from 'plugboard/protocol';
import { ForbiddenError, InvalidFieldsError, NotFoundError } from './errors.js';
import type { Caller } from './instances.js';
import type { AuditEvent } from './store/types.js';

export interface AuditTrail {
  /** Admins only (ForbiddenError); NotFoundError when the instance is not the caller's. */
  list(caller: Caller & { role: string }, instanceId: string, query: { cursor?: string; limit: number }): Promise<AuditList>;
}

/** Detail keys the audit writers use for names, counts and states: never a credential or a config value. */
const SHOWN_DETAILS = new Set([
  'integrationKey',
  'fields',
  'secretsChanged',
  'version',
  'connection',
  'kind',
  'scopes',
  'refreshable',
  'from',
  'by',
  'reason',
  'flow',
  'execution',
  'rerunOf',
  'method',
  'status',
  'dataSource',
  'failures',
  'failuresBefore',
]);

type DetailValue = AuditEntry['details'][string];

function shownValue(value: unknown): DetailValue | undefined {
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  return undefined;
}

/**
 * The vendor's staff show to the customer by the `name` their vendor token carries (the vendor
 * decides what it says, e.g. "Acme support (jane@acme.com)"); their `sub` stays the vendor's.
 */
function actorOf(event: AuditEvent): AuditActor {
  if (event.actor.startsWith('user:')) {
    return { type: 'user', id: event.actor.slice('user:'.length), ...(event.actorName ? { name: event.actorName } : {}) };
  }
  if (event.actor.startsWith('vendor:')) return { type: 'vendor', ...(event.actorName ? { name: event.actorName } : {}) };
  return { type: 'system' };
}

export function entryOf(event: AuditEvent): AuditEntry {
  const details: Record<string, DetailValue> = {};
  for (const [key, value] of Object.entries(event.details)) {
    const shown = SHOWN_DETAILS.has(key) ? shownValue(value) : undefined;
    if (shown !== undefined) details[key] = shown;
  }
  return { id: event.id, at: event.at, actor: actorOf(event), action: event.action, target: event.target, details };
}

const AUDIT_ID = /^aud_[0-9a-f]{16,40}$/;
const encodeCursor = (id: string) => Buffer.from(id).toString('base64url');
function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!AUDIT_ID.test(id)) throw new InvalidFieldsError([{ path: 'query.cursor', message: 'cursor is not one this API returned' }]);
  return id;
}

export function createAuditTrail(): AuditTrail {
  return {
    async list(caller, instanceId, { cursor, limit }) {
      if (caller.role !== 'admin') throw new ForbiddenError("Only an admin may read an instance's history");
      const before = cursor === undefined ? undefined : decodeCursor(cursor);
      const instance = await caller.tenant.getInstance(instanceId);
      if (!instance) throw new NotFoundError('Instance');
      const rows = await caller.tenant.listAudit({ target: `instance:${instance.id}`, before, limit: limit + 1 });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return { events: page.map(entryOf), nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null };
    },
  };
}
