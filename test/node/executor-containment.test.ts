// Executors contain everything they start: with real processes, a flow's detached, double-forked
// and setsid children end with its executor (timeout kill and pool close), no flow sees the server's
// or another customer's processes or reads the server's environment, `plugboard serve` refuses to run
// flows where executors can't be contained (unless told to), and secrets can come from *_FILE
// without a flow being able to read the file.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, forgetSecrets, loadConfig, withSecretFiles } from '../../server/src/config.js';
import { createExecutorPool, type ExecutionOutcome } from '../../server/src/runtime/executor/index.js';
import { escapeJob } from './fixtures/flows/escape-job.js';
import { eventually } from './fixtures/eventually.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const escapeModule = fileURLToPath(new URL('./fixtures/flows/escape.ts', import.meta.url));
const containedPool = fileURLToPath(new URL('./fixtures/flows/contained-pool.ts', import.meta.url));
const cli = join(repo, 'server/src/cli.ts');
const nodeArgs = ['--conditions=plugboard-source', '--import', import.meta.resolve('tsx')];
const asRoot = process.getuid?.() === 0;

const folders: string[] = [];
/** Every lingering process any test found, killed at the end whatever happened (the code before containment leaves them). */
const found = new Set<number>();

after(() => {
  for (const pid of found) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

/** A folder every executor uid can write its pid files to. */
function sharedFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-containment-'));
  chmodSync(dir, 0o777);
  folders.push(dir);
  return dir;
}

/** Host pids of the lingering processes whose pid file starts with `prefix` (their last argument names it). */
function lingering(prefix: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      continue;
    }
    if (argv[0] === process.execPath && argv.at(-1)?.startsWith(prefix)) pids.push(Number(name));
  }
  pids.forEach((pid) => found.add(pid));
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** The three processes (detached, double fork, setsid) that `prefix`'s flow started, once all are running. */
async function threeLingering(prefix: string): Promise<number[]> {
  let pids: number[] = [];
  await eventually(
    () => (pids = lingering(prefix)).length === 3,
    30_000,
    () => `three lingering processes for ${prefix} (found ${pids.length})`,
  );
  return pids;
}

async function allGone(pids: number[], when: string): Promise<void> {
  await eventually(
    () => pids.every((pid) => !alive(pid)),
    10_000,
    () => `processes still alive ${when}: ${pids.filter(alive).join(', ')}`,
  );
}

interface Look {
  count: number;
  processes: { pid: number; cmdline: string }[];
  parentEnviron: string[] | string;
  serverEnviron: string[] | string;
  secretFile?: string;
}

/** What another customer's flow saw must be its own executor only: nothing of `dir`'s processes, nor the server, nor its environment. */
function assertSeesOnlyItself(look: Look, dir: string, serverMarker: string): void {
  for (const environ of [look.parentEnviron, look.serverEnviron]) {
    assert.ok(!environ.includes('PLUGBOARD_ENCRYPTION_KEY'), `the flow read the server's environment: ${String(environ)}`);
  }
  const cmdlines = look.processes.map((p) => p.cmdline);
  assert.deepEqual(
    // Its own executor, and the esbuild service tsx starts in it when the code runs from source.
    cmdlines.filter((c) => !c.includes('runtime/executor/child') && !c.includes('/@esbuild/')),
    [],
    'a process other than its own executor is visible',
  );
  assert.equal(look.count, look.processes.length, 'processes beyond the first 20 are visible');
  assert.deepEqual(
    cmdlines.filter((c) => c.includes(dir) || c.includes(serverMarker)),
    [],
  );
}

