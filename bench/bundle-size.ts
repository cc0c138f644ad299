/**
 * Size of the script-tag bundle: builds it with rollup.config.mjs, prints dist/plugboard.js
 * minified, gzip -9 and brotli (max quality), and what each dependency costs (its share of the
 * minified output, from rollup's rendered lengths, scaled to gzip). Goal: ≤ 22 KB gzip.
 *   node --import tsx bench/bundle-size.ts
 */
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { transform } from 'esbuild';
import { rollup, type OutputChunk, type RollupOptions } from 'rollup';

const configPath: string = '../rollup.config.mjs';
const { default: config } = (await import(configPath)) as { default: RollupOptions };

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
  const chunk = output.find((o): o is OutputChunk => o.type === 'chunk' && o.isEntry)!;
  const code = Buffer.from(chunk.code);
  const gzip = gzipSync(code, { level: 9 }).length;
  const brotli = brotliCompressSync(code, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: code.length },
  }).length;

  console.log(`dist/${chunk.fileName}`);
  console.log(`  minified   ${kb(code.length)}`);
  console.log(`  gzip -9    ${kb(gzip)}   (goal ≤ ${kb(GOAL_GZIP)}: ${gzip <= GOAL_GZIP ? 'met' : 'NOT met'})`);
  console.log(`  brotli     ${kb(brotli)}`);
  const others = output.filter((o) => o !== chunk && o.type === 'chunk');
  if (others.length) console.log(`  + ${others.length} lazy chunk(s): ${others.map((o) => o.fileName).join(', ')}`);

  // Each module's tree-shaken code, minified on its own (esbuild) and summed per package:
  // close to what removing that package would save. Gzip of each package's code alone.
  const byPackage = new Map<string, string[]>();
  for (const [id, m] of Object.entries(chunk.modules)) {
    if (!m.code) continue;
    const name = packageOf(id);
    byPackage.set(name, [...(byPackage.get(name) ?? []), m.code]);
  }
  const rows: { name: string; min: number; gz: number }[] = [];
  for (const [name, parts] of byPackage) {
    const { code: min } = await transform(parts.join('\n'), { minify: true, format: 'esm', target: 'es2022', loader: 'js' });
    rows.push({ name, min: Buffer.byteLength(min), gz: gzipSync(min, { level: 9 }).length });
  }
  console.log('\n  what each part costs (its modules minified alone; gzip of that part alone):');
  for (const r of rows.sort((a, b) => b.gz - a.gz)) {
    console.log(`  ${r.name.padEnd(34)} ${kb(r.min).padStart(9)} min ${kb(r.gz).padStart(9)} gz`);
  }
  if (process.argv.includes('--modules')) {
    for (const id of Object.keys(chunk.modules)) console.log(`    ${chunk.modules[id]!.renderedLength.toString().padStart(7)} ${id.replace(process.cwd() + '/', '')}`);
  }
}

await main();
