// Lifecycle webhooks to the vendor (PLUGBOARD_LIFECYCLE_WEBHOOK_URL), so its CRM or billing can
// follow each customer's instances: deployed, activated, upgraded, paused, deleted; a connection
// connected, needing attention, recovered. Signed like the alerts (Standard Webhooks), read from
// the audit trail that every such change writes in its own transaction.
//   Reliable: the cursor moves past an event only once it is delivered (or has used up its
//   attempts), so a restart delivers again what was not; `webhook-id` is `evt_<audit id>`, the same
//   on every delivery, so the receiver drops a repeat. In order: one event at a time, in audit
//   order, by one process at a time (a lease in runtime_cursors), so an instance's events arrive as
//   they happened. An event carries ids, keys, names and states, never a secret or a config value.
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { AuditEntry } from 'plugboard/protocol';
import { entryOf } from '../audit-trail.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/types.js';
import { signAlert } from './alerts.js';
import { createRelayLoop } from './relay-loop.js';
import { runtimeDb } from './schema.js';

export const LIFECYCLE_EVENT_TYPES = [
  'instance.deployed',
  'instance.activated',
  'instance.upgraded',
  'instance.rolled_back',
  'instance.paused',
  'instance.deleted',
  'connection.connected',
  'connection.needs_attention',
  'connection.recovered',
] as const;
export type LifecycleEventType = (typeof LIFECYCLE_EVENT_TYPES)[number];

/** Audit action → event. `instance.upgraded` is audited by whatever upgrades an instance (integration versions). */
const EVENT_OF: Readonly<Record<string, LifecycleEventType>> = {
  'instance.created': 'instance.deployed',
  'instance.activated': 'instance.activated',
  'instance.upgraded': 'instance.upgraded',
  'instance.rolled_back': 'instance.rolled_back',
  'instance.paused': 'instance.paused',
  'instance.deleted': 'instance.deleted',
  'connection.connected': 'connection.connected',
  'connection.set': 'connection.connected',
  'connection.needs_attention': 'connection.needs_attention',
};
const CONNECTION_ACTIONS = ['connection.connected', 'connection.set', 'connection.needs_attention', 'connection.deleted'];

/** The body POSTed for one event (Standard Webhooks' `{ type, timestamp, data }`). */
export interface LifecycleEvent {
  type: LifecycleEventType;
  /** When the change happened (the audit line's time). */
  timestamp: string;
  data: {
    customer: { id: string; externalId: string | null };
    instance: { id: string; integrationKey: string | null };
    connection?: { name: string };
    actor: AuditEntry['actor'];
    /** Names, states and versions from the audit line (from, by, reason, version, kind…): never a value. */
    details: AuditEntry['details'];
  };
}

const CURSOR = 'lifecycle-webhooks';
const LEASE = 'lifecycle-webhooks-lease';

export interface LifecycleWebhooksOptions {
  store: Store;
  url: string;
  secret: string;
  logger?: Logger;
  /** Attempts per event before it is logged and passed (default 8: about four minutes of backoff). */
  maxAttempts?: number;
  baseDelayMs?: number;
  /** Per-request time limit (default 10 s). */
  timeoutMs?: number;
  /** How long one process holds the relay without renewing it (default 60 s). */
  leaseMs?: number;
}

export interface LifecycleWebhooks {
  /** Delivers what was audited since the last delivery; returns how many events were delivered. */
  relay(): Promise<number>;
  start(intervalMs?: number): void;
  stop(): Promise<void>;
}

