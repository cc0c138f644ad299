// What rarely changes (customers, instances, webhook endpoints, an instance's connections) is kept
// in memory, so the hot paths (every authenticated request, every webhook, every execution) do not
// read it again. Entries carry tags (`customer:<id>`, `instance:<id>`); a write drops every entry
// with one of its tags.
//
// Across processes: on PostgreSQL every write sends NOTIFY on a channel named after the schema, in
// the write's own transaction (delivered on commit), and every process LISTENs on its own
// connection (skipping its own notifications: it dropped those entries when the write ended). While that connection is down nothing is served from memory; when it comes back
// everything is dropped, since notifications sent meanwhile were missed. On SQLite one process owns
// the file, so dropping entries in-process is enough. Either way an entry is read again after a
// minute at the latest (a safety net for a write made outside the store). Within one process,
// `plugboard serve`'s runner thread has a store of its own: on SQLite their caches tell each other
// through a BroadcastChannel (`threads`); on PostgreSQL NOTIFY already reaches it.
//
// Races: a read that started before a write committed may return the old row after the write's
// invalidation ran. Each invalidation bumps a generation; a read stores its result only if no
// invalidation happened while it ran. A write (`write`) may keep the row it wrote, and entries it
// did not change, on the same condition: no invalidation but its own while it ran.
import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import { sql, type QueryExecutorProvider } from 'kysely';
import pg from 'pg';

/** Cache tags: what a write to an instance (its row, connections, webhook endpoints) or to a customer drops. */
export const instanceTag = (id: string) => `instance:${id}`;
export const customerTag = (id: string) => `customer:${id}`;
/** A customer's set of instances: dropped when one is created (writes to an existing one drop it through its instance tag). */
export const instancesOfTag = (customerId: string) => `instances-of:${customerId}`;

export interface StoreCacheOptions {
  /** Most entries kept (least recently used go first). Default 10,000. */
  maxEntries?: number;
  /** An entry older than this is read again (a safety net; writes drop entries at once). Default 60 s. */
  ttlMs?: number;
  /**
   * SQLite: the BroadcastChannel name the caches of this process's threads (serve's HTTP side and its
   * runner thread, each with its own connection) share, so a write on one drops the other's entries.
   */
  threads?: string;
}

/** What a write keeps in memory once committed (StoreCache.write). */
export interface WriteOptions<T> {
  /** Where to store the write's result (a row as a read would load it), and its tags. */
  keep?: (result: T) => { key: string; tags: readonly string[] } | undefined;
  /** Keys of entries the write does not change. */
  spare?: readonly string[];
}

interface Entry {
  value: unknown;
  tags: readonly string[];
  storedAt: number;
  /** `uses` when it was stored or last moved to the end. */
  movedAt: number;
}

/** LISTEN reconnect delays: a lost connection is retried quickly, then every few seconds. */
const RECONNECT_MS = [100, 500, 1000, 2000, 5000];

export class StoreCache {
  private readonly entries = new Map<string, Entry>();
  private readonly byTag = new Map<string, Set<string>>();
  private generation = 0;
  /** Counts entries stored or moved to the end of `entries` (least recently used first). */
  private uses = 0;
  /** When each tag was last dropped (a generation), for writes that keep rows (write). */
  private readonly lastDropped = new Map<string, number>();
  private forgottenAt = 0;
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  /** False while invalidations from other processes may be missed (PostgreSQL, LISTEN not connected). */
  private trusted: boolean;
  private listener: pg.Client | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly channel: string | undefined;
  private readonly threads: BroadcastChannel | undefined;
  /** Tags dropped here that the other threads have not been sent yet (sendToThreads). */
  private threadTags: string[] = [];
  /** Leads this cache's NOTIFY payloads, so it skips its own (tags never start with `@`). */
  private readonly origin = `@${randomUUID()}`;

