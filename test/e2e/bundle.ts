// The end-to-end test drives the real script-tag bundle. This finds it, rebuilding it with
// rollup (the same config as `npm run build`) when it is missing or older than its sources.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newest(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).reduce((max, name) => {
    const p = join(dir, name);
    const s = statSync(p);
    return Math.max(max, s.isDirectory() ? newest(p) : s.mtimeMs);
  }, 0);
}

export type BundleResult = { path: string; skip?: undefined } | { path?: undefined; skip: string };

/**
 * `PLUGBOARD_E2E_BUNDLE` points at a bundle built elsewhere (used as is). Otherwise
 * dist/plugboard.js, rebuilt when stale. Throws with the build's output if the build fails.
 */
export function ensureBundle(root: string): BundleResult {
  const override = process.env.PLUGBOARD_E2E_BUNDLE;
  if (override) {
    if (!existsSync(override)) throw new Error(`PLUGBOARD_E2E_BUNDLE=${override} does not exist`);
    return { path: override };
  }
  if (!existsSync(join(root, 'src/elements/index.ts'))) {
    return { skip: 'src/elements/index.ts (the bundle entry) does not exist yet: no bundle to test' };
  }
  const bundle = join(root, 'dist', 'plugboard.js');
  const sources = Math.max(...['src/elements', 'src/client', 'src/protocol'].map((d) => newest(join(root, d))));
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= sources) return { path: bundle };

  const why = existsSync(bundle) ? 'older than src/elements' : 'missing';
  console.log(`# dist/plugboard.js is ${why}: building it with rollup (CI runs \`npm run build\` first)`);
  const r = spawnSync(process.execPath, [join(root, 'node_modules/rollup/dist/bin/rollup'), '-c', '--silent'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (r.status !== 0 || !existsSync(bundle)) {
    throw new Error(`Building dist/plugboard.js failed (run \`npm run build\` to see why):\n${r.stdout}\n${r.stderr}`);
  }
  return { path: bundle };
}
