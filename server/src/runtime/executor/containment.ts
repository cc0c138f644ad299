// How executors are contained: each in its own PID and mount namespace (with its own /proc), made
// by util-linux's `unshare`. The executor's Node process is the namespace's first process, so when
// it ends the kernel kills every process it started (detached, double-forked or in a new session)
// before `unshare` itself exits; and a flow's /proc shows only its own namespace.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Containment {
  /** `unshare` and its arguments, and `setpriv` (which drops the executor's privileges inside); undefined when executors can't be contained here. */
  command?: { path: string; args: string[]; setpriv: string };
  /** Why they can't, when they can't: one line for the operator. */
  weakness?: string;
}

/** Thrown by createExecutorPool when executors can't be contained and weak isolation was not allowed. */
export class ExecutorIsolationError extends Error {
  override name = 'ExecutorIsolationError';
}

let detected: Containment | undefined;

/**
 * What an executor may not do inside its namespaces: gain privileges through exec (setuid files), or,
 * where it is root there (a user namespace, or a root server without per-executor uids), keep any
 * capability: with CAP_SYS_ADMIN it could unmount its own /proc and see the host's processes again.
 */
const DROP_PRIVILEGES = ['--bounding-set=-all', '--inh-caps=-all', '--no-new-privs'];

/** Runs before the executor's Node, as root of the namespace: covers each listed file (up to `--`) with /dev/null, then runs the rest. */
const HIDE_FILES = 'for f; do shift; [ "$f" = -- ] && break; [ -e "$f" ] || continue; mount --bind /dev/null "$f" || exit 71; done; exec "$@"';

/**
 * The program and arguments that start `node <nodeArgs>` contained: in its namespaces, with `hidden`
 * files covered, as `identity` (or without capabilities) and without a way to gain privileges.
 */
export function containedCommand(
  command: NonNullable<Containment['command']>,
  nodeArgs: string[],
  identity: { uid: number; gid: number } | undefined,
  hidden: readonly string[],
): { path: string; args: string[] } {
  const drop = identity ? ['--reuid', String(identity.uid), '--regid', String(identity.gid), '--clear-groups', '--no-new-privs'] : DROP_PRIVILEGES;
  const hide = hidden.length ? ['/bin/sh', '-c', HIDE_FILES, 'sh', ...hidden, '--'] : [];
  return { path: command.path, args: [...command.args, '--', ...hide, command.setpriv, ...drop, '--', process.execPath, ...nodeArgs] };
}

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
  const setpriv = onPath('setpriv');
  if (!path || !setpriv) return { weakness: `${path ? 'setpriv' : 'unshare'} (util-linux) is not on PATH` };
  const tried = spawnSync(path, [...args, '--', setpriv, ...DROP_PRIVILEGES, 'true'], {
    encoding: 'utf8',
    timeout: 10_000,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (tried.status === 0) return { command: { path, args, setpriv } };
  const why = tried.error?.message ?? (tried.stderr.trim().split('\n')[0] || `it exited with ${tried.status ?? tried.signal}`);
  return {
    weakness: root
      ? `unshare can't make PID namespaces here (${why}); the container lacks CAP_SYS_ADMIN`
      : `unshare can't make a user namespace for a non-root server (${why}); user namespaces are off on this host`,
  };
}
