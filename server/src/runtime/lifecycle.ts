// Lifecycle alerts (instance.activated, .paused, .deleted, .error, .recovered) come from the audit
// trail, which every such change writes in its own transaction: so no route has to remember to send
// them, and a crash between the change and the alert loses nothing. Several runners tail it; a
// compare-and-set on a shared cursor makes exactly one of them send each batch.
import type { Store } from '../store/types.js';
import type { AlertSender, AlertType } from './alerts.js';
import { createRelayLoop } from './relay-loop.js';
import { runtimeDb } from './schema.js';

const LIFECYCLE: AlertType[] = ['instance.activated', 'instance.paused', 'instance.deleted', 'instance.error', 'instance.recovered'];
const CURSOR = 'lifecycle-alerts';

export interface LifecycleRelay {
  /** Sends what was audited since the last relay; returns how many alerts. */
  relay(): Promise<number>;
  start(intervalMs?: number): void;
  stop(): Promise<void>;
}

export function createLifecycleRelay(options: { store: Store; alerts: AlertSender; onError?: (error: unknown) => void }): LifecycleRelay {
  const db = runtimeDb(options.store.db);

  async function relay(): Promise<number> {
    let cursor = await db.selectFrom('runtime_cursors').select('position').where('name', '=', CURSOR).executeTakeFirst();
    if (!cursor) {
      // First start: alert from now on, not the whole history.
      const last = await db.selectFrom('audit_events').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst();
      await db
        .insertInto('runtime_cursors')
        .values({ name: CURSOR, position: last?.id ?? '' })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
      cursor = await db.selectFrom('runtime_cursors').select('position').where('name', '=', CURSOR).executeTakeFirstOrThrow();
    }
    const events = await db.selectFrom('audit_events').selectAll().where('id', '>', cursor.position).orderBy('id').limit(200).execute();
    if (events.length === 0) return 0;
    const claimed = await db
      .updateTable('runtime_cursors')
      .set({ position: events.at(-1)!.id })
      .where('name', '=', CURSOR)
      .where('position', '=', cursor.position)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return 0; // another runner took this batch
    let sent = 0;
    for (const event of events) {
      if (!LIFECYCLE.includes(event.action as AlertType)) continue;
      const details = JSON.parse(event.details) as Record<string, unknown>;
      options.alerts.send(event.action as AlertType, {
        customer: { id: event.customer_id },
        instance: { id: event.target.replace(/^instance:/, '') },
        actor: event.actor,
        at: event.at,
        details,
      });
      sent++;
    }
    return sent;
  }

  const loop = createRelayLoop(relay, (error) => options.onError?.(error));
  return { relay, start: (intervalMs) => loop.start(intervalMs), stop: () => loop.stop() };
}
