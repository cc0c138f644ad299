// Alerts across customers, from what the alerts are sent from: executions that failed for good
// (`execution.failed`) and the audit lines the lifecycle relay turns into instance alerts. Nothing
// is stored twice, so the list is the same whether or not an alert webhook is configured.
// Newest first, paged by a cursor on (time, id); each alert with its instance's status now.
import { Hono } from 'hono';
import { sql } from 'kysely';
import { AlertType, VendorAlertListQuery, type InstanceStatus, type VendorAlert, type VendorAlertList } from 'plugboard/protocol';
import { entryOf } from '../audit-trail.js';
import type { Services, VendorEnv } from '../env.js';
import type { ExecutionStatus } from 'plugboard/protocol';
import { runtimeDb } from '../runtime/schema.js';
import { decodePageCursor, encodePageCursor } from '../page-cursor.js';
import { parseWith } from '../validation.js';

const INSTANCE_ALERTS = AlertType.options.filter((t) => t !== 'execution.failed');
const INSTANCE_PREFIX = 'instance:';

export function vendorAlertRoutes({ store }: Pick<Services, 'store'>): Hono<VendorEnv> {
  const app = new Hono<VendorEnv>();
  const db = runtimeDb(store.db);

  app.get('/alerts', async (c) => {
    const query = parseWith(VendorAlertListQuery, c.req.query(), 'query');
    const limit = query.limit ?? 50;
    // Stored times are ISO-8601 UTC text: a bound compares as text once it is written the same way.
    const since = query.since === undefined ? undefined : new Date(query.since).toISOString();
    const until = query.until === undefined ? undefined : new Date(query.until).toISOString();

    let failed = db
      .selectFrom('executions as e')
      .select([
        'e.id as id',
        sql<string>`'execution.failed'`.as('type'),
        sql<string>`e.ended_at`.as('at'),
        'e.customer_id as customer_id',
        'e.instance_id as instance_id',
        sql<string | null>`e.flow`.as('flow'),
        sql<string | null>`e.status`.as('execution_status'),
        'e.error as error',
        sql<string | null>`null`.as('actor'),
        sql<string | null>`null`.as('actor_name'),
        sql<string | null>`null`.as('details'),
      ])
      .where('e.status', 'in', ['failed', 'timed_out'])
      .where('e.ended_at', 'is not', null);
    let changes = db
      .selectFrom('audit_events as a')
      .select([
        'a.id as id',
        'a.action as type',
        'a.at as at',
        sql<string>`a.customer_id`.as('customer_id'),
        sql<string>`substr(a.target, ${sql.lit(INSTANCE_PREFIX.length + 1)})`.as('instance_id'),
        sql<string | null>`null`.as('flow'),
        sql<string | null>`null`.as('execution_status'),
        sql<string | null>`null`.as('error'),
        sql<string | null>`a.actor`.as('actor'),
        'a.actor_name as actor_name',
        sql<string | null>`a.details`.as('details'),
      ])
      .where('a.action', 'in', query.type && query.type !== 'execution.failed' ? [query.type] : INSTANCE_ALERTS)
      .where('a.customer_id', 'is not', null)
      .where('a.target', 'like', `${INSTANCE_PREFIX}%`);
    if (since !== undefined) {
      failed = failed.where('e.ended_at', '>=', since);
      changes = changes.where('a.at', '>=', since);
    }
    if (until !== undefined) {
      failed = failed.where('e.ended_at', '<=', until);
      changes = changes.where('a.at', '<=', until);
    }
    const source = query.type === undefined ? failed.unionAll(changes) : query.type === 'execution.failed' ? failed : changes;

    let rows = db
      .selectFrom(source.as('x'))
      .leftJoin('instances as i', 'i.id', 'x.instance_id')
      .leftJoin('customers as cu', 'cu.id', 'x.customer_id')
      .selectAll('x')
      .select(['i.integration_key as integration_key', 'i.status as instance_status', 'cu.external_id as external_id', 'cu.name as customer_name']);
    if (query.integration !== undefined) rows = rows.where('i.integration_key', '=', query.integration);
    if (query.status !== undefined) rows = rows.where('i.status', '=', query.status);
    if (query.cursor !== undefined) {
      const after = decodePageCursor(query.cursor);
      rows = rows.where((eb) => eb.or([eb('x.at', '<', after.at), eb.and([eb('x.at', '=', after.at), eb('x.id', '<', after.id)])]));
    }
    const found = await rows
      .orderBy('x.at', 'desc')
      .orderBy('x.id', 'desc')
      .limit(limit + 1)
      .execute();

    const page = found.slice(0, limit);
    const alerts = page.map((r): VendorAlert => {
      const change =
        r.actor === null
          ? undefined
          : entryOf({
              id: r.id,
              at: r.at,
              customerId: r.customer_id,
              actor: r.actor,
              actorName: r.actor_name,
              action: r.type,
              target: `${INSTANCE_PREFIX}${r.instance_id}`,
              details: JSON.parse(r.details ?? '{}') as Record<string, unknown>,
            });
      return {
        id: r.id,
        type: r.type as AlertType,
        at: r.at,
        customer: { id: r.customer_id, externalId: r.external_id, name: r.customer_name },
        instance: {
          id: r.instance_id,
          integrationKey: r.integration_key ?? (typeof change?.details.integrationKey === 'string' ? change.details.integrationKey : null),
          status: (r.instance_status as InstanceStatus | null) ?? null,
        },
        execution: r.flow === null ? null : { id: r.id, flow: r.flow, status: r.execution_status as ExecutionStatus, error: r.error },
        actor: change?.actor ?? null,
        details: change?.details ?? {},
      };
    });
    const last = page.at(-1);
    const body: VendorAlertList = { alerts, nextCursor: found.length > limit && last ? encodePageCursor(last.at, last.id) : null };
    return c.json(body);
  });

  return app;
}
