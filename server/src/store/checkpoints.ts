// SQLite WAL checkpoints on a thread of their own. By default SQLite checkpoints inside whichever
// commit takes the WAL past 1,000 pages: it copies them into the database file and fsyncs it,
// synchronously, on the event loop that serves every connection (a stall of the whole server,
// longer on a busy disk). Here a worker thread with a connection of its own runs a PASSIVE
// checkpoint every `intervalMs`, which neither waits for nor blocks readers and writers. When it
// has copied the whole WAL, the next commit starts the WAL over from its beginning, so the file
// stays about `intervalMs` of writes, and the serving connection's own checkpoint, moved to
// `walLimitPages`, never comes due.
//
// Under writes that never pause long enough, the thread's checkpoint never catches up (each commit
// appends while it copies) and the WAL would grow without end; a FULL checkpoint from the thread
// starves too (it waits for a moment without a writer, which a busy writer never leaves). So past
// `walLimitPages` the serving connection checkpoints inside a commit again, as SQLite does by
// default, and the WAL starts over.
//
// - Crash safety is SQLite's: a committed transaction is in the WAL, a checkpoint only copies it.
// - Several connections or processes on one file each run their own; SQLite runs one checkpoint at
//   a time, the others find nothing left to copy or report busy and try again at the next tick.
// - On close the thread's connection closes last (after the serving one); the last connection to a
//   WAL database checkpoints everything and removes the WAL, off the event loop too.
// - A thread that dies (or fails to open the file) hands checkpoints back to the serving
//   connection: writes go on, the WAL stays bounded by SQLite's own 1,000 pages. Stores opened
//   after that start a new thread.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Default `intervalMs` (PLUGBOARD_SQLITE_CHECKPOINT_MS). */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 500;

/** Default `walLimitPages`: 8 MB of 4 KB pages, twice SQLite's own mark. */
export const DEFAULT_WAL_LIMIT_PAGES = 2000;

/** SQLite's own default, put back when the thread is gone. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1000;

/** The serving connection, as far as checkpoints go. */
export interface PragmaDatabase {
  pragma(source: string): unknown;
  readonly open: boolean;
}

export interface Checkpoints {
  /** The thread, shared by the process's stores (tests end it to see writes survive that). */
  readonly thread: Worker;
  /** Ends the thread after its last checkpoint; call it after closing the serving connection. */
  close(): Promise<void>;
}

// Plain CommonJS evaluated in the thread: the same in source (tsx) and built form, nothing to load but better-sqlite3.
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const open = new Map();
parentPort.on('message', (message) => {
  if (message.type === 'open') {
    let db;
    try {
      db = new Database(message.file);
      db.pragma('wal_autocheckpoint = 0');
    } catch {
      parentPort.postMessage({ type: 'failed', id: message.id });
      return;
    }
    let standBy = 0;
    const checkpoint = () => {
      // Behind the writers past the limit: the next 100 ms are the serving connection's, whose own
      // checkpoint (due at each commit now) would find this one running and give up.
      if (Date.now() < standBy) return;
      try {
        const [{ log, checkpointed }] = db.pragma('wal_checkpoint(PASSIVE)');
        if (log > message.walLimitPages && checkpointed < log) standBy = Date.now() + 100;
      } catch {
        // Busy (another connection checkpoints) or a passing I/O error: the next tick tries again.
      }
    };
    open.set(message.id, { db, checkpoint, timer: setInterval(checkpoint, message.intervalMs) });
  } else {
    const connection = open.get(message.id);
    open.delete(message.id);
    if (connection) {
      clearInterval(connection.timer);
      connection.checkpoint();
      connection.db.close();
    }
    parentPort.postMessage({ type: 'closed', id: message.id });
  }
});
`;

export interface CheckpointOptions {
  intervalMs: number;
  /** Past this many pages in the WAL, the serving connection checkpoints in its commit (default DEFAULT_WAL_LIMIT_PAGES). */
  walLimitPages?: number;
}

interface Client {
  /** The thread can't checkpoint this file (it died, or could not open it). */
  fallBack(): void;
  /** The thread closed its connection (or is gone). */
  closed(): void;
}

/**
 * One thread per process (per JS thread) for every store it opens: a worker costs ~40–100 ms of
 * CPU to start, which each store open (the tests open hundreds) would otherwise pay.
 */
let shared: { thread: Worker; clients: Map<number, Client>; closing: number } | undefined;
let nextId = 0;

function checkpointThread(): NonNullable<typeof shared> {
  if (shared) return shared;
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  // No execArgv: the thread needs no loader (under tsx it would load tsx again).
  const thread = new Worker(THREAD_SOURCE, { eval: true, execArgv: [], workerData: { driver } });
  thread.unref(); // idle, it must not keep the process alive
  const current = { thread, clients: new Map<number, Client>(), closing: 0 };
  thread.on('message', (message: { type: 'failed' | 'closed'; id: number }) => {
    const client = current.clients.get(message.id);
    if (message.type === 'failed') client?.fallBack();
    else {
      current.clients.delete(message.id);
      client?.closed();
    }
  });
  // An 'error' is followed by 'exit'; without a listener it would be thrown in this thread.
  thread.on('error', () => {});
  thread.once('exit', () => {
    if (shared === current) shared = undefined;
    for (const client of current.clients.values()) {
      client.fallBack();
      client.closed();
    }
    current.clients.clear();
  });
  shared = current;
  return current;
}

/** Moves `database`'s checkpoints (the file `file`, in WAL mode) to the thread; see the top of this file. */
export function checkpointOffThread(database: PragmaDatabase, file: string, options: CheckpointOptions): Checkpoints {
  const walLimitPages = options.walLimitPages ?? DEFAULT_WAL_LIMIT_PAGES;
  const current = checkpointThread();
  const id = nextId++;
  let closing = false;
  let done!: () => void;
  const closed = new Promise<void>((resolve) => (done = resolve));
  current.clients.set(id, {
    fallBack: () => {
      if (!closing && database.open) database.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
    },
    closed: () => done(),
  });
  database.pragma(`wal_autocheckpoint = ${walLimitPages}`);
  current.thread.postMessage({ type: 'open', id, file, intervalMs: options.intervalMs, walLimitPages });
  return {
    thread: current.thread,
    async close() {
      if (closing) return closed;
      closing = true;
      // The last checkpoint must finish before the process may exit.
      if (current.closing++ === 0) current.thread.ref();
      current.thread.postMessage({ type: 'close', id });
      await closed;
      if (--current.closing === 0) current.thread.unref();
    },
  };
}
