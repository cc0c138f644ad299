// The one test command (README, CI): Node tests (node:test via tsx), then browser tests
// (@web/test-runner in Debian's Chromium). Exits non-zero if either fails.
// Node test files run two at a time (PLUGBOARD_TEST_CONCURRENCY, default 2; 1 runs them one by one):
// a file keeps at most one of the 2 cores busy most of the time (it waits on child processes,
// PostgreSQL, timers and Chromium), and every file uses its own schemas, temp dirs and free ports. On PostgreSQL,
// what reads the catalog reads its own schema only (the migrator's introspection, store/index.ts; erasure.ts):
// another file's schema changes meanwhile.
// --test-force-exit: a file that leaves a server open after its tests ends instead of hanging the run.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

function find(dir, suffix) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? find(p, suffix) : p.endsWith(suffix) ? [p] : [];
  });
}

const only = process.argv[2]; // `node`, `browser`, or nothing for both
let failed = false;

if (!process.env.PLUGBOARD_TEST_DATABASE_URL) {
  console.log('# PLUGBOARD_TEST_DATABASE_URL is not set: PostgreSQL tests are SKIPPED, SQLite only.');
  console.log('#   (CI sets it; locally: PLUGBOARD_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm test)');
}

// The longest files first (CPU seconds measured 2026-12-02, CONTRIBUTING.md), so the last file to
// finish is a short one (files not named keep their order).
const slowestFirst = [
  'executor',
  'scale',
  'webhook-signatures',
  'route-fuzz',
  'recovery',
  'executor-containment',
  'drain',
  'egress',
  'runtime',
  'oauth-core',
  'balancer',
  'e2e',
].map((name) => join('test/node', `${name}.test.ts`));

// Files whose tests hold a window of time (no request may reach the provider during a 2 s pause;
// /readyz stays 200 while its check answers within 3 s) run after the others, one at a time: beside
// another file on a loaded 2-core machine they missed their windows.
const alone = ['outage', 'provider-runtime'].map((name) => join('test/node', `${name}.test.ts`));

if (only !== 'browser') {
  const found = find('test/node', '.test.ts').sort();
  const files = [...slowestFirst.filter((f) => found.includes(f)), ...found.filter((f) => !slowestFirst.includes(f))];
  const concurrency = process.env.PLUGBOARD_TEST_CONCURRENCY ?? '2';
  const env = { ...process.env, NODE_ENV: 'test', NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --conditions=plugboard-source`.trim() };
  // The e2e files rebuild a stale dist/plugboard.js: build it once here, not in several files at once.
  if (!env.PLUGBOARD_E2E_BUNDLE) {
    const build = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', "const { ensureBundle } = await import('./test/e2e/bundle.ts'); ensureBundle(process.cwd());"],
      { stdio: 'inherit', env },
    );
    if (build.status === 0 && existsSync('dist/plugboard.js')) env.PLUGBOARD_E2E_BUNDLE = resolve('dist/plugboard.js');
  }
  const run = (list, filesAtOnce) =>
    spawnSync(
      process.execPath,
      ['--import', 'tsx', '--test', `--test-concurrency=${filesAtOnce}`, '--test-force-exit', '--test-reporter=spec', ...list],
      // plugboard-source: the backend's `plugboard/protocol` import resolves to the library's .ts files.
      { stdio: 'inherit', env },
    ).status === 0;
  // Side by side first; then, one at a time, the files whose tests hold a time window.
  const sideBySide = files.filter((f) => !alone.includes(f));
  const oneByOne = files.filter((f) => alone.includes(f));
  if (!run(sideBySide, concurrency)) failed = true;
  if (!run(oneByOne, '1')) failed = true;
}

if (only !== 'node' && find('test/browser', '.test.ts').length > 0) {
  const r = spawnSync(process.execPath, ['node_modules/@web/test-runner/dist/bin.js', '--config', 'web-test-runner.config.mjs'], {
    stdio: 'inherit',
  });
  failed ||= r.status !== 0;
}

process.exit(failed ? 1 : 0);
