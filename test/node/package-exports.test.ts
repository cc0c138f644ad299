// What an npm user imports: every path in package.json's "exports" exists after `npm run build`,
// per-element modules leave Lit to the app's bundler, and the types are there.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const built = existsSync('dist/npm/elements/index.js') && existsSync('dist/types/src/elements/index.d.ts');
const skip = built ? false : 'dist/ is not built: run `npm run build` first (CI does)';
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { exports: Record<string, string | Record<string, string>> };
const elements = readdirSync('src/elements', { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join('src/elements', d.name, 'define.ts')))
  .map((d) => d.name);

test('every export of package.json points at a built file', { skip }, () => {
  for (const [key, target] of Object.entries(pkg.exports)) {
    const files = typeof target === 'string' ? [target] : Object.values(target);
    for (const file of files) {
      const names = file.includes('*') ? elements.map((e) => file.replace('*', e)) : [file];
      for (const name of names) assert.ok(existsSync(name), `${key} → ${name} is missing`);
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