describe('executor containment', () => {
  test("a flow's detached, double-forked and setsid processes end when its timeout kills the executor, and another customer sees none of them", async () => {
    const dir = sharedFolder();
    const pool = createExecutorPool({ integrationsModule: escapeModule, spares: 0, abortGraceMs: 100 });
    try {
      const prefix = join(dir, 'timeout-');
      const running = pool.run(escapeJob('cust_a', 'start', { dir, tag: 'timeout', hang: true }, 10_000), () => {});
      let outcome: ExecutionOutcome | undefined;
      void running.then((o) => (outcome = o));
      const pids = await threeLingering(prefix);
      assert.equal(outcome, undefined, 'the flow ended before its processes could be looked at');

      const look = await pool.run(escapeJob('cust_b', 'look', { serverPid: process.pid }), () => {});
      assert.equal(look.status, 'succeeded', look.error);
      assertSeesOnlyItself(look.result as Look, dir, 'executor-containment.test');

      const ended = await running;
      assert.equal(ended.status, 'timed_out');
      await allGone(pids, 'after the timeout killed their executor');
    } finally {
      await pool.close();
    }
  });

  for (const user of ['root', 'nobody'] as const) {
    test(`run as ${user}: lingering processes end when the pool closes; another customer's flow sees neither them nor the server, nor its environment`, async (t) => {
      if (!asRoot) return t.skip('the test switches users, which needs root');
      const dir = sharedFolder();
      const secret = `server-secret-${randomBytes(8).toString('hex')}`;
      // A secret file the server can read: as Docker and Kubernetes mount them (0444/0644), or owned by the server's user.
      const secretFile = join(dir, 'encryption-key');
      writeFileSync(secretFile, `${secret}\n`, { mode: 0o644 });
      if (user === 'nobody') chownSync(secretFile, 65534, 65534);
      const command = user === 'root' ? [process.execPath] : ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath];
      const server: ChildProcessWithoutNullStreams = spawn(command[0]!, [...command.slice(1), ...nodeArgs, containedPool, dir, secretFile], {
        cwd: repo,
        env: { PATH: process.env.PATH, PLUGBOARD_ENCRYPTION_KEY: secret },
        stdio: 'pipe',
      });
      let stdout = '';
      let stderr = '';
      server.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      server.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const exited = once(server, 'exit');
      try {
        await eventually(
          () => stdout.includes('\n') || server.exitCode !== null,
          60_000,
          () => `the pool's report (stderr: ${stderr})`,
        );
        const report = JSON.parse(stdout.split('\n')[0]!) as { uid: number; started: ExecutionOutcome; look: ExecutionOutcome; warnings: unknown[] };
        assert.equal(report.uid, user === 'root' ? 0 : 65534);
        assert.deepEqual(report.warnings, [], 'executors are contained, without a weak-isolation warning');
        assert.equal(report.started.status, 'succeeded', report.started.error);
        const pids = await threeLingering(join(dir, 'pool-'));

        assert.equal(report.look.status, 'succeeded', report.look.error);
        const look = report.look.result as Look;
        assertSeesOnlyItself(look, dir, 'contained-pool');
        assert.equal(look.secretFile, '', "the flow read the server's secret file (it should see /dev/null there)");

        server.stdin.write('close\n');
        await exited;
        assert.match(stdout, /closed/);
        await allGone(pids, 'after the pool closed');
      } finally {
        server.kill('SIGKILL');
      }
    });
  }
});

