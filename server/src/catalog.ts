// The marketplace catalog and integration details as they go on the wire. What depends only on the
// integration set (every summary's and detail's JSON) is serialized once, when the routes are built;
// a request only merges the customer's instances (and the accounts they are connected as) into it.
// Each answer has a weak ETag from the integration set's version and those instances'
// id/status/updatedAt/accounts, so a client that has it gets
// a 304, and its compressed bodies are made once per ETag (kept in a bounded cache), not per request.
// Entitlements decide which integrations an answer holds, so they are part of the ETag's state: two
// customers with different plans never share a representation.
import { hash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip } from 'node:zlib';
import type { IntegrationDetail, IntegrationSummary } from 'plugboard/protocol';
import { isEntitled, type Grants } from './entitlements.js';
import type { IntegrationIndex } from './integrations.js';
import type { Integration } from './sdk/index.js';
import type { ConnectionRecord, InstanceRecord } from './store/types.js';

export type ContentEncoding = 'gzip' | 'br';

/** One answer: its JSON, its ETag, and its compressed bodies once asked for. */
export interface CatalogRepresentation {
  readonly etag: string;
  readonly json: string;
  /** The JSON compressed with `encoding`, made on the first call and kept with the representation. */
  encoded(encoding: ContentEncoding): Promise<Uint8Array<ArrayBuffer>>;
  /** The same once made (undefined before): a repeat answer needs no promise. */
  encodedNow(encoding: ContentEncoding): Uint8Array<ArrayBuffer> | undefined;
}

/** What a customer may see: its grants (undefined: everything), and whether the others are listed too, flagged `entitled: false`. */
export interface CatalogAccess {
  grants: Grants;
  includeUnentitled: boolean;
}

const EVERYTHING: CatalogAccess = { grants: undefined, includeUnentitled: false };

export interface CatalogAnswers {
  /** GET /integrations for a customer with these instances. */
  list(instances: readonly InstanceRecord[], access?: CatalogAccess, accounts?: AccountNames): CatalogRepresentation;
  /**
   * GET /integrations/:key; undefined for an unknown key, or one hidden from this customer. With an
   * instance on an older version, that version's detail: the dialog edits the config its version validates.
   */
  detail(key: string, instances: readonly InstanceRecord[], access?: CatalogAccess, accounts?: AccountNames): CatalogRepresentation | undefined;
}

/** The accounts each instance's connected connections are connected as, by instance id. */
export type AccountNames = ReadonlyMap<string, readonly string[]>;

/** The named accounts of connected connections, per instance, in connection-name order. */
export function accountNamesOf(connections: readonly ConnectionRecord[]): AccountNames {
  const names = new Map<string, string[]>();
  for (const c of [...connections].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (c.status !== 'connected' || !c.accountName) continue;
    const list = names.get(c.instanceId);
    if (list) list.push(c.accountName);
    else names.set(c.instanceId, [c.accountName]);
  }
  return names;
}

/** Distinct representations kept (each customer's instance states make one; most share the empty one). */
const CACHED_REPRESENTATIONS = 2_000;

const compressors: Record<ContentEncoding, (json: string) => Promise<Buffer>> = {
  gzip: promisify((json: string, done: (error: Error | null, result: Buffer) => void) => gzip(json, done)),
  // Quality 5: about gzip's speed with a smaller body; the result is cached, so this runs once per ETag.
  br: promisify((json: string, done: (error: Error | null, result: Buffer) => void) =>
    brotliCompress(json, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 5, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: json.length } }, done),
  ),
};

function summaryWithoutInstance(integration: Integration): Omit<IntegrationSummary, 'instance'> {
  return {
    key: integration.key,
    name: integration.name,
    description: integration.description,
    category: integration.category,
    ...(integration.icon !== undefined ? { icon: integration.icon } : {}),
    version: integration.version,
    ...(integration.labels.length ? { labels: [...integration.labels] } : {}),
  };
}

/** `{…,"instance":` — the JSON of `fields` with `instance` last, open for the instance's JSON and `}`. */
function openBeforeInstance(fields: object): string {
  const closed = JSON.stringify({ ...fields, instance: null });
  return closed.slice(0, -'null}'.length);
}

