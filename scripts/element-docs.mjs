// The per-element reference in docs/elements.md (attributes, properties, methods, events, slots,
// parts, CSS custom properties), generated from the custom elements manifest between the two
// markers below; the guide around it is written by hand.
//   node scripts/element-docs.mjs                       analyze src/elements in memory, rewrite the doc
//   node scripts/element-docs.mjs custom-elements.json  from a built manifest (`npm run build` does this)
//   node scripts/element-docs.mjs --check               write nothing; exit 1 if the doc is out of date
// test/node/framework-types.test.ts runs the check, so the doc cannot drift from the JSDoc.
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const docPath = 'docs/elements.md';
export const begin =
  '<!-- BEGIN element reference: generated from custom-elements.json by scripts/element-docs.mjs (npm run build). Edit the JSDoc headers in src/elements, not this block. -->';
export const end = '<!-- END element reference -->';

/** The manifest as `npm run build` writes it, without writing anything (custom-elements-manifest.config.mjs). */
export async function analyzeElements(cwd = process.cwd()) {
  const { cli } = await import('@custom-elements-manifest/analyzer/cli.js');
  return cli({ argv: ['analyze', '--quiet'], cwd, noWrite: true });
}

/** One table cell: on one line, `|` escaped (also inside code spans, as GitHub's tables need). */
const cell = (text) =>
  (text ?? '')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .trim();
const code = (text) => (text ? `\`${cell(text)}\`` : '');

function table(head, rows) {
  if (rows.length === 0) return [];
  // A default column with nothing in it says nothing.
  const keep = head.map((h, i) => h !== 'default' || rows.some((r) => r[i]));
  [head, ...rows] = [head, ...rows].map((r) => r.filter((_, i) => keep[i]));
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`), ''];
}

/** `CustomEvent<InstanceEventDetail>` → `InstanceEventDetail`; events without a detail get none. */
function detailOf(event) {
  const type = event.type?.text;
  const match = type?.match(/^CustomEvent<(.+)>$/s);
  return match ? code(match[1]) : type && type !== 'Event' && type !== 'CustomEvent' ? code(type) : 'none';
}

function renderElement(mod, element) {
  const folder = mod.path.match(/elements\/([^/]+)\/[^/]+\.js$/)?.[1];
  const members = element.members ?? [];
  const attributes = element.attributes ?? [];
  const attributeFields = new Set(attributes.map((a) => a.fieldName));
  const fields = members.filter((m) => m.kind === 'field' && !attributeFields.has(m.name));
  const methods = members.filter((m) => m.kind === 'method');
  const description = [element.summary, element.description].filter(Boolean).map((t) => t.replace(/\s*\n\s*/g, ' ').trim());

  return [
    `### \`<${element.tagName}>\``,
    '',
    ...description.flatMap((p) => [p, '']),
    `\`import 'plugboard/elements/${folder}'\` defines it (class \`${element.name}\`, source \`src/elements/${folder}/${folder}.ts\`).`,
    '',
    ...table(
      ['attribute', 'property', 'type', 'default', 'description'],
      attributes.map((a) => [code(a.name), code(a.fieldName), code(a.type?.text), code(a.default), cell(a.description)]),
    ),
    ...table(
      ['property (no attribute)', 'type', 'default', 'description'],
      fields.map((f) => [code(f.name), code(f.type?.text), code(f.default), cell(`${f.readonly ? 'Read-only. ' : ''}${f.description ?? ''}`)]),
    ),
    ...table(
      ['method', 'returns', 'description'],
      methods.map((m) => [
        code(`${m.name}(${(m.parameters ?? []).map((p) => `${p.name}${p.type ? `: ${p.type.text}` : ''}`).join(', ')})`),
        code(m.return?.type?.text),
        cell(m.description),
      ]),
    ),
    ...table(
      ['event', 'detail', 'description'],
      (element.events ?? []).map((e) => [code(e.name), detailOf(e), cell(e.description)]),
    ),
    ...table(
      ['slot', 'description'],
      (element.slots ?? []).map((s) => [s.name ? code(s.name) : '(default)', cell(s.description)]),
    ),
    ...table(
      ['part', 'description'],
      (element.cssParts ?? []).map((p) => [code(p.name), cell(p.description)]),
    ),
    ...table(
      ['CSS custom property', 'default', 'description'],
      (element.cssProperties ?? []).map((p) => [code(p.name), code(p.default), cell(p.description)]),
    ),
  ];
}

export function renderReference(manifest) {
  const lines = [];
  for (const mod of manifest.modules) {
    for (const element of mod.declarations ?? []) {
      if (element.customElement && element.tagName) lines.push(...renderElement(mod, element));
    }
  }
  return lines.join('\n').trimEnd();
}

/**
 * The block formatted as the project's Prettier setup would format the doc (unless it ignores
 * the doc), so that formatting docs/ never makes the committed doc differ from this script's.
 */
async function formatted(markdown) {
  const prettier = await import('prettier');
  if ((await prettier.getFileInfo(docPath, { ignorePath: '.prettierignore' })).ignored) return markdown;
  const options = (await prettier.resolveConfig(docPath)) ?? {};
  return (await prettier.format(markdown, { ...options, filepath: docPath })).trimEnd();
}

/** `doc` with the block between the markers replaced; throws when the markers are missing. */
export async function withReference(doc, manifest) {
  const from = doc.indexOf(begin);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${docPath} lacks the markers of the generated element reference:\n${begin}\n${end}`);
  const block = await formatted(renderReference(manifest));
  return `${doc.slice(0, from + begin.length)}\n\n${block}\n\n${doc.slice(to)}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const check = process.argv.includes('--check');
  const source = process.argv.slice(2).find((a) => !a.startsWith('--'));
  const manifest = source ? JSON.parse(readFileSync(source, 'utf8')) : await analyzeElements();
  const doc = readFileSync(docPath, 'utf8');
  const next = await withReference(doc, manifest);
  if (next === doc) {
    if (check) console.log(`${docPath}: the element reference matches the elements' JSDoc`);
  } else if (check) {
    const line = doc.split('\n').findIndex((l, i) => l !== next.split('\n')[i]) + 1;
    console.error(
      `${docPath} differs from the elements' JSDoc from line ${line} on.\n` +
        'Regenerate it with `node scripts/element-docs.mjs` (or `npm run build`) and commit it.',
    );
    process.exitCode = 1;
  } else {
    writeFileSync(docPath, next);
    console.log(`${docPath}: element reference regenerated`);
  }
}