describe('weak isolation and secrets from files', () => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const production = {
    PLUGBOARD_JWT_KEYS: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    PLUGBOARD_JWT_ISSUER: 'https://vendor.test',
    PLUGBOARD_INTEGRATIONS: escapeModule,
    PORT: '0',
    HOST: '127.0.0.1',
    // Stopped once it has started: no balancer to wait for (drain.test.ts tests the delay).
    PLUGBOARD_SHUTDOWN_DELAY_MS: '0',
  };

  /**
   * Runs `plugboard serve` until its runner takes work (then stops it) or it exits; its output either
   * way. Not until it listens: it listens before its runner thread has started (or refused to start).
   */
  async function serve(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string; pid: number; environ: string }> {
    const cwd = sharedFolder();
    const child = spawn(process.execPath, [...nodeArgs, cli], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = once(child, 'exit');
    let environ = '';
    try {
      await eventually(
        () => stdout.includes('runner thread taking work') || child.exitCode !== null,
        60_000,
        () => `plugboard serve's runner to take work, or serve to exit (stderr: ${stderr})`,
      );
      if (child.exitCode === null) {
        environ = readFileSync(`/proc/${child.pid}/environ`, 'utf8');
        child.kill('SIGTERM');
      }
      const [code] = (await exited) as [number | null];
      return { code, stdout, stderr, pid: child.pid!, environ };
    } finally {
      child.kill('SIGKILL');
    }
  }

  test('without namespaces `plugboard serve` refuses to run flows and says why in one line; PLUGBOARD_ALLOW_WEAK_ISOLATION=1 runs them with a warning', async () => {
    // No unshare on PATH: the executors can't be contained (node itself is started by its full path).
    const weak = { ...production, PATH: join(tmpdir(), 'no-unshare-here'), PLUGBOARD_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
    const refused = await serve(weak);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    const lines = refused.stderr.trim().split('\n');
    assert.equal(lines.length, 1, refused.stderr);
    assert.match(lines[0]!, /^plugboard serve: refusing to run flows: executors can't be contained, unshare \(util-linux\) is not on PATH;/);
    assert.match(lines[0]!, /Set PLUGBOARD_ALLOW_WEAK_ISOLATION=1 to run them anyway$/);

    const allowed = await serve({ ...weak, PLUGBOARD_ALLOW_WEAK_ISOLATION: '1' });
    assert.match(allowed.stdout, /plugboard listening/, allowed.stderr);
    assert.match(allowed.stdout, /Weak isolation \(allowed\): executors have no PID namespace/);
  });

  test('`plugboard serve` takes the encryption key from PLUGBOARD_ENCRYPTION_KEY_FILE, so the key is never in its environment', async () => {
    const dir = sharedFolder();
    const key = randomBytes(32).toString('base64');
    const keyFile = join(dir, 'encryption-key');
    writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
    const started = await serve({ ...production, PATH: process.env.PATH ?? '', PLUGBOARD_ENCRYPTION_KEY_FILE: keyFile });
    assert.match(started.stdout, /plugboard listening/, started.stderr);
    assert.ok(started.environ.includes('PLUGBOARD_ENCRYPTION_KEY_FILE='), 'read the environment of the process that was started');
    assert.ok(!started.environ.includes(key));
  });

  test('every secret variable may come from <NAME>_FILE: read (one trailing newline dropped), then dropped from the environment', () => {
    const dir = sharedFolder();
    writeFileSync(join(dir, 'db'), 'postgres://plugboard:pw@127.0.0.1:5432/plugboard\n');
    writeFileSync(join(dir, 'key'), 'a2V5LWZyb20tZmlsZQ');
    writeFileSync(join(dir, 'alert'), 'alert-secret\r\n');
    const env: Record<string, string | undefined> = {
      DATABASE_URL_FILE: join(dir, 'db'),
      PLUGBOARD_ENCRYPTION_KEY_FILE: join(dir, 'key'),
      PLUGBOARD_ALERT_SECRET_FILE: join(dir, 'alert'),
      PORT: '9000',
    };
    const resolved = withSecretFiles(env);
    assert.equal(resolved.DATABASE_URL, 'postgres://plugboard:pw@127.0.0.1:5432/plugboard');
    assert.equal(resolved.PLUGBOARD_ENCRYPTION_KEY, 'a2V5LWZyb20tZmlsZQ');
    assert.equal(resolved.PLUGBOARD_ALERT_SECRET, 'alert-secret');
    assert.equal(resolved.DATABASE_URL_FILE, undefined);
    const config = loadConfig(env);
    assert.equal(config.databaseUrl, resolved.DATABASE_URL);
    assert.equal(config.encryptionKey, resolved.PLUGBOARD_ENCRYPTION_KEY);

    forgetSecrets(env);
    assert.deepEqual(env, { PORT: '9000' });

    assert.throws(
      () => loadConfig({ PLUGBOARD_ENCRYPTION_KEY: 'inline', PLUGBOARD_ENCRYPTION_KEY_FILE: join(dir, 'key'), DATABASE_URL_FILE: join(dir, 'missing') }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.length === 2 &&
        err.problems[0] === `DATABASE_URL_FILE: can't read ${join(dir, 'missing')} (ENOENT)` &&
        err.problems[1] === 'Set PLUGBOARD_ENCRYPTION_KEY or PLUGBOARD_ENCRYPTION_KEY_FILE, not both',
    );
  });
});