function instanceJson(instance: InstanceRecord | undefined, accounts: AccountNames | undefined): string {
  if (!instance) return 'null';
  const accountNames = accounts?.get(instance.id);
  const wire: NonNullable<IntegrationSummary['instance']> = {
    id: instance.id,
    status: instance.status,
    updatedAt: instance.updatedAt,
    ...(accountNames?.length ? { accountNames: [...accountNames] } : {}),
  };
  return JSON.stringify(wire);
}

/** What in an instance shows in the catalog: what the ETag is made from. */
function instanceState(instance: InstanceRecord, accounts: AccountNames | undefined): string {
  const names = accounts?.get(instance.id)?.join('\u0002') ?? '';
  return `${instance.integrationKey}\u0000${instance.id}\u0000${instance.status}\u0000${instance.updatedAt}\u0000${names}`;
}

/**
 * The catalog's answers for the integrations loaded now: built again when a reload (the vendor's,
 * or `plugboard dev`'s) adds a generation, so names, config pages and versions follow the new code.
 */
export function createCatalogAnswers(integrations: IntegrationIndex): CatalogAnswers {
  let generation = integrations.generation;
  let answers = answersFor(integrations);
  const current = (): CatalogAnswers => {
    if (generation !== integrations.generation) {
      generation = integrations.generation;
      answers = answersFor(integrations);
    }
    return answers;
  };
  return {
    list: (instances, access, accounts) => current().list(instances, access, accounts),
    detail: (key, instances, access, accounts) => current().detail(key, instances, access, accounts),
  };
}