export function createLifecycleWebhooks(options: LifecycleWebhooksOptions): LifecycleWebhooks {
  const { store, url, secret, logger } = options;
  new Webhook(secret); // a secret the library can't read fails at start
  const db = runtimeDb(store.db);
  const owner = randomUUID();
  const maxAttempts = options.maxAttempts ?? 8;
  const baseDelay = options.baseDelayMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const leaseMs = options.leaseMs ?? 60_000;
  let wake: (() => void) | undefined;

  /** Takes or renews the lease (`<owner> <until ms>`); false while another process holds it. */
  async function lease(): Promise<boolean> {
    await db
      .insertInto('runtime_cursors')
      .values({ name: LEASE, position: '' })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await db.selectFrom('runtime_cursors').select('position').where('name', '=', LEASE).executeTakeFirstOrThrow();
    const [holder, until] = row.position.split(' ');
    if (holder && holder !== owner && Number(until) > Date.now()) return false;
    const taken = await db
      .updateTable('runtime_cursors')
      .set({ position: `${owner} ${Date.now() + leaseMs}` })
      .where('name', '=', LEASE)
      .where('position', '=', row.position)
      .executeTakeFirst();
    return Number(taken.numUpdatedRows) === 1;
  }

  async function cursor(): Promise<string> {
    const row = await db.selectFrom('runtime_cursors').select('position').where('name', '=', CURSOR).executeTakeFirst();
    if (row) return row.position;
    // First start: events from now on, not the whole history.
    const last = await db.selectFrom('audit_events').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst();
    await db
      .insertInto('runtime_cursors')
      .values({ name: CURSOR, position: last?.id ?? '' })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    return (await db.selectFrom('runtime_cursors').select('position').where('name', '=', CURSOR).executeTakeFirstOrThrow()).position;
  }

  /** A connected connection whose last state before this was `needs_attention` has recovered. */
  async function recovered(customerId: string, target: string, connection: string, beforeId: string): Promise<boolean> {
    const earlier = await db
      .selectFrom('audit_events')
      .select(['action', 'details'])
      .where('customer_id', '=', customerId)
      .where('target', '=', target)
      .where('id', '<', beforeId)
      .where('action', 'in', CONNECTION_ACTIONS)
      .orderBy('id', 'desc')
      .limit(50)
      .execute();
    const last = earlier.find((e) => (JSON.parse(e.details) as { connection?: unknown }).connection === connection);
    return last?.action === 'connection.needs_attention';
  }

  async function integrationKeyOf(customerId: string, target: string, instanceId: string, details: Record<string, unknown>): Promise<string | null> {
    if (typeof details.integrationKey === 'string') return details.integrationKey;
    const instance = await db.selectFrom('instances').select('integration_key').where('id', '=', instanceId).executeTakeFirst();
    if (instance) return instance.integration_key;
    // Deleted since: its deployment's audit line named it.
    const created = await db
      .selectFrom('audit_events')
      .select('details')
      .where('customer_id', '=', customerId)
      .where('target', '=', target)
      .where('action', '=', 'instance.created')
      .executeTakeFirst();
    const key = created ? (JSON.parse(created.details) as { integrationKey?: unknown }).integrationKey : undefined;
    return typeof key === 'string' ? key : null;
  }

  async function deliver(id: string, event: LifecycleEvent): Promise<boolean> {
    const body = JSON.stringify(event);
    for (let attempt = 1; attempt <= maxAttempts && !loop.stopped; attempt++) {
      // Renewed before each attempt: a long backoff must not hand the relay to another process mid-event.
      if (!(await lease())) return false;
      try {
        const headers = { 'content-type': 'application/json', 'user-agent': 'plugboard-lifecycle', ...signAlert(secret, id, body) };
        const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
        await response.body?.cancel();
        if (response.ok) return true;
        if (response.status < 500 && response.status !== 408 && response.status !== 429) {
          logger?.warn({ event: event.type, webhookId: id, status: response.status }, 'lifecycle webhook refused by the receiver; not retried');
          return true;
        }
      } catch {
        // network error or timeout: retried below
      }
      if (attempt < maxAttempts) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, baseDelay * 2 ** (attempt - 1));
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wake = undefined;
      }
    }
    if (loop.stopped) return false;
    logger?.error({ event: event.type, webhookId: id }, 'lifecycle webhook could not be delivered; passed');
    return true;
  }

  async function relay(): Promise<number> {
    if (!(await lease())) return 0;
    const from = await cursor();
    const rows = await db.selectFrom('audit_events').selectAll().where('id', '>', from).orderBy('id').limit(100).execute();
    const customers = new Map<string, string | null>();
    let delivered = 0;
    for (const row of rows) {
      if (loop.stopped) break;
      const type = EVENT_OF[row.action];
      if (type && row.customer_id && row.target.startsWith('instance:')) {
        const details = JSON.parse(row.details) as Record<string, unknown>;
        const entry = entryOf({ ...row, customerId: row.customer_id, actorName: row.actor_name, details });
        const connection = typeof details.connection === 'string' ? details.connection : undefined;
        const instanceId = row.target.slice('instance:'.length);
        if (!customers.has(row.customer_id)) {
          const customer = await db.selectFrom('customers').select('external_id').where('id', '=', row.customer_id).executeTakeFirst();
          customers.set(row.customer_id, customer?.external_id ?? null);
        }
        const event: LifecycleEvent = {
          type:
            type === 'connection.connected' && connection && (await recovered(row.customer_id, row.target, connection, row.id)) ? 'connection.recovered' : type,
          timestamp: row.at,
          data: {
            customer: { id: row.customer_id, externalId: customers.get(row.customer_id) ?? null },
            instance: { id: instanceId, integrationKey: await integrationKeyOf(row.customer_id, row.target, instanceId, details) },
            ...(connection ? { connection: { name: connection } } : {}),
            actor: entry.actor,
            details: entry.details,
          },
        };
        if (!(await deliver(`evt_${row.id}`, event))) break; // stopping, or another process took over: it starts here
        delivered++;
      }
      await db.updateTable('runtime_cursors').set({ position: row.id }).where('name', '=', CURSOR).where('position', '<', row.id).execute();
    }
    return delivered;
  }

  const loop = createRelayLoop(relay, (error) => logger?.warn({ err: error }, 'lifecycle webhook relay failed'));

  return {
    relay,
    start: (intervalMs) => loop.start(intervalMs),
    async stop() {
      await loop.stop(() => wake?.());
      // Hand the relay on at once rather than after the lease runs out.
      await db
        .updateTable('runtime_cursors')
        .set({ position: '' })
        .where('name', '=', LEASE)
        .where('position', 'like', `${owner} %`)
        .execute()
        .catch(() => {});
    },
  };
}
