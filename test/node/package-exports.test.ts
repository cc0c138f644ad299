// What an npm user imports: every path in package.json's "exports" exists after `npm run build`,
// per-element modules leave Lit to the app's bundler, and the types are there.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const built = existsSync('dist/npm/elements/index.js') && existsSync('dist/types/src/elements/index.d.ts');
const skip = built ? false : 'dist/ is not built: run `npm run build` first (CI does)';
interface PackageJson {
  name: string;
  exports: Record<string, string | Record<string, string>>;
  dependencies: Record<string, string>;
  bin?: Record<string, string>;
}
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as PackageJson;
const serverPkg = JSON.parse(readFileSync('server/package.json', 'utf8')) as PackageJson;
const elements = readdirSync('src/elements', { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join('src/elements', d.name, 'define.ts')))
  .map((d) => d.name);

function assertExportsExist(exports: PackageJson['exports'], dir: string) {
  for (const [key, target] of Object.entries(exports)) {
    const files = typeof target === 'string' ? [target] : Object.values(target);
    for (const file of files) {
      const names = file.includes('*') ? elements.map((e) => file.replace('*', e)) : [file];
      for (const name of names) assert.ok(existsSync(join(dir, name)), `${key} → ${join(dir, name)} is missing`);
    }
  }
}

test('every export of both packages points at a built file', { skip: skip || (!existsSync('server/dist/index.js') && 'server/dist is not built') }, () => {
  assertExportsExist(pkg.exports, '.');
  assertExportsExist(serverPkg.exports, 'server');
});

// What `npm install plugboard` pulls into a front-end app: the browser dependencies only.
// No jose: the client reads a token's `exp` with atob (no verification in the browser); the demo and tests sign with it.
const BROWSER_DEPENDENCIES = ['@lit/context', '@lit/task', 'ky', 'lit', 'zod'];
const SERVER_ONLY = ['better-sqlite3', 'pg', 'pg-boss', 'hono', '@hono/node-server', 'oidc-provider', 'pino', 'kysely', 'oauth4webapi'];

test('the library package depends on browser packages only; the backend package carries the server ones', () => {
  assert.deepEqual(Object.keys(pkg.dependencies).sort(), BROWSER_DEPENDENCIES);
  assert.equal(pkg.bin, undefined, 'the CLI belongs to the backend package');
  for (const name of ['better-sqlite3', 'pg', 'pg-boss', 'hono']) assert.ok(serverPkg.dependencies[name], `${serverPkg.name} declares ${name}`);
  assert.ok(serverPkg.dependencies[pkg.name], `${serverPkg.name} depends on ${pkg.name} for the protocol`);
  assert.equal(serverPkg.bin?.plugboard, 'bin/plugboard.js');
});

test('the built library imports no server package', { skip }, () => {
  const files = (function list(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
      d.isDirectory() ? list(join(dir, d.name)) : d.name.endsWith('.js') ? [join(dir, d.name)] : [],
    );
  })('dist/npm');
  assert.ok(files.length > 10);
  for (const file of files) {
    const specifiers = [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*["']([^"'./][^"']*)["']/g)].map((m) => m[1]!);
    for (const spec of specifiers) {
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      assert.ok(BROWSER_DEPENDENCIES.includes(name) && !SERVER_ONLY.includes(name), `${file} imports ${spec}`);
    }
  }
});

test('per-element modules import Lit and the other dependencies instead of bundling them', { skip }, () => {
  const marketplace = readFileSync('dist/npm/elements/marketplace/marketplace.js', 'utf8');
  assert.match(marketplace, /from ["']lit["']/);
  assert.ok(!existsSync('dist/npm/node_modules'), 'no dependency was copied into dist/npm');
  const types = readFileSync('dist/types/src/elements/marketplace/marketplace.d.ts', 'utf8');
  assert.match(types, /class PlugMarketplace/);
});
