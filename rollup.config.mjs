import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import MagicString from 'magic-string';
import esbuild from 'rollup-plugin-esbuild';

// The script-tag bundle: one ES module that defines every element. The `production`
// condition keeps Lit's dev mode out. Size figures per step: docs/elements.md#benchmarks.

function taggedTemplates(node, tags, out = []) {
  if (!node || typeof node !== 'object') return out;
  if (Array.isArray(node)) {
    for (const n of node) taggedTemplates(n, tags, out);
    return out;
  }
  if (node.type === 'TaggedTemplateExpression' && node.tag.type === 'Identifier' && tags.includes(node.tag.name)) out.push(node);
  for (const key in node) if (key !== 'tag' && typeof node[key] === 'object') taggedTemplates(node[key], tags, out);
  return out;
}

/**
 * CSS: comments out, whitespace out around `{ } ; , >` and after `:`, other runs of it one space,
 * no `;` before `}`. `+` and `-` keep their spaces (`calc()` needs them).
 */
function minifyCss(raw) {
  return raw
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\s*([{};,>])\s*/g, '$1')
    .replace(/:\s+/g, ':')
    .replace(/\s{2,}|\n/g, ' ')
    .replace(/;}/g, '}');
}

/** HTML: a run of whitespace with a line break becomes one line break (the same whitespace to the layout). */
function minifyHtml(raw) {
  return raw.replace(/[ \t]*\n\s*/g, '\n');
}

/**
 * Inside a tag (between attributes, outside quotes), whitespace becomes one space, so a tag written
 * across lines and one written on a line are the same bytes to gzip. It never reaches the DOM.
 * `texts` are one template's quasis: a tag can span them (`<input a=${x}\n b>`).
 */
function spaceInsideTags(texts) {
  let inTag = false;
  let quote = '';
  return texts.map((text) => {
    let out = '';
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (!inTag) {
        if (c === '<' && /[A-Za-z/]/.test(text[i + 1] ?? '')) inTag = true;
      } else if (quote) {
        if (c === quote) quote = '';
      } else if (c === '"' || c === "'") {
        quote = c;
      } else if (c === '>') {
        inTag = false;
      } else if (/\s/.test(c)) {
        while (/\s/.test(text[i + 1] ?? '')) i++;
        out += ' ';
        continue;
      }
      out += c;
    }
    return out;
  });
}

/**
 * Whitespace out of our own `css` and `html` template literals (terser leaves template text
 * alone), with a source map of the edit. None of our templates holds literal text inside `<pre>`,
 * `<textarea>` or `white-space: pre*`.
 */
