// What a React 19 or Vue app gets from `import type {} from 'plugboard/react'` / `'plugboard/vue'`:
// the fixtures in test/frameworks are type-checked as an app would (package name, built
// dist/types), correct use must compile and each deliberate misuse must fail with its error.
// Also: the manifest holds only the public API, and docs/elements.md's reference is up to date.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const built = ['dist/types/react.d.ts', 'dist/types/vue.d.ts', 'dist/types/src/elements/index.d.ts', 'custom-elements.json'].every(existsSync);
const skip = built ? false : 'dist/ is not built: run `npm run build` first (CI does)';

interface Diagnostic {
  file: string;
  line: number;
  code: string;
  message: string;
}

/** One compiler run over a fixture project, its errors parsed from `--pretty false` output. */
function typecheck(bin: string, project: string): Diagnostic[] {
  const r = spawnSync(process.execPath, [bin, '-p', project, '--pretty', 'false'], { encoding: 'utf8' });
  const diagnostics: Diagnostic[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^(.+?)\((\d+),\d+\): error (TS\d+): (.*)$/.exec(line);
    if (m) diagnostics.push({ file: m[1]!, line: Number(m[2]), code: m[3]!, message: m[4]! });
    else if (line.startsWith(' ') && diagnostics.length > 0) diagnostics.at(-1)!.message += `\n${line}`;
  }
  assert.ok(r.status === 0 || diagnostics.length > 0, `${bin} failed without diagnostics:\n${r.stdout}${r.stderr}`);
  return diagnostics;
}

interface Misuse {
  /** Text on the fixture's line that must carry the error. */
  at: string;
  code: string;
  message: RegExp;
}

function assertFixture(diagnostics: Diagnostic[], app: string, misuseFile: string, expected: Misuse[]): void {
  const show = (ds: Diagnostic[]) => ds.map((d) => `${d.file}(${d.line}): ${d.code} ${d.message}`).join('\n');
  const elsewhere = diagnostics.filter((d) => d.file !== misuseFile);
  assert.deepEqual(elsewhere, [], `${app} and the generated types must compile:\n${show(elsewhere)}`);

  const lines = readFileSync(misuseFile, 'utf8').split('\n');
  const unexplained = diagnostics.filter((d) => d.file === misuseFile);
  for (const misuse of expected) {
    const line = lines.findIndex((l) => l.includes(misuse.at)) + 1;
    assert.ok(line > 0, `${misuseFile} has no line with ${misuse.at}`);
    const hit = unexplained.findIndex((d) => d.line === line && d.code === misuse.code && misuse.message.test(d.message));
    assert.ok(
      hit >= 0,
      `${misuseFile}:${line} \`${misuse.at}\` should fail with ${misuse.code} ${misuse.message}; got:\n${show(unexplained.filter((d) => d.line === line)) || '(no error: the types accept it)'}`,
    );
    unexplained.splice(hit, 1);
  }
  assert.deepEqual(unexplained, [], `unexpected errors in ${misuseFile}:\n${show(unexplained)}`);
}

/** What both frameworks must refuse: property types come from the element classes, event details from the event map. */
const misuses: Misuse[] = [
  { at: `getToken`, code: 'TS2322', message: /^Type 'string' is not assignable to type '\(\) => string \| Promise<string>'/ },
  { at: `e.detail.instanceId`, code: 'TS2551', message: /^Property 'instanceId' does not exist on type 'InstanceEventDetail'/ },
  {
    at: `theme="blue"`,
    code: 'TS2322',
    message: /^Type '"blue"' is not assignable to type '\(?"(dark|light|auto)" \| "(dark|light|auto)" \| "(dark|light|auto)"\)? \| undefined'/,
  },
  { at: `marketplace.titel`, code: 'TS2353', message: /'marketplace\.titel'' does not exist in type 'Partial<Record<(StringKey|"marketplace\.title")/ },
  { at: `<plug-integration-dialog`, code: 'TS2322', message: /^Type 'string' is not assignable to type 'boolean \| undefined'/ },
];

