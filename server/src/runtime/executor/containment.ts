// How executors are contained: each in its own PID and mount namespace (with its own /proc), made
// by util-linux's `unshare`. The executor's Node process is the namespace's first process, so when
// it ends the kernel kills every process it started (detached, double-forked or in a new session)
// before `unshare` itself exits; and a flow's /proc shows only its own namespace.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Containment {
  /** `unshare` and its arguments, put before `node …`; undefined when executors can't be contained here. */
  command?: { path: string; args: string[] };
  /** Why they can't, when they can't: one line for the operator. */
  weakness?: string;
}

/** Thrown by createExecutorPool when executors can't be contained and weak isolation was not allowed. */
export class ExecutorIsolationError extends Error {
  override name = 'ExecutorIsolationError';
}

let detected: Containment | undefined;

function onPath(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    const path = join(dir, program);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** Tries `unshare` once per process (the first pool asks) and remembers the answer. */
export function detectContainment(): Containment {
  detected ??= probe();
  return detected;
}

function probe(): Containment {
  if (process.platform !== 'linux') return { weakness: `PID namespaces exist on Linux only (this is ${process.platform})` };
  // As root the namespaces come directly; otherwise through a user namespace where the server's uid is root.
  const root = process.getuid?.() === 0;
  const args = [...(root ? [] : ['--user', '--map-root-user']), '--pid', '--fork', '--mount-proc', '--kill-child'];
  const path = onPath('unshare');
  if (!path) return { weakness: 'unshare (util-linux) is not on PATH' };
  const tried = spawnSync(path, [...args, 'true'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'ignore', 'pipe'] });
  if (tried.status === 0) return { command: { path, args } };
  const why = tried.error?.message ?? (tried.stderr.trim().split('\n')[0] || `it exited with ${tried.status ?? tried.signal}`);
  return {
    weakness: root
      ? `unshare can't make PID namespaces here (${why}); the container lacks CAP_SYS_ADMIN`
      : `unshare can't make a user namespace for a non-root server (${why}); user namespaces are off on this host`,
  };
}
