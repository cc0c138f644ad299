// ctx.state's rows: read when a flow first touches its state (never otherwise, so an execution that
// does not use it costs no statement), written with a successful execution's finish in one
// transaction, listed by the vendor API, deleted with the instance (foreign key) and by erasure.
import type { Kysely } from 'kysely';
import type { StateChanges } from './executor/index.js';
import type { RuntimeDatabase, RuntimeDb } from './schema.js';

export interface FlowStateEntry {
  key: string;
  /** JSON text. */
  value: string;
  updatedAt: string;
}

export class FlowStateStore {
  constructor(private readonly db: RuntimeDb) {}

  /** The instance's state, JSON text per key. */
  async read(instanceId: string): Promise<Record<string, string>> {
    const rows = await this.db.selectFrom('flow_state').select(['key', 'value']).where('instance_id', '=', instanceId).execute();
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  async list(instanceId: string): Promise<FlowStateEntry[]> {
    const rows = await this.db.selectFrom('flow_state').select(['key', 'value', 'updated_at']).where('instance_id', '=', instanceId).orderBy('key').execute();
    return rows.map((r) => ({ key: r.key, value: r.value, updatedAt: r.updated_at }));
  }
}

/** Applies an execution's changes inside the caller's transaction (the one that stores its finish). */
export async function writeFlowState(db: Kysely<RuntimeDatabase>, instanceId: string, changes: StateChanges, at: string): Promise<void> {
  const set = Object.entries(changes.set);
  if (set.length > 0) {
    await db
      .insertInto('flow_state')
      .values(set.map(([key, value]) => ({ instance_id: instanceId, key, value, updated_at: at })))
      .onConflict((oc) =>
        oc.columns(['instance_id', 'key']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value'), updated_at: eb.ref('excluded.updated_at') })),
      )
      .execute();
  }
  if (changes.deleted.length > 0) {
    await db.deleteFrom('flow_state').where('instance_id', '=', instanceId).where('key', 'in', changes.deleted).execute();
  }
}

/** Bytes of an instance's state as the limits count them (keys and JSON text, UTF-8). */
export function stateBytes(entries: Iterable<[string, string]>): number {
  let bytes = 0;
  for (const [k, v] of entries) bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  return bytes;
}
