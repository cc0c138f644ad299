/**
 * Size of the script-tag bundle: builds it with rollup.config.mjs, prints dist/plugboard.js
 * (the eager core: what the marketplace needs before it renders) and each lazy chunk (the
 * integration detail), minified, gzip -9 and brotli (max quality), the total, and what each
 * dependency costs (its modules minified alone, gzip of that part alone). Goal: ≤ 22 KB gzip.
 *   node --import tsx bench/bundle-size.ts
 */
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { transform } from 'esbuild';
import { rollup, type OutputChunk, type RollupOptions } from 'rollup';

const configPath: string = '../rollup.config.mjs';
// The config exports [script-tag bundle, npm build]: the first is the one a page loads.
const { default: configs } = (await import(configPath)) as { default: RollupOptions | RollupOptions[] };
const config = Array.isArray(configs) ? configs[0]! : configs;

const GOAL_GZIP = 22 * 1024;
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

function packageOf(id: string): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(id);
  if (m) return m[1]!;
  const src = /\/src\/([^/]+)(?:\/([^/]+))?/.exec(id);
  if (!src) return '(other)';
  return src[1] === 'elements' && src[2] && !src[2].endsWith('.ts') ? `src/elements/${src[2]}` : `src/${src[1]}`;
}

async function main(): Promise<void> {
  const options = config;
  const bundle = await rollup({ ...options, onwarn: () => {} });
  const outputs = Array.isArray(options.output) ? options.output : [options.output!];
  const { output } = await bundle.write(outputs[0]!);
  await bundle.close();
  const chunks = output.filter((o): o is OutputChunk => o.type === 'chunk');
  const chunk = chunks.find((o) => o.isEntry)!;
  const sizes = (source: string) => {
    const code = Buffer.from(source);
    return {
      min: code.length,
      gzip: gzipSync(code, { level: 9 }).length,
      brotli: brotliCompressSync(code, {
        params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: code.length },
      }).length,
    };
  };
  const row = (label: string, s: ReturnType<typeof sizes>) =>
    `  ${label.padEnd(36)} ${kb(s.min).padStart(9)} min ${kb(s.gzip).padStart(9)} gz ${kb(s.brotli).padStart(9)} br`;
  const entry = sizes(chunk.code);
  console.log(row(`dist/${chunk.fileName} (eager core)`, entry));
  const total = { ...entry };
  for (const lazy of chunks.filter((o) => o !== chunk)) {
    const s = sizes(lazy.code);
    console.log(row(`dist/${lazy.fileName} (lazy)`, s));
    total.min += s.min;
    total.gzip += s.gzip;
    total.brotli += s.brotli;
  }
  if (chunks.length > 1) console.log(row('all files', total));
  console.log(
    `  goal ≤ ${kb(GOAL_GZIP)} gzip: eager core ${entry.gzip <= GOAL_GZIP ? 'met' : 'NOT met'}, all files ${total.gzip <= GOAL_GZIP ? 'met' : 'NOT met'}`,
  );

  // Each module's tree-shaken code (all chunks; each module in its own block so names from
  // different chunks don't clash), minified on its own (esbuild) and summed per package:
  // close to what removing that package would save. Gzip of each package's code alone.
  const byPackage = new Map<string, string[]>();
  for (const [id, m] of chunks.flatMap((c) => Object.entries(c.modules))) {
    if (!m.code) continue;
    const name = packageOf(id);
    byPackage.set(name, [...(byPackage.get(name) ?? []), m.code]);
  }
  const rows: { name: string; min: number; gz: number }[] = [];
  for (const [name, parts] of byPackage) {
    const { code: min } = await transform(parts.map((p) => `{\n${p}\n}`).join('\n'), { minify: true, format: 'esm', target: 'es2022', loader: 'js' });
    rows.push({ name, min: Buffer.byteLength(min), gz: gzipSync(min, { level: 9 }).length });
  }
  console.log('\n  what each part costs (its modules minified alone; gzip of that part alone):');
  for (const r of rows.sort((a, b) => b.gz - a.gz)) {
    console.log(`  ${r.name.padEnd(34)} ${kb(r.min).padStart(9)} min ${kb(r.gz).padStart(9)} gz`);
  }
  if (process.argv.includes('--modules')) {
    for (const c of chunks) {
      console.log(`\n  modules of ${c.fileName} (rendered length):`);
      for (const [id, m] of Object.entries(c.modules)) console.log(`    ${m.renderedLength.toString().padStart(7)} ${id.replace(process.cwd() + '/', '')}`);
    }
  }
}

await main();