test('React 19: a TSX app type-checks the elements, their properties and onplug-* events; misuse fails', { skip }, () => {
  const diagnostics = typecheck('node_modules/typescript/bin/tsc', 'test/frameworks/react');
  assertFixture(diagnostics, 'test/frameworks/react/src/App.tsx', 'test/frameworks/react/src/misuse.tsx', [
    ...misuses,
    { at: '<plug-marketplce', code: 'TS2339', message: /^Property 'plug-marketplce' does not exist on type 'JSX.IntrinsicElements'/ },
  ]);
});

test('Vue: an SFC type-checks the elements, .prop bindings and @plug-* handlers; misuse fails', { skip }, () => {
  const diagnostics = typecheck('node_modules/vue-tsc/bin/vue-tsc.js', 'test/frameworks/vue');
  assertFixture(diagnostics, 'test/frameworks/vue/src/App.vue', 'test/frameworks/vue/src/Misuse.vue', misuses);
});

test("the package root's types need neither React nor Vue", { skip }, () => {
  const imports: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/from ['"](react|vue)(\/[^'"]*)?['"]|declare module ['"](react|vue)['"]/.test(readFileSync(path, 'utf8'))) imports.push(path);
    }
  };
  walk('dist/types/src');
  assert.deepEqual(imports, [], 'only dist/types/react.d.ts and vue.d.ts may name react or vue');
});

test('custom-elements.json lists the public elements and nothing private', { skip }, () => {
  interface Member {
    name: string;
    privacy?: string;
    static?: boolean;
  }
  interface Manifest {
    modules: { path: string; declarations: { name: string; tagName?: string; members?: Member[] }[] }[];
  }
  const manifest = JSON.parse(readFileSync('custom-elements.json', 'utf8')) as Manifest;
  const names = [
    'marketplace',
    'integration-card',
    'integration-dialog',
    'config-form',
    'connect-button',
    'instance-status',
    'execution-log',
    'provider',
    'vendor-console',
  ];
  assert.deepEqual(
    manifest.modules.map((m) => m.path),
    names.map((n) => `dist/npm/elements/${n}/${n}.js`),
  );
  assert.deepEqual(
    manifest.modules.flatMap((m) => m.declarations.map((d) => d.tagName)),
    names.map((n) => `plug-${n}`),
  );
  for (const path of manifest.modules.map((m) => m.path)) assert.ok(existsSync(path), `${path} is not built`);
  const members = manifest.modules.flatMap((m) => m.declarations.flatMap((d) => (d.members ?? []).map((x) => ({ ...x, of: d.name }))));
  const hidden = members.filter((m) => m.name.startsWith('#') || m.privacy === 'private' || m.privacy === 'protected' || m.static);
  assert.deepEqual(hidden, []);
  // @state fields, even where the class forgot `private` (the connect button's phase and message).
  const stateFields = members.filter(
    (m) => (m.of === 'PlugConnectButton' && ['phase', 'message'].includes(m.name)) || (m.of === 'PlugMarketplace' && ['localStatus', 'query'].includes(m.name)),
  );
  assert.deepEqual(stateFields, []);
  assert.ok(
    members.some((m) => m.of === 'PlugMarketplace' && m.name === 'getToken'),
    'inherited API members are listed',
  );
});

test("docs/elements.md's element reference is what the elements' JSDoc says", () => {
  // Analyzes src/elements in memory (custom-elements-manifest.config.mjs) and compares; needs no build.
  const r = spawnSync(process.execPath, ['scripts/element-docs.mjs', '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr || r.stdout);
});

test("docs/elements.md's string table lists every built-in string, as English has it", async () => {
  const { en } = await import('../../src/elements/i18n.js');
  const { detailEn } = await import('../../src/elements/detail-strings.js');
  const { consoleEn } = await import('../../src/elements/console-strings.js');
  const doc = readFileSync('docs/elements.md', 'utf8');
  const rows = new Map([...doc.matchAll(/^\| `([a-zA-Z]+\.[a-zA-Z0-9._]+)` \| (.*) \|$/gm)].map((m) => [m[1]!, m[2]!]));
  for (const [key, text] of Object.entries({ ...en, ...detailEn, ...consoleEn })) {
    assert.ok(rows.has(key), `docs/elements.md (Translations) misses \`${key}\``);
    assert.equal(rows.get(key), text.replace(/\|/g, '\\|'), `docs/elements.md has another English text for \`${key}\``);
  }
});
