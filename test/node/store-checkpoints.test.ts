// SQLite WAL checkpoints run on a thread of their own (store/checkpoints.ts), never inside a commit
// on the event loop: the database file only grows when the thread copies the WAL into it. The WAL
// stays bounded under writes, another connection sees every commit, closing leaves everything in the
// database file, and a thread that dies hands checkpoints back to the serving connection.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import { sql } from 'kysely';
import { checkpointOffThread } from '../../server/src/store/checkpoints.js';
import { openStore } from '../../server/src/store/index.js';

interface Db {
  pragma(source: string, options?: { simple: boolean }): unknown;
  exec(source: string): void;
  prepare(source: string): { run(...values: unknown[]): unknown; get(): unknown };
  close(): void;
  readonly open: boolean;
}
const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string) => Db;

const PAGE = 4096;
/** A row that fills about a page, so N rows write about N pages to the WAL. */
const ROW = 'x'.repeat(PAGE - 200);

function tempFile(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-checkpoints-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'plugboard.db');
}

const size = (file: string) => (existsSync(file) ? statSync(file).size : 0);
// Rows are only appended: the last rowid counts them without reading the whole table.
const countRows = (db: Db) => (db.prepare('select max(rowid) as n from filler').get() as { n: number }).n;

/** A raw connection set up as the store sets up its own. */
function serving(file: string): Db {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('create table if not exists filler (v text)');
  return db;
}

function writePages(db: Db, pages: number): void {
  const insert = db.prepare('insert into filler (v) values (?)');
  db.exec('begin');
  for (let i = 0; i < pages; i++) insert.run(ROW);
  db.exec('commit');
}

test('a commit never checkpoints on the serving connection; closing checkpoints everything from the thread', async (t) => {
  const file = tempFile(t);
  // The thread's first tick is a minute away: any growth of the database file below is a commit's own checkpoint.
  const store = await openStore({ databaseUrl: `file:${file}`, sqliteCheckpointMs: 60_000 });
  await sql`create table filler (v text)`.execute(store.db);
  const before = size(file);
  for (let i = 0; i < 15; i++) {
    await store.db.transaction().execute(async (tx) => {
      for (let j = 0; j < 100; j++) await sql`insert into filler (v) values (${ROW})`.execute(tx);
    });
  }
  // SQLite's own default would have copied the WAL into the file past 1,000 pages.
  assert.ok(size(`${file}-wal`) > 1500 * PAGE, `WAL ${size(`${file}-wal`)} B`);
  assert.equal(size(file), before, 'no commit copied the WAL into the database file');

  await store.close();
  assert.equal(existsSync(`${file}-wal`), false, 'the last connection (the thread) checkpointed and removed the WAL');
  assert.ok(size(file) > 1500 * PAGE);
  const reader = new Database(file);
  t.after(() => reader.close());
  assert.equal(countRows(reader), 1500);
});

test('under writes the thread keeps the WAL bounded, and another connection sees every commit', async (t) => {
  const file = tempFile(t);
  const store = await openStore({ databaseUrl: `file:${file}`, sqliteCheckpointMs: 20 });
  t.after(() => store.close());
  await sql`create table filler (v text)`.execute(store.db);
  // Another process's connection (a runner's), open throughout.
  const other = new Database(file);
  t.after(() => other.close());
  let largestWal = 0;
  const transactions = 100;
  for (let i = 1; i <= transactions; i++) {
    await store.db.transaction().execute(async (tx) => {
      for (let j = 0; j < 100; j++) await sql`insert into filler (v) values (${ROW})`.execute(tx);
    });
    assert.equal(countRows(other), i * 100);
    largestWal = Math.max(largestWal, size(`${file}-wal`));
    await sleep(5);
  }
  // 10,000 pages were written; past 2,000 the serving connection would checkpoint in its commit.
  assert.ok(largestWal < 3000 * PAGE, `largest WAL ${largestWal} B`);
  assert.ok(size(file) > 5000 * PAGE, 'the thread copied the WAL into the database file');
});

test('writes that never leave the thread time to catch up: past its limit the serving connection checkpoints in a commit', async (t) => {
  const file = tempFile(t);
  const db = serving(file);
  t.after(() => db.open && db.close());
  const checkpoints = checkpointOffThread(db, file, { intervalMs: 100, walLimitPages: 500 });
  t.after(() => checkpoints.close());
  let largestWal = 0;
  for (let i = 0; i < 50; i++) {
    writePages(db, 100);
    largestWal = Math.max(largestWal, size(`${file}-wal`));
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.equal(countRows(db), 5000);
  // Unchecked, the WAL would hold all 5,000 pages; the limit is 500, give or take the commits that
  // found the thread checkpointing (on a loaded CI machine ~2,000 pages were seen).
  assert.ok(largestWal < 4000 * PAGE, `largest WAL ${largestWal} B`);
});

test('a checkpoint thread that dies leaves writes working and checkpoints to the serving connection', async (t) => {
  const file = tempFile(t);
  const db = serving(file);
  t.after(() => db.open && db.close());
  const checkpoints = checkpointOffThread(db, file, { intervalMs: 60_000 });
  t.after(() => checkpoints.close());
  const before = size(file);
  writePages(db, 1500);
  assert.equal(size(file), before, 'while the thread lives, no commit checkpoints');

  await checkpoints.thread.terminate();
  writePages(db, 1500);
  writePages(db, 10);
  assert.equal(countRows(db), 3010);
  assert.ok(size(file) > 1500 * PAGE, 'the serving connection checkpointed (SQLite default) once the thread was gone');
  assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1000);
});
