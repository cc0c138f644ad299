// `sync()`: a scheduled flow that lists a provider's records page by page, remembers in ctx.state
// what it saw (each record's key and version), and hands the vendor's code only what changed since
// the last successful run. The memory is written with the run's success, so a failed `handle` sees
// the same changes again next time (at least once, never lost).
import { createHash } from 'node:crypto';
import { schedule as scheduleTrigger, type FlowContext, type FlowDefinition, type FlowFetch, type ScheduleTrigger } from './flows.js';

/** What changed since the last successful run. `deleted` holds keys (only known after a full listing). */
export interface SyncChanges<R> {
  created: R[];
  updated: R[];
  deleted: string[];
}

/** One page of the provider's listing. */
export interface SyncPage<R> {
  records: R[];
  /** The cursor of the next page of this listing; absent or null: the listing is complete. */
  next?: string | null;
  /**
   * Where the next run starts instead of the beginning (e.g. "updated since" the newest record seen):
   * for providers that list changes. The last one returned is kept. Without it every run lists
   * everything, and records no longer listed are reported deleted.
   */
  checkpoint?: string | null;
}

export interface SyncListInput<Config> {
  /** Undefined on the first page of a full listing; else the previous page's `next` or the stored checkpoint. */
  cursor: string | undefined;
  /** ctx.fetch, through `connection` when the sync names one (its rate limit applies). */
  fetch: FlowFetch;
  ctx: FlowContext<Config>;
}

export interface SyncOptions<R, Config> {
  label?: string;
  description?: string;
  /** A cron expression, or a `schedule(...)` trigger. */
  schedule: string | ScheduleTrigger;
  /** The connection every call of `list` goes through (its rate limit and 429 pauses apply). */
  connection?: string;
  list(input: SyncListInput<Config>): Promise<SyncPage<R>>;
  /** A record's stable id at the provider. */
  key(record: R): string;
  /** Changes when the record changes (e.g. its `updatedAt`); default: a hash of the whole record. */
  version?(record: R): string | number;
  /** Called once per run with what changed (not called when nothing did). Its return value is the run's result. */
  handle(changes: SyncChanges<R>, ctx: FlowContext<Config>): unknown;
  /** Records remembered at most (their keys and versions live in the instance's state); default 20 000. */
  maxRecords?: number;
  /** Pages listed in one run at most, against a provider that never ends a listing; default 1 000. */
  maxPages?: number;
}

/** What a sync keeps in ctx.state, under `sync:<flow>`. */
interface SyncMemory {
  checkpoint?: string;
  /** key → version (hashed when long, to keep the state small). */
  seen: Record<string, string>;
}

function versionOf(text: string): string {
  return text.length <= 32 ? text : createHash('sha256').update(text).digest('base64url').slice(0, 16);
}

/** A schedule flow that hands `handle` only the records created, updated (and deleted) since its last successful run. */
export function sync<R, Config = Record<string, unknown>>(o: SyncOptions<R, Config>): FlowDefinition<Config> {
  const trigger = typeof o.schedule === 'string' ? scheduleTrigger(o.schedule) : o.schedule;
  const maxRecords = o.maxRecords ?? 20_000;
  const maxPages = o.maxPages ?? 1000;
  const version = (r: R) => versionOf(o.version ? String(o.version(r)) : JSON.stringify(r));
  return {
    label: o.label,
    description: o.description,
    trigger,
    async run(ctx) {
      const stateKey = `sync:${ctx.flow}`;
      const memory = (await ctx.state.get<SyncMemory>(stateKey)) ?? { seen: {} };
      const seen = new Map(Object.entries(memory.seen));
      const fetch: FlowFetch = o.connection ? (input, init) => ctx.fetch(input, { connection: o.connection, ...init }) : ctx.fetch;
      // From the checkpoint, the listing holds only changes: what it does not list was not deleted.
      const full = memory.checkpoint === undefined;
      let cursor = memory.checkpoint;
      let checkpoint = memory.checkpoint;
      const listed = new Set<string>();
      const changes: SyncChanges<R> = { created: [], updated: [], deleted: [] };
      for (let page = 1; ; page++) {
        if (page > maxPages) throw new Error(`sync "${ctx.flow}": the listing did not end within ${maxPages} pages (maxPages)`);
        const result = await o.list({ cursor, fetch, ctx });
        for (const record of result.records) {
          const key = String(o.key(record));
          if (listed.has(key)) continue; // a record that moved between pages while we listed
          listed.add(key);
          const now = version(record);
          const before = seen.get(key);
          if (before === undefined) changes.created.push(record);
          else if (before !== now) changes.updated.push(record);
          seen.set(key, now);
        }
        if (result.checkpoint) checkpoint = result.checkpoint;
        if (!result.next) break;
        cursor = result.next;
      }
      if (full) {
        for (const key of seen.keys()) {
          if (!listed.has(key)) {
            changes.deleted.push(key);
            seen.delete(key);
          }
        }
      }
      if (seen.size > maxRecords) {
        throw new Error(`sync "${ctx.flow}": the provider lists ${seen.size} records, more than maxRecords (${maxRecords}) can remember`);
      }
      const counts = `${changes.created.length} created, ${changes.updated.length} updated, ${changes.deleted.length} deleted`;
      const changed = changes.created.length + changes.updated.length + changes.deleted.length > 0;
      ctx.log.info(`sync: ${listed.size} records listed${full ? '' : ' since the last checkpoint'}; ${counts}`);
      const result = changed ? await o.handle(changes, ctx) : undefined;
      await ctx.state.set(stateKey, { ...(checkpoint ? { checkpoint } : {}), seen: Object.fromEntries(seen) } satisfies SyncMemory);
      return result ?? { summary: changed ? counts : `No changes (${listed.size} records listed)` };
    },
  };
}
