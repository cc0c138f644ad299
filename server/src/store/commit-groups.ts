// Group commit for SQLite: the writes of one event-loop turn run together in one transaction,
// each in a savepoint of its own, and commit once. A SQLite commit writes every page the
// transaction changed to the WAL (a toggle's status update and audit insert touch about eight
// pages) and now and then checkpoints: most of a small write's cost, all of it on the event loop.
// Grouped writes share those pages and that commit.
//
// better-sqlite3 is synchronous, so a write started at once would finish before the next socket's
// request is even parsed: a group starts on setImmediate, after the loop has handed every request
// that was ready to its handler, or as soon as EARLY_GROUP writes are queued (between two sockets'
// requests). A lone write waits that one turn and runs without a savepoint.
//
// Each write still commits or fails alone as far as its caller sees: one that throws is rolled
// back to its savepoint and rejects, the others go on; every caller hears back only after the
// commit (or the commit's failure, which all share).
//
// Savepoints cost: SQLite copies each page a write touches into a statement journal (a temp file
// once it passes 64 KB), two more statements per write. Writes rarely throw, so a group first runs
// without them; if one throws, the whole transaction rolls back and the group runs again, each
// write in its savepoint. After a group that had a failure the next starts with savepoints, so a
// stream of failing writes (stale If-Match) costs at most every other group twice.
import { sql, type Kysely, type Transaction } from 'kysely';

/**
 * Runs `work` in a transaction and resolves once that transaction committed. `work` may run twice
 * (rolled back with its group, then again): it must touch nothing but the transaction.
 */
export type Transact<DB> = <T>(work: (tx: Transaction<DB>) => Promise<T>) => Promise<T>;

/** Most writes in one transaction: bounds how long reads wait for the connection. */
const MAX_GROUP = 64;
/**
 * Queued writes that start a group at once (in a microtask), without waiting for the end of the
 * poll phase: a wave of 64 requests is then answered 16 at a time as it is read, not all after the
 * last one was parsed, so one arriving just after a wave started waits about one wave, not two.
 */
const EARLY_GROUP = 16;

interface Pending<DB> {
  work: (tx: Transaction<DB>) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export function commitGroups<DB>(db: Kysely<DB>): Transact<DB> {
  const queue: Pending<DB>[] = [];
  let scheduled = false;
  /** Whether the last group run in savepoints had a write that threw: the next starts in savepoints. */
  let failedLastTime = false;

  async function runGroup(group: Pending<DB>[]): Promise<void> {
    if (group.length === 1) {
      const [only] = group as [Pending<DB>];
      await db.transaction().execute(only.work).then(only.resolve, only.reject);
      return;
    }
    const outcomes = await (failedLastTime ? undefined : runTogether(group));
    if (outcomes) {
      failedLastTime = false;
      for (const outcome of outcomes) outcome();
      return;
    }
    await runInSavepoints(group);
  }

  /** The group without savepoints: its outcomes once committed, undefined if a write threw (all rolled back). */
  async function runTogether(group: Pending<DB>[]): Promise<(() => void)[] | undefined> {
    const outcomes: (() => void)[] = [];
    const threw = new Error('a write of the group threw');
    try {
      await db.transaction().execute(async (tx) => {
        for (const write of group) {
          let value: unknown;
          try {
            value = await write.work(tx);
          } catch {
            throw threw;
          }
          outcomes.push(() => write.resolve(value));
        }
      });
    } catch (error) {
      if (error === threw) return undefined;
      // Nothing committed: every write in the group failed with it.
      return group.map((write) => () => write.reject(error));
    }
    return outcomes;
  }

  async function runInSavepoints(group: Pending<DB>[]): Promise<void> {
    const outcomes: (() => void)[] = [];
    let failed = false;
    try {
      await db.transaction().execute(async (tx) => {
        // Compiled once per group, run twice per write.
        const savepoint = sql`savepoint grouped_write`.compile(tx);
        const release = sql`release grouped_write`.compile(tx);
        for (const write of group) {
          await tx.executeQuery(savepoint);
          try {
            const value = await write.work(tx);
            await tx.executeQuery(release);
            outcomes.push(() => write.resolve(value));
          } catch (error) {
            failed = true;
            await sql`rollback to grouped_write`.execute(tx);
            await tx.executeQuery(release);
            outcomes.push(() => write.reject(error));
          }
        }
      });
    } catch (error) {
      // Nothing committed: every write in the group failed with it.
      for (const write of group) write.reject(error);
      return;
    }
    failedLastTime = failed;
    for (const outcome of outcomes) outcome();
  }

  let running = false;
  let early = false;
  async function drain(): Promise<void> {
    if (running) return; // the loop below takes what was queued meanwhile
    running = true;
    try {
      while (queue.length > 0) await runGroup(queue.splice(0, MAX_GROUP));
    } finally {
      running = false;
      scheduled = false;
    }
  }

  return <T>(work: (tx: Transaction<DB>) => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (running) return;
      if (queue.length >= EARLY_GROUP && !early) {
        early = true;
        queueMicrotask(() => {
          early = false;
          void drain();
        });
        return;
      }
      if (scheduled) return;
      scheduled = true;
      setImmediate(() => void drain());
    });
}