export function minifyTemplates() {
  return {
    name: 'minify-templates',
    transform(code, id) {
      if (!id.includes('/src/elements/') || !/\b(css|html|svg)`/.test(code)) return null;
      const out = new MagicString(code);
      for (const t of taggedTemplates(this.parse(code), ['css', 'html', 'svg'])) {
        const quasis = t.quasi.quasis;
        const raw = quasis.map((q) => code.slice(q.start, q.end));
        const texts = t.tag.name === 'css' ? raw.map(minifyCss) : spaceInsideTags(raw.map(minifyHtml));
        for (const [i, q] of quasis.entries()) {
          const text = texts[i];
          if (text === '') out.remove(q.start, q.end);
          else if (text !== code.slice(q.start, q.end)) out.overwrite(q.start, q.end, text);
        }
      }
      return { code: out.toString(), map: out.generateMap({ hires: true, source: id, includeContent: true }) };
    },
  };
}

/** Chunk names carry a hash: drop chunks of earlier builds so dist (and the npm package) holds only live ones. */
function removeStaleChunks() {
  return {
    name: 'remove-stale-chunks',
    writeBundle(options, bundle) {
      const dir = join(options.dir, 'chunks');
      let names;
      try {
        names = readdirSync(dir);
      } catch {
        return;
      }
      for (const name of names) if (!(`chunks/${name}` in bundle)) rmSync(join(dir, name), { force: true });
    },
  };
}

export const terserOptions = {
  ecma: 2022,
  module: true,
  // pure_getters: no getter we read for its side effects; a property read that goes unused can go.
  compress: { passes: 3, pure_getters: true },
  format: { comments: false },
};

/**
 * The split of the script-tag bundle (sizes: `npm run bench -- bundle-size`, docs/benchmarks.md):
 *  - dist/plugboard.js, the eager core: what the marketplace needs to show the catalog (provider,
 *    marketplace, card, status badge, the client, Lit, ky) and the English of those elements
 *    (`en` in src/elements/i18n.ts). No zod: the client checks the catalog's shape with
 *    src/protocol/catalog.ts and loads the checks for every other response.
 *  - chunks/shapes-*.js: those checks (src/protocol/shapes.ts, zod-free, the schemas' verdicts),
 *    loaded by the client beside its first request, and imported by the detail chunk.
 *  - chunks/validation-*.js: zod and the protocol's schemas (src/client/validation.ts), for the
 *    vendor console's client only: no customer's page loads it.
 *  - chunks/detail-*.js: dialog, wizard, config form, connect button, execution log and their
 *    strings (`*-strings.ts` in each one's folder), loaded on open / on sight / when idle.
 *  - plugboard-console.js, the vendor console's entry (staff pages only): imports plugboard.js
 *    and adds `<plug-vendor-console>`; `loadVendorConsole()` imports it. Not customer-facing.
 * So: no zod (nor a module that builds a schema) may be imported by an element or the customers'
 * client (a value they need lives in a zod-free file: problem-types.ts, words.ts, shapes.ts), and
 * no detail-only string by a core element; a string goes in the file of the element showing it.
 */
const VALIDATION_CHUNK = /\/node_modules\/zod\/|\/src\/protocol\/(api|fields|problem|claims)\.ts$|\/src\/client\/validation\.ts$/;

const scriptTag = {
  // The console's entry re-exports the customers' one, so everything they share stays in
  // plugboard.js (no shared third file) and plugboard-console.js holds the console only.
  input: { plugboard: 'src/elements/index.ts', 'plugboard-console': 'src/elements/vendor-console.ts' },
  // The detail chunk imports shared code (Lit, client) from the entry itself: no third file.
  preserveEntrySignatures: 'allow-extension',
  output: {
    dir: 'dist',
    format: 'es',
    entryFileNames: '[name].js',
    chunkFileNames: 'chunks/[name]-[hash].js',
    sourcemap: true,
    manualChunks: (id) => (VALIDATION_CHUNK.test(id) ? 'validation' : undefined),
  },
  plugins: [
    nodeResolve({ browser: true, exportConditions: ['production', 'browser'] }),
    esbuild({ target: 'es2022', tsconfig: 'tsconfig.json' }),
    minifyTemplates(),
    terser(terserOptions),
    removeStaleChunks(),
  ],
};

/**
 * The npm build: one module per source file (dist/npm/...), dependencies left as imports so an
 * app's bundler shares its own Lit; `plugboard/elements/<name>` defines that element alone.
 */
const elementNames = readdirSync('src/elements', { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join('src/elements', d.name, 'define.ts')))
  .map((d) => d.name);
const npm = {
  input: ['src/elements/index.ts', 'src/client/index.ts', 'src/protocol/index.ts', ...elementNames.map((name) => `src/elements/${name}/define.ts`)],
  external: (id) => /^(lit|ky|zod)(\/|$)|^@lit\//.test(id),
  output: { dir: 'dist/npm', format: 'es', preserveModules: true, preserveModulesRoot: 'src', sourcemap: true },
  plugins: [nodeResolve({ browser: true }), esbuild({ target: 'es2022', tsconfig: 'tsconfig.json' })],
};

export default [scriptTag, npm];
