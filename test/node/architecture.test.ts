// The shape of the code: no import cycle anywhere in src/ or server/src (type-only imports count),
// and imports go one way: protocol → client → elements in the library, protocol → server in the
// backend. Read from the source with dpdm, so a new file is covered without listing it here.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { DependencyTree } from 'dpdm';

// dpdm's ESM build does not load under Node's resolver; its CommonJS one does.
const { parseCircular, parseDependencyTree } = createRequire(import.meta.url)('dpdm') as typeof import('dpdm');

const ROOT = new URL('../../', import.meta.url).pathname;

async function dependencies(globs: string[], cwd = ROOT, skipDynamicImports = false, transform = false): Promise<DependencyTree> {
  // transform: false keeps `import type` edges: a cycle through types is still a cycle. The
  // tsconfig resolves `./x.js` to `./x.ts` and `plugboard/protocol` to the protocol's source.
  return parseDependencyTree(globs, { context: cwd, cwd, tsconfig: join(ROOT, 'tsconfig.json'), transform, skipDynamicImports });
}

/** Every import of the project's files whose path starts with `prefix`: [file, request, resolved path]. */
function importsOf(tree: DependencyTree, prefix: string): [string, string, string | null][] {
  return Object.entries(tree)
    .filter(([file]) => file.startsWith(prefix))
    .flatMap(([file, deps]) => (deps ?? []).map((d): [string, string, string | null] => [file, d.request, d.id]));
}

const external = (id: string | null) => id === null || id.startsWith('node_modules/');

test('@plugboard/server exports only what a vendor calls: start it, configure it, what start-up throws, and the vendor API client', async () => {
  const api = await import('../../server/src/index.js');
  assert.deepEqual(Object.keys(api).sort(), [
    'CONFIG_VARIABLES',
    'ConfigError',
    'IntegrationsError',
    'KeyConfigError',
    'RuntimeSettingsError',
    'SecretsError',
    'VendorApiError',
    'createVendorClient',
    'generateEncryptionKey',
    'loadConfig',
    'missingForProduction',
    'startRunner',
    'startServer',
  ]);
});

describe('architecture', () => {
  let tree: DependencyTree;
  // For cycles, static imports only: an `import()` evaluates its module after the importer has
  // run, so it can't meet a half-initialised one. The console entry (src/elements/vendor-console.ts)
  // re-exports the core that lazily imports it, on purpose: shared code stays in plugboard.js.
  let staticTree: DependencyTree;
  before(async () => {
    tree = await dependencies(['src/**/*.ts', 'server/src/**/*.ts']);
    staticTree = await dependencies(['src/**/*.ts', 'server/src/**/*.ts'], ROOT, true);
  });

  test('the check sees the code, and would see a cycle', async (t) => {
    const files = Object.keys(tree).filter((f) => f.startsWith('src/') || f.startsWith('server/src/'));
    assert.ok(files.includes('server/src/app.ts') && files.includes('src/protocol/index.ts') && files.length > 80, `parsed ${files.length} files`);
    const dir = mkdtempSync(join(tmpdir(), 'plugboard-cycle-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'a.ts'), "import type { B } from './b.js';\nexport type A = { b?: B };\n");
    writeFileSync(join(dir, 'b.ts'), "import type { A } from './a.js';\nexport type B = { a?: A };\n");
    assert.equal(parseCircular(await dependencies(['*.ts'], dir)).length, 1, 'a type-only cycle is found');
  });

  test('no import cycle in src/ or server/src, type imports included', () => {
    const cycles = parseCircular(staticTree).filter((cycle) => cycle.some((f) => f.startsWith('src/') || f.startsWith('server/src/')));
    assert.deepEqual(
      cycles.map((c) => c.join(' → ')),
      [],
    );
  });

  test('src/protocol imports nothing but zod/mini (it is bundled for the browser)', () => {
    const outside = importsOf(tree, 'src/protocol/').filter(([, request, id]) => (external(id) ? request !== 'zod/mini' : !id!.startsWith('src/protocol/')));
    assert.deepEqual(outside, []);
  });

  test('src/client imports only the protocol, ky, jose and zod/mini', () => {
    const allowed = /^(ky|jose\/jwt\/decode|zod\/mini)$/;
    const outside = importsOf(tree, 'src/client/').filter(([, request, id]) =>
      external(id) ? !allowed.test(request) : !(id!.startsWith('src/client/') || id!.startsWith('src/protocol/')),
    );
    assert.deepEqual(outside, []);
  });

  test("no zod on a customer's page: nothing the script-tag entry reaches, short of the vendor console, imports zod", async () => {
    // The console's entry and its client are staff-only (they parse the vendor API with zod).
    const staffOnly = new Set(['src/elements/vendor-console.ts', 'src/client/vendor.ts']);
    // What runs: type-only imports left out (transform: true erases them).
    const tree = await dependencies(['src/**/*.ts'], ROOT, false, true);
    const seen = new Set<string>();
    const walk = (file: string) => {
      if (seen.has(file) || staffOnly.has(file)) return;
      seen.add(file);
      for (const d of tree[file] ?? []) if (d.id && !external(d.id)) walk(d.id);
    };
    walk('src/elements/index.ts');
    assert.ok(seen.has('src/protocol/shapes.ts') && seen.has('src/elements/connect-button/connect-button.ts'), 'the walk reaches the lazy chunks');
    const zod = importsOf(tree, 'src/').filter(([file, request]) => seen.has(file) && /^zod/.test(request));
    assert.deepEqual(zod, []);
  });

  test('src/elements never imports the server', () => {
    const server = importsOf(tree, 'src/elements/').filter(([, request, id]) => id?.startsWith('server/') || /@plugboard\/server/.test(request));
    assert.deepEqual(server, []);
  });

  test('server/src never imports the elements or the client, and reaches the protocol only as plugboard/protocol', () => {
    const wrong = importsOf(tree, 'server/src/').filter(
      ([, request, id]) =>
        id?.startsWith('src/elements/') ||
        id?.startsWith('src/client/') ||
        /^plugboard(\/(elements|client).*)?$/.test(request) ||
        (id?.startsWith('src/protocol/') && request !== 'plugboard/protocol'),
    );
    assert.deepEqual(wrong, []);
  });
});
