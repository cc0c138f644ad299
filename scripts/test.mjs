// The one test command (README, CI): Node tests (node:test via tsx), then browser tests
// (@web/test-runner in Debian's Chromium). Exits non-zero if either fails.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

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

if (only !== 'browser') {
  const files = find('test/node', '.test.ts').sort();
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-reporter=spec', ...files],
    // plugboard-source: the backend's `plugboard/protocol` import resolves to the library's .ts files.
    { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test', NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --conditions=plugboard-source`.trim() } },
  );
  failed ||= r.status !== 0;
}

if (only !== 'node' && find('test/browser', '.test.ts').length > 0) {
  const r = spawnSync(process.execPath, ['node_modules/@web/test-runner/dist/bin.js', '--config', 'web-test-runner.config.mjs'], {
    stdio: 'inherit',
  });
  failed ||= r.status !== 0;
}

process.exit(failed ? 1 : 0);