  private constructor(
    options: StoreCacheOptions & { ttlMs: number },
    private readonly postgres?: { url: string; channel: string; onError?: (error: unknown) => void },
  ) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.ttlMs = options.ttlMs;
    this.trusted = postgres === undefined;
    this.channel = postgres?.channel;
    if (options.threads !== undefined && postgres === undefined) {
      this.threads = new BroadcastChannel(options.threads);
      this.threads.unref();
      // What another thread wrote: dropped here, and not sent on again.
      this.threads.onmessage = (event) => this.drop((event as { data: string[] }).data);
    }
  }

  /** SQLite: one process owns the file, invalidations stay in-process. */
  static local(options: StoreCacheOptions = {}): StoreCache {
    return new StoreCache({ ttlMs: 60_000, ...options });
  }

  /** PostgreSQL: invalidations travel through NOTIFY on a channel named after the schema; serves from memory once LISTEN is up. */
  static shared(url: string, schema: string, options: StoreCacheOptions & { onError?: (error: unknown) => void } = {}): StoreCache {
    // Channel names are identifiers (at most 63 bytes): a truncated name shared by two schemas only costs extra invalidations.
    const cache = new StoreCache({ ttlMs: 60_000, ...options }, { url, channel: `plugboard_cache_${schema}`.slice(0, 63), onError: options.onError });
    cache.connect(0);
    return cache;
  }

  /** The cached value of `key`, or `load()`'s, kept under `tags` unless a write happened meanwhile. Undefined results are not kept. */
  async read<T>(key: string, tags: (value: T) => readonly string[], load: () => Promise<T | undefined>): Promise<T | undefined> {
    const kept = this.peek<T>(key);
    if (kept !== undefined) return kept;
    const generation = this.generation;
    const value = await load();
    if (value !== undefined && this.trusted && generation === this.generation) this.store(key, value, tags(value));
    return value;
  }

  /**
   * What `read` would answer from memory, without a promise (undefined when it would load): for the
   * reads every request makes, where an await of a value already here costs microtask turns.
   */
  peek<T>(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined || !this.trusted || Date.now() - entry.storedAt >= this.ttlMs) return undefined;
    // Most recently used goes last: Map keeps insertion order, the first key is the LRU victim. One
    // moved there less than half the cache ago is not moved again (two Map writes per hit, for the
    // hot entries every request reads): eviction stays least recently used to within that.
    if (this.uses - entry.movedAt > this.maxEntries >> 1) {
      this.entries.delete(key);
      this.entries.set(key, entry);
      entry.movedAt = ++this.uses;
    }
    return entry.value as T;
  }

  /**
   * Announces a write to `tags` to the other processes, inside the write's transaction when given
   * (PostgreSQL NOTIFY is delivered on commit). Call `invalidate` with the same tags once it committed.
   */
  async announce(db: QueryExecutorProvider, tags: readonly string[]): Promise<void> {
    if (this.channel === undefined || tags.length === 0) return;
    // A function call with no table: the one statement any Kysely (or transaction) can run here.
    await sql`select pg_notify(${this.channel}, ${`${this.origin} ${tags.join(' ')}`})`.execute(db);
  }

  /**
   * Runs a write, then drops `tags` (invalidate) once it ended, committed or not. After a commit,
   * `keep` names where to store what the write returned (its row as a read would load it), and
   * `spare` names entries the write does not change (an instance's connections across its status
   * write), put back as they were; each only if none of its tags was dropped by anything else while
   * the write ran. The next read need not load either.
   */
  async write<T>(tags: readonly string[], work: () => Promise<T>, options: WriteOptions<T> = {}): Promise<T> {
    const generation = this.generation;
    const spared = (options.spare ?? []).flatMap((key) => {
      const entry = this.entries.get(key);
      return entry ? [[key, entry] as const] : [];
    });
    const unchanged = (entryTags: readonly string[]) => this.trusted && entryTags.every((tag) => this.droppedAt(tag) <= generation);
    let result: T;
    let kept: { key: string; tags: readonly string[] } | undefined;
    let spare: (typeof spared)[number][] = [];
    try {
      result = await work();
      // Judged before this write's own invalidation, which drops the same tags.
      kept = options.keep?.(result);
      if (kept && !unchanged(kept.tags)) kept = undefined;
      spare = spared.filter(([, entry]) => unchanged(entry.tags));
    } finally {
      this.invalidate(tags);
    }
    for (const [key, entry] of spare) this.store(key, entry.value, entry.tags, entry.storedAt);
    if (kept) this.store(kept.key, result, kept.tags);
    return result;
  }

  /** Drops every entry with one of these tags (in this process, and its other threads' caches on SQLite). */
  invalidate(tags: readonly string[]): void {
    if (tags.length > 0 && this.threads) {
      // One message for the writes that end together (a commit group): a post each cost 2–6 µs over both threads.
      if (this.threadTags.length === 0) queueMicrotask(() => this.sendToThreads());
      this.threadTags.push(...tags);
    }
    this.drop(tags);
  }

  private sendToThreads(): void {
    const tags = this.threadTags;
    this.threadTags = [];
    if (tags.length > 0 && !this.closed) this.threads?.postMessage(tags);
  }

  /** The generation of the last drop of `tag` (at least that of the last clear, which forgot older ones). */
  private droppedAt(tag: string): number {
    return Math.max(this.lastDropped.get(tag) ?? 0, this.forgottenAt);
  }

  private drop(tags: readonly string[]): void {
    this.generation++;
    if (this.lastDropped.size >= this.maxEntries) this.forgetDrops();
    for (const tag of tags) {
      this.lastDropped.set(tag, this.generation);
      const keys = this.byTag.get(tag);
      if (!keys) continue;
      for (const key of [...keys]) this.remove(key);
    }
  }

  /** Drops everything (notifications may have been missed). */
  clear(): void {
    this.generation++;
    this.forgetDrops();
    this.entries.clear();
    this.byTag.clear();
  }

  /** Bounds lastDropped: every tag counts as dropped now. */
  private forgetDrops(): void {
    this.lastDropped.clear();
    this.forgottenAt = this.generation;
  }

  get size(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    this.sendToThreads();
    this.closed = true;
    this.trusted = false;
    this.threads?.close();
    clearTimeout(this.reconnectTimer);
    await this.listener?.end().catch(() => {});
    this.listener = undefined;
    this.clear();
  }

  private store(key: string, value: unknown, tags: readonly string[], storedAt = Date.now()): void {
    this.remove(key);
    this.entries.set(key, { value, tags, storedAt, movedAt: ++this.uses });
    for (const tag of tags) {
      let keys = this.byTag.get(tag);
      if (!keys) this.byTag.set(tag, (keys = new Set()));
      keys.add(key);
    }
    while (this.entries.size > this.maxEntries) this.remove(this.entries.keys().next().value!);
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    for (const tag of entry.tags) {
      const keys = this.byTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.byTag.delete(tag);
    }
  }

  private connect(failures: number): void {
    if (this.closed || !this.postgres) return;
    const { url, channel, onError } = this.postgres;
    const client = new pg.Client({ connectionString: url });
    this.listener = client;
    let lost = false;
    const onLost = (error?: unknown) => {
      if (lost) return;
      lost = true;
      this.trusted = false;
      this.clear();
      if (error !== undefined) onError?.(error);
      void client.end().catch(() => {});
      if (this.closed) return;
      const delay = RECONNECT_MS[Math.min(failures, RECONNECT_MS.length - 1)]!;
      this.reconnectTimer = setTimeout(() => this.connect(failures + 1), delay);
      this.reconnectTimer.unref();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (message) => {
      if (message.channel !== channel) return;
      const [first = '', ...rest] = (message.payload ?? '').split(' ');
      // Our own writes were dropped here once they ended (invalidate): dropping them again would
      // throw away what they kept. A payload without an origin comes from an older version.
      if (first === this.origin) return;
      this.invalidate(first.startsWith('@') ? rest : [first, ...rest]);
    });
    client
      .connect()
      .then(() => client.query(`LISTEN ${client.escapeIdentifier(channel)}`))
      .then(() => {
        if (lost || this.closed) return;
        failures = 0;
        // Anything cached before (none while untrusted) could have missed notifications.
        this.clear();
        this.trusted = true;
      })
      .catch(onLost);
  }
}