function answersFor(integrations: IntegrationIndex): CatalogAnswers {
  const all = [...integrations.values()];
  const summaries = new Map(all.map((i) => [i.key, openBeforeInstance(summaryWithoutInstance(i))]));
  const lockedSummaries = new Map(all.map((i) => [i.key, openBeforeInstance({ ...summaryWithoutInstance(i), entitled: false })]));
  const detailOf = (i: Integration): Omit<IntegrationDetail, 'instance'> => ({ ...i.describe(), ...summaryWithoutInstance(i) });
  const details = new Map(all.map((i) => [i.key, openBeforeInstance(detailOf(i))]));
  const lockedDetails = new Map(all.map((i) => [i.key, openBeforeInstance({ ...detailOf(i), entitled: false })]));

  /**
   * Per integration: shown entitled, shown locked, or hidden. An instance the customer already has
   * stays listed (locked) so it can still be paused or deleted after the plan changed.
   */
  type Visibility = 'entitled' | 'locked' | 'hidden';
  const visibility = (i: Integration, access: CatalogAccess, hasInstance = false): Visibility =>
    isEntitled(i, access.grants) ? 'entitled' : access.includeUnentitled || hasInstance ? 'locked' : 'hidden';

  // A plan's grants are the same array while the customer row (or the verified token) is cached: its state is worked out once.
  const accessStates = [new WeakMap<readonly string[], string>(), new WeakMap<readonly string[], string>()];
  /** The ETag state of an access: '' when everything is entitled (the same answer as without entitlements). */
  function accessState(access: CatalogAccess): string {
    if (access.grants === undefined) return '';
    const memo = accessStates[access.includeUnentitled ? 1 : 0]!;
    let state = memo.get(access.grants);
    if (state === undefined) {
      const marks = all.map((i) => visibility(i, access)[0]).join('');
      state = /[lh]/.test(marks) ? `${marks}\u0002` : '';
      memo.set(access.grants, state);
    }
    return state;
  }
  // The integration set's version: changes when any integration's wire form does (a new deploy).
  const setVersion = hash('sha1', JSON.stringify([...summaries, ...details]), 'base64url').slice(0, 12);
  const cache = new Map<string, CatalogRepresentation>();

  function representation(etag: string, build: () => string): CatalogRepresentation {
    const hit = cache.get(etag);
    if (hit) {
      // Least recently used goes first: a hit moves to the end.
      cache.delete(etag);
      cache.set(etag, hit);
      return hit;
    }
    const json = build();
    const bodies = new Map<ContentEncoding, Promise<Uint8Array<ArrayBuffer>>>();
    const done = new Map<ContentEncoding, Uint8Array<ArrayBuffer>>();
    const made: CatalogRepresentation = {
      etag,
      json,
      encoded(encoding) {
        let body = bodies.get(encoding);
        if (!body) {
          body = compressors[encoding](json).then((compressed) => {
            const bytes = new Uint8Array(compressed); // an ArrayBuffer of its own
            done.set(encoding, bytes);
            return bytes;
          });
          bodies.set(encoding, body);
          body.catch(() => bodies.delete(encoding)); // a failure is not kept
        }
        return body;
      },
      encodedNow: (encoding) => done.get(encoding),
    };
    if (cache.size >= CACHED_REPRESENTATIONS) cache.delete(cache.keys().next().value!);
    cache.set(etag, made);
    return made;
  }

  const etagOf = (kind: string, state: string) => `W/"${setVersion}-${kind}-${hash('sha1', state, 'base64url').slice(0, 22)}"`;

  function listFor(instances: readonly InstanceRecord[], access: CatalogAccess, planState: string, accounts: AccountNames | undefined): CatalogRepresentation {
    const byKey = new Map<string, InstanceRecord>();
    for (const instance of instances) if (summaries.has(instance.integrationKey)) byKey.set(instance.integrationKey, instance);
    let state = planState;
    for (const i of all) {
      const instance = byKey.get(i.key);
      if (instance) state += `${instanceState(instance, accounts)}\u0001`;
    }
    return representation(etagOf('list', state), () => {
      const items: string[] = [];
      for (const i of all) {
        const shown = planState === '' ? 'entitled' : visibility(i, access, byKey.has(i.key));
        if (shown === 'hidden') continue;
        items.push((shown === 'locked' ? lockedSummaries : summaries).get(i.key)! + instanceJson(byKey.get(i.key), accounts) + '}');
      }
      return `{"integrations":[${items.join(',')}]}`;
    });
  }

  // An instance on an older version reads that version's detail (its config pages, connections,
  // flows): made on its first ask and kept for this load, like the current versions' are.
  const olderDetails = new Map<Integration, { open: string; locked: string; tag: string }>();
  function olderDetail(own: Integration) {
    let made = olderDetails.get(own);
    if (!made) {
      const open = openBeforeInstance(detailOf(own));
      made = { open, locked: openBeforeInstance({ ...detailOf(own), entitled: false }), tag: hash('sha1', open, 'base64url').slice(0, 12) };
      olderDetails.set(own, made);
    }
    return made;
  }

  // The store hands out the same array until the customer's instances change: its answer is kept
  // with it (per plan), so a repeated read neither walks the instances nor hashes their state again.
  const listed = new WeakMap<readonly InstanceRecord[], Map<string, CatalogRepresentation>>();

  return {
    list(instances, access = EVERYTHING, accounts) {
      const planState = accessState(access);
      // Named accounts change without the instance list changing: those answers are looked up by ETag instead.
      if (accounts?.size) return listFor(instances, access, planState, accounts);
      let byPlan = listed.get(instances);
      if (!byPlan) listed.set(instances, (byPlan = new Map<string, CatalogRepresentation>()));
      let made = byPlan.get(planState);
      if (!made) byPlan.set(planState, (made = listFor(instances, access, planState, undefined)));
      return made;
    },
    detail(key, instances, access = EVERYTHING, accounts) {
      const integration = integrations.get(key);
      if (!integration || !details.has(key)) return undefined;
      const instance = instances.find((i) => i.integrationKey === key);
      const shown = visibility(integration, access, instance !== undefined);
      if (shown === 'hidden') return undefined;
      // A version loaded nowhere any more reads the current one's (its config stays readable).
      const own = instance && integrations.of(instance);
      const older = own && own !== integration ? olderDetail(own) : undefined;
      const open = older ? (shown === 'locked' ? older.locked : older.open) : (shown === 'locked' ? lockedDetails : details).get(key)!;
      const state = `${key}\u0001${older ? `${older.tag}\u0001` : ''}${shown === 'locked' ? 'locked\u0001' : ''}${instance ? instanceState(instance, accounts) : ''}`;
      return representation(etagOf('detail', state), () => open + instanceJson(instance, accounts) + '}');
    },
  };
}
