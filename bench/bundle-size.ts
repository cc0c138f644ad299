/**
 * Size of the script-tag bundle: builds it with rollup.config.mjs, prints dist/plugboard.js
 * (the eager core: what the marketplace needs before it renders), each lazy chunk a customer's
 * page can load (validation, the integration detail), their total, then the vendor console's
 * entry apart (dist/plugboard-console.js, staff pages only), minified, gzip -9 and brotli (max
 * quality), and what each dependency costs (its modules minified alone, gzip of that part
 * alone). Goals (issue 11): eager core ≤ 22 KB gzip, customer-facing ≤ 45 KB gzip.
 *   node --import tsx bench/bundle-size.ts
 */
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { transform } from 'esbuild';
import { rollup, type OutputChunk, type RollupOptions } from 'rollup';

const configPath: string = '../rollup.config.mjs';
// The config exports [script-tag bundle, npm build]: the first is the one a page loads.
const { default: configs } = (await import(configPath)) as { default: RollupOptions | RollupOptions[] };
const config = Array.isArray(configs) ? configs[0]! : configs;

const GOAL_EAGER = 22 * 1024;
const GOAL_CUSTOMER = 45 * 1024;
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
  const byName = new Map(chunks.map((c) => [c.fileName, c]));
  const entry = (name: string) => chunks.find((o) => o.isEntry && o.name === name)!;
  const core = entry('plugboard');
  const consoleEntry = entry('plugboard-console');
  // What a page can load from an entry: its static and dynamic imports, transitively; the
  // customers' walk stops at the console's entry (only `loadVendorConsole()` reaches it).
  const reach = (from: OutputChunk, stop?: OutputChunk) => {
    const seen = new Set<OutputChunk>();
    const visit = (c: OutputChunk | undefined) => {
      if (!c || c === stop || seen.has(c)) return;
      seen.add(c);
      for (const name of [...c.imports, ...c.dynamicImports]) visit(byName.get(name));
    };
    visit(from);
    return seen;
  };
  const customer = reach(core, consoleEntry);
  const staffOnly = [...reach(consoleEntry)].filter((c) => !customer.has(c));
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
  type Sizes = ReturnType<typeof sizes>;
  const row = (label: string, s: Sizes) => `  ${label.padEnd(56)} ${kb(s.min).padStart(9)} min ${kb(s.gzip).padStart(9)} gz ${kb(s.brotli).padStart(9)} br`;
  const sum = (files: OutputChunk[]) =>
    files.map((c) => sizes(c.code)).reduce((a, b) => ({ min: a.min + b.min, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli }));
  const eager = sizes(core.code);
  console.log(row(`dist/${core.fileName} (eager core)`, eager));
  for (const c of customer) if (c !== core) console.log(row(`dist/${c.fileName} (lazy)`, sizes(c.code)));
  const customerTotal = sum([...customer]);
  console.log(row("customer-facing (everything a customer's page can load)", customerTotal));
  console.log('  vendor console (staff pages only; imports plugboard.js and the chunks above):');
  for (const c of staffOnly) console.log(row(`dist/${c.fileName}`, sizes(c.code)));
  console.log(row('all files', sum(chunks)));
  const verdict = (n: number, goal: number) => (n <= goal ? 'met' : `NOT met by ${kb(n - goal)}`);
  console.log(
    `  goals, gzip -9: eager core ≤ ${kb(GOAL_EAGER)} ${verdict(eager.gzip, GOAL_EAGER)}; customer-facing ≤ ${kb(GOAL_CUSTOMER)} ${verdict(customerTotal.gzip, GOAL_CUSTOMER)}`,
  );
  // Exact bytes: steps of a few dozen bytes vanish in the rounding above.
  console.log(`  gzip -9 bytes: eager core ${eager.gzip}, customer-facing ${customerTotal.gzip}`);

  // Each module's tree-shaken code (the customer-facing files; each module in its own block so names from
  // different chunks don't clash), minified on its own (esbuild) and summed per package:
  // close to what removing that package would save. Gzip of each package's code alone.
  const byPackage = new Map<string, string[]>();
  for (const [id, m] of [...customer].flatMap((c) => Object.entries(c.modules))) {
    if (!m.code) continue;
    const name = packageOf(id);
    byPackage.set(name, [...(byPackage.get(name) ?? []), m.code]);
  }
  const rows: { name: string; min: number; gz: number }[] = [];
  for (const [name, parts] of byPackage) {
    const { code: min } = await transform(parts.map((p) => `{\n${p}\n}`).join('\n'), { minify: true, format: 'esm', target: 'es2022', loader: 'js' });
    rows.push({ name, min: Buffer.byteLength(min), gz: gzipSync(min, { level: 9 }).length });
  }
  console.log('\n  what each part of the customer-facing files costs (its modules minified alone; gzip of that part alone):');
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
