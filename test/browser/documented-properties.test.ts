import { expect, fixture, html } from '@open-wc/testing';
import type { LitElement } from 'lit';
import '../../src/elements/marketplace/define.js';
import '../../src/elements/integration-card/define.js';
import '../../src/elements/integration-dialog/define.js';
import '../../src/elements/config-form/define.js';
import '../../src/elements/connect-button/define.js';
import '../../src/elements/instance-status/define.js';
import '../../src/elements/execution-log/define.js';
import '../../src/elements/provider/define.js';
import '../../src/elements/vendor-console/define.js';

// docs/elements.md is what a vendor reads: each element's attribute and property tables, their
// defaults, and which attribute sets which property. The elements declare their reactive properties
// by hand (`static properties`, `declare` fields, defaults in constructors): a missing entry or
// default breaks the contract silently, so every documented row is checked against the element.

interface Row {
  attribute: string | undefined;
  property: string;
  type: string;
  /** The default cell as written (`'dialog'`, `2`, `[]`), or undefined when the table has none. */
  default: string | undefined;
}

const cell = (s: string): string => s.trim().replace(/^`|`$/g, '').replace(/\\\|/g, '|');

const HEADERS = new Set(['attribute', 'property (no attribute)', 'method', 'returns', 'event', 'part', 'CSS custom property']);

/** Each element's documented attribute and property rows, by tag name. */
function documented(markdown: string): Map<string, Row[]> {
  const byTag = new Map<string, Row[]>();
  let rows: Row[] | undefined;
  let header: string[] = [];
  for (const line of markdown.split('\n')) {
    const tag = /^### `<(plug-[a-z-]+)>`/.exec(line)?.[1];
    if (tag) byTag.set(tag, (rows = []));
    if (!rows || !line.startsWith('|') || line.startsWith('|---')) continue;
    const cells = line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map(cell);
    if (HEADERS.has(cells[0]!)) {
      header = cells;
      continue;
    }
    const at = (name: string): string | undefined => {
      const i = header.indexOf(name);
      return i < 0 ? undefined : cells[i];
    };
    if (header[0] === 'attribute') rows.push({ attribute: at('attribute'), property: at('property')!, type: at('type')!, default: at('default') });
    else if (header[0] === 'property (no attribute)')
      rows.push({ attribute: undefined, property: at('property (no attribute)')!, type: at('type')!, default: at('default') });
  }
  return byTag;
}

/** A documented default cell as a value: empty means undefined. */
function parseDefault(text: string): unknown {
  if (text === '') return undefined;
  if (/^'.*'$/.test(text)) return text.slice(1, -1);
  return JSON.parse(text) as unknown;
}

/** An attribute value of the row's type, other than its default, and the property it should give. */
function sample(row: Row): { attribute: string; property: unknown } {
  if (row.type === 'boolean') return { attribute: '', property: true };
  if (row.type === 'number') return { attribute: '7', property: 7 };
  const named: Record<string, string> = { ConnectionStatus: 'connected', "ExecutionStatus | ''": 'failed' };
  const literals = [...row.type.matchAll(/'([^']+)'/g)].map((m) => m[1]!);
  const value = named[row.type] ?? literals.find((l) => `'${l}'` !== row.default) ?? 'sample-value';
  return { attribute: value, property: value };
}

/** Properties whose attribute follows them (`reflect: true`), the CSS and hosts select on these. */
const REFLECTED: Record<string, string[]> = {
  'plug-integration-card': ['theme'],
  'plug-marketplace': ['theme'],
  'plug-integration-dialog': ['open', 'mode', 'theme'],
  'plug-config-form': ['disabled'],
  'plug-connect-button': ['status', 'disabled', 'compact', 'theme'],
  'plug-instance-status': ['theme'],
  'plug-execution-log': ['status', 'theme'],
  'plug-vendor-console': ['theme'],
};

const docs = documented(await (await fetch('/docs/elements.md')).text());
const READ_ONLY = new Set(['form', 'validity', 'validationMessage', 'value']);

describe('documented properties (docs/elements.md)', () => {
  it('lists every public element', () => {
    expect([...docs.keys()].sort()).to.deep.equal(
      [
        'plug-config-form',
        'plug-connect-button',
        'plug-execution-log',
        'plug-instance-status',
        'plug-integration-card',
        'plug-integration-dialog',
        'plug-marketplace',
        'plug-provider',
        'plug-vendor-console',
      ].sort(),
    );
  });

  for (const [tag, rows] of docs) {
    describe(`<${tag}>`, () => {
      it('has each documented default before it is connected', () => {
        const el = document.createElement(tag) as unknown as Record<string, unknown>;
        for (const row of rows.filter((r) => r.default !== undefined && !READ_ONLY.has(r.property))) {
          expect(el[row.property], `${tag}.${row.property}`).to.deep.equal(parseDefault(row.default!));
        }
      });

      it('sets each documented property from its attribute', () => {
        const el = document.createElement(tag) as unknown as HTMLElement & Record<string, unknown>;
        const withAttribute = rows.filter((r) => r.attribute);
        expect(withAttribute.length + rows.length, tag).to.be.greaterThan(0);
        for (const row of withAttribute) {
          const { attribute, property } = sample(row);
          el.setAttribute(row.attribute!, attribute);
          expect(el[row.property], `${tag} [${row.attribute}] → ${row.property}`).to.equal(property);
          if (row.type === 'boolean') {
            el.removeAttribute(row.attribute!);
            expect(el[row.property], `${tag} no [${row.attribute}] → ${row.property}`).to.equal(false);
          }
        }
      });

      it('reflects the properties hosts select on, and only documented attributes', async () => {
        const el = await fixture<LitElement & Record<string, unknown>>(html`<div></div>`).then((div) => {
          const child = document.createElement(tag) as unknown as LitElement & Record<string, unknown>;
          div.append(child);
          return child;
        });
        await el.updateComplete;
        for (const property of REFLECTED[tag] ?? []) {
          const row = rows.find((r) => r.property === property);
          expect(row?.attribute, `${tag}.${property} documented with an attribute`).to.be.a('string');
          const { attribute, property: value } = sample(row!);
          el[property] = value;
          await el.updateComplete;
          expect(el.getAttribute(row!.attribute!), `${tag}.${property} → [${row!.attribute}]`).to.equal(attribute);
        }
        const observed = (el.constructor as unknown as { observedAttributes: string[] }).observedAttributes;
        expect([...observed].sort(), `${tag} observed attributes`).to.deep.equal(
          rows
            .filter((r) => r.attribute)
            .map((r) => r.attribute!)
            .sort(),
        );
      });
    });
  }
});
