// Builds both packages: the library (rollup → dist/plugboard.js and dist/npm, tsc → dist/types,
// custom-elements.json → React/Vue types and docs/elements.md's element reference) and then the
// backend (tsc → server/dist), which reads the library's types.
// `--if-needed` (used by `npm start`, which runs the demo from source) builds only a missing or
// stale script-tag bundle.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newest(dir) {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).reduce((max, name) => {
    const p = join(dir, name);
    const s = statSync(p);
    return Math.max(max, s.isDirectory() ? newest(p) : s.mtimeMs);
  }, 0);
}

const outputs = ['dist/plugboard.js', 'dist/plugboard-console.js'];
if (process.argv.includes('--if-needed') && outputs.every(existsSync)) {
  const built = Math.min(...outputs.map((p) => statSync(p).mtimeMs));
  const sources = Math.max(newest('src'), statSync('package.json').mtimeMs);
  if (built > sources) process.exit(0);
}

function run(cmd, args) {
  console.log(`> ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

run(process.execPath, ['node_modules/rollup/dist/bin/rollup', '-c', '--silent']);
if (process.argv.includes('--if-needed')) process.exit(0);
run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.types.json']); // element/client/protocol types for npm users
// custom-elements.json: the public elements only (custom-elements-manifest.config.mjs); then, from
// it, the React and Vue types (dist/types/{react,vue}.d.ts) and docs/elements.md's reference.
run(process.execPath, ['node_modules/@custom-elements-manifest/analyzer/cem.js', 'analyze', '--quiet']);
run(process.execPath, ['scripts/framework-types.mjs', 'custom-elements.json']);
// Under CI the committed doc is left as it is, so test/node/framework-types.test.ts sees any drift.
if (process.env.CI) console.log('> CI: docs/elements.md not regenerated (the tests check it)');
else run(process.execPath, ['scripts/element-docs.mjs', 'custom-elements.json']);
run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'server/tsconfig.build.json']);
