import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { setViewport } from '@web/test-runner-commands';
import '../../src/elements/config-form/define.js';
import type { FieldOption, PlugConfigForm } from '../../src/elements/config-form/config-form.js';
import { OptionsUnavailable } from '../../src/elements/config-form/picker-field.js';
import { deepActiveElement, sendKeys } from './focus.js';

// The page JSON comes from the real SDK (fixtures/make-config-page.ts writes it): a required
// mapping "Contact fields" (CRM field ← Contact field) and an optional "Extra fields" (at most 3).
let page: Record<string, unknown>;
before(async () => {
  const res = await fetch(new URL('./fixtures/mapping-page.json', import.meta.url));
  page = ((await res.json()) as { schema: Record<string, unknown> }).schema;
});

const CRM: FieldOption[] = [
  { value: 'email', label: 'Email' },
  { value: 'firstName', label: 'First name' },
  { value: 'company', label: 'Company' },
];
const CONTACT: FieldOption[] = [
  { value: 'email', label: 'Email address' },
  { value: 'first_name', label: 'Given name' },
  { value: 'account_name', label: 'Account name' },
];

type Load = (source: string, query: string, config: Record<string, unknown>) => Promise<FieldOption[]>;
const lists: Load = async (source) => (source === 'crmFields' ? CRM : CONTACT);

async function mount(props: Partial<PlugConfigForm> = {}): Promise<PlugConfigForm> {
  const el = await fixture<PlugConfigForm>(html`<plug-config-form></plug-config-form>`);
  Object.assign(el, { schema: page, loadOptions: lists, ...props });
  await el.updateComplete;
  return el;
}

const root = (el: PlugConfigForm) => el.shadowRoot!;
/** The mapping's fieldset, found by its legend as a person would. */
function mapping(el: PlugConfigForm, legend: string): HTMLFieldSetElement {
  const found = [...root(el).querySelectorAll<HTMLFieldSetElement>('fieldset')].find((f) => f.querySelector('legend')!.textContent!.includes(legend));
  if (!found) throw new Error(`no mapping "${legend}"`);
  return found;
}
const rows = (set: HTMLFieldSetElement) => [...set.querySelectorAll<HTMLElement>('[role="group"]')];
const select = (row: HTMLElement, side: 'target' | 'source') => row.querySelector<HTMLSelectElement>(`select[data-side="${side}"]`)!;
/** The accessible name of a select: its label's text. */
const labelOf = (el: PlugConfigForm, s: HTMLSelectElement) => root(el).querySelector(`label[for="${s.id}"]`)!.textContent!.trim();
const buttonNamed = (set: HTMLFieldSetElement, name: string) =>
  [...set.querySelectorAll('button')].find((b) => (b.getAttribute('aria-label') ?? b.textContent!.trim()) === name)!;
const loaded = (el: PlugConfigForm) =>
  waitUntil(
    () => [...select(rows(mapping(el, 'Contact fields'))[0]!, 'target').options].some((o) => o.textContent!.trim() === 'First name'),
    'the lists load',
    { timeout: 5000 },
  );

async function choose(el: PlugConfigForm, s: HTMLSelectElement, value: string): Promise<void> {
  s.value = value;
  s.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
  s.dispatchEvent(new Event('change', { bubbles: true, composed: true }));
  await el.updateComplete;
}

const TWO_ROWS = [
  { target: 'email', source: 'email' },
  { target: 'company', source: 'account_name' },
];

describe('<plug-config-form> mapping field', () => {
  afterEach(() => setViewport({ width: 800, height: 600 }));

  it('shows rows of "target ← source" selects with the offered fields, labelled per row, and gives back rows', async () => {
    const el = await mount({ value: { fields: TWO_ROWS } });
    await loaded(el);
    const set = mapping(el, 'Contact fields');
    expect(set.querySelector('legend')!.textContent).to.contain('Contact fields');
    expect(set.textContent).to.contain('Each CRM field is filled from the contact field beside it.');
    const [first, second] = rows(set);
    expect(rows(set)).to.have.length(2);
    expect(first!.getAttribute('aria-label')).to.equal('Row 1');
    expect(labelOf(el, select(first!, 'target'))).to.equal('CRM field');
    expect(labelOf(el, select(first!, 'source'))).to.equal('Contact field');
    expect([...select(first!, 'target').options].map((o) => o.textContent!.trim())).to.deep.equal(['Choose…', 'Email', 'First name', 'Company']);
    expect(select(second!, 'target').selectedOptions[0]!.textContent!.trim()).to.equal('Company');
    expect(select(second!, 'source').selectedOptions[0]!.textContent!.trim()).to.equal('Account name');
    expect(first!.textContent).to.contain('←');
    expect(el.value).to.deep.equal({
      fields: [
        { target: 'email', source: 'email' },
        { target: 'company', source: 'account_name' },
      ],
    });
  });

  it('adds, selects and removes rows as user edits (input and change), blank rows left out of the value', async () => {
    const el = await mount();
    await loaded(el);
    const set = mapping(el, 'Contact fields');
    // A required mapping starts with one row to fill in, which cannot be removed.
    expect(rows(set)).to.have.length(1);
    expect(buttonNamed(set, 'Remove row 1')).to.equal(undefined);
    expect(el.value).to.deep.equal({});

    const changed = oneEvent(el, 'change');
    await choose(el, select(rows(set)[0]!, 'target'), 'email');
    await changed;
    await choose(el, select(rows(set)[0]!, 'source'), 'email');
    buttonNamed(set, '+ Add a field').click();
    await el.updateComplete;
    expect(rows(set)).to.have.length(2);
    await choose(el, select(rows(set)[1]!, 'target'), 'firstName');
    await choose(el, select(rows(set)[1]!, 'source'), 'first_name');
    buttonNamed(set, '+ Add a field').click();
    await el.updateComplete;
    expect(el.value).to.deep.equal({
      fields: [
        { target: 'email', source: 'email' },
        { target: 'firstName', source: 'first_name' },
      ],
    });
    buttonNamed(set, 'Remove row 1').click();
    await el.updateComplete;
    expect(rows(set)).to.have.length(2);
    expect(el.value).to.deep.equal({ fields: [{ target: 'firstName', source: 'first_name' }] });
  });

  it('works from the keyboard: Tab to a select, arrows choose, Enter on "Add" adds a row and focuses it, removing keeps focus in place', async () => {
    const el = await mount();
    await loaded(el);
    const set = mapping(el, 'Contact fields');
    select(rows(set)[0]!, 'target').focus();
    await sendKeys({ press: 'ArrowDown' });
    await el.updateComplete;
    expect(select(rows(set)[0]!, 'target').value).to.equal('email');
    await sendKeys({ press: 'Tab' });
    expect(deepActiveElement()).to.equal(select(rows(set)[0]!, 'source'));
    await sendKeys({ press: 'ArrowDown' });
    await sendKeys({ press: 'Tab' });
    expect(deepActiveElement()).to.equal(buttonNamed(set, '+ Add a field'));
    await sendKeys({ press: 'Enter' });
    await el.updateComplete;
    expect(rows(set)).to.have.length(2);
    expect(deepActiveElement()).to.equal(select(rows(set)[1]!, 'target'), 'the new row’s first select has focus');
    await sendKeys({ down: 'Shift' });
    await sendKeys({ press: 'Tab' });
    await sendKeys({ up: 'Shift' });
    expect(deepActiveElement()).to.equal(buttonNamed(set, 'Remove row 1'));
    await sendKeys({ press: 'Enter' });
    await el.updateComplete;
    expect(rows(set)).to.have.length(1);
    // The row that moved up is row 1 now; the only row of a required mapping has no remove button: focus is on its first select.
    expect(deepActiveElement()).to.equal(select(rows(set)[0]!, 'target'));
    expect(el.value).to.deep.equal({});
  });

  it('validates as the server does, with our own messages on the row: half-filled, duplicate target, not offered', async () => {
    const el = await mount({
      value: {
        fields: [
          { target: 'email', source: 'email' },
          { target: 'email', source: 'first_name' },
          { target: 'phone', source: 'account_name' },
        ],
      },
    });
    await loaded(el);
    const set = mapping(el, 'Contact fields');
    expect(el.checkValidity()).to.equal(false);
    expect(el.validationMessage).to.equal('Fix the marked rows.');
    el.reportValidity();
    await el.updateComplete;
    const [, second, third] = rows(set);
    expect(second!.textContent).to.contain('Email is already filled by another row.');
    expect(select(second!, 'target').getAttribute('aria-invalid')).to.equal('true');
    // The unknown value stays chosen (nothing lost), marked as no longer offered.
    expect(select(third!, 'target').value).to.equal('phone');
    expect(third!.textContent).to.contain('phone is no longer offered. Choose another field.');
    expect(deepActiveElement()).to.equal(select(second!, 'target'), 'reportValidity focuses the first bad cell');
    const error = root(el).getElementById(select(second!, 'target').getAttribute('aria-describedby')!)!;
    expect(error.textContent).to.contain('already filled');

    await choose(el, select(second!, 'target'), 'firstName');
    await choose(el, select(third!, 'target'), 'company');
    await choose(el, select(third!, 'source'), '');
    expect(third!.textContent).to.contain('Choose a field.');
    expect(el.checkValidity()).to.equal(false);
    await choose(el, select(third!, 'source'), 'account_name');
    expect(el.checkValidity()).to.equal(true);
    expect(set.querySelector('[part="error"]:not(:empty)')).to.equal(null);
  });

  it('puts the server’s 422 on the row it names, keeps every choice, and clears it once the field is edited', async () => {
    const value = {
      fields: [
        { target: 'email', source: 'email' },
        { target: 'company', source: 'account_name' },
      ],
    };
    const el = await mount({ value, errors: [{ path: 'config.fields.1.source', message: 'Contact fields: "account_name" is not a field that can be read' }] });
    await loaded(el);
    const set = mapping(el, 'Contact fields');
    const second = rows(set)[1]!;
    expect(second.textContent).to.contain('"account_name" is not a field that can be read');
    expect(select(second, 'source').getAttribute('aria-invalid')).to.equal('true');
    expect(select(rows(set)[0]!, 'source').getAttribute('aria-invalid')).to.equal('false');
    expect(set.textContent).to.contain('Fix the marked rows.');
    expect(el.value).to.deep.equal(value);
    el.reportValidity();
    expect(deepActiveElement()).to.equal(select(second, 'source'));
    await choose(el, select(second, 'source'), 'first_name');
    expect(set.textContent).not.to.contain('can be read');
  });

  it('an optional mapping may be empty: it says so, rows are added up to its maximum', async () => {
    const el = await mount();
    await loaded(el);
    const set = mapping(el, 'Extra fields');
    expect(rows(set)).to.have.length(0);
    expect(set.textContent).to.contain('No fields mapped yet.');
    for (let i = 0; i < 3; i++) buttonNamed(set, '+ Add a field').click();
    await el.updateComplete;
    expect(rows(set)).to.have.length(3);
    expect(buttonNamed(set, '+ Add a field').disabled).to.equal(true);
    expect(el.value).to.deep.equal({}, 'blank rows are not sent');
  });

  it('shows loading, then an error with a retry, and an empty list as such', async () => {
    let fail = true;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const el = await mount({
      loadOptions: async (source) => {
        await gate;
        if (fail) throw new Error('down');
        return source === 'crmFields' ? CRM : [];
      },
    });
    const set = mapping(el, 'Contact fields');
    expect(set.querySelector('[role="status"]')!.textContent).to.contain('Loading fields…');
    release();
    await waitUntil(() => set.textContent!.includes('The fields could not be loaded.'), 'the error shows', { timeout: 5000 });
    fail = false;
    buttonNamed(set, 'Try again').click();
    await waitUntil(() => set.textContent!.includes('There are no fields to map.'), 'the empty state shows', { timeout: 5000 });
    expect(buttonNamed(set, '+ Add a field').disabled).to.equal(true);
  });

  it('a side that loads names its values while the other can’t load yet (its connection not made): labels, not keys', async () => {
    const el = await mount({
      value: { fields: [{ target: 'firstName', source: 'first_name' }] },
      loadOptions: async (source) => {
        if (source === 'crmFields') return CRM;
        throw new OptionsUnavailable('Connect Contacts account first: this list comes from it.');
      },
    });
    const set = mapping(el, 'Contact fields');
    await waitUntil(() => set.textContent!.includes('Connect Contacts account first'), 'the message shows', { timeout: 5000 });
    const row = rows(set)[0]!;
    const target = select(row, 'target');
    expect(target.selectedOptions[0]!.textContent!.trim()).to.equal('First name');
    expect([...target.options].map((o) => o.textContent!.trim())).to.include.members(['Email', 'First name', 'Company']);
    // The side that needs the connection keeps the stored value, selected.
    expect(select(row, 'source').value).to.equal('first_name');
  });

  it('takes its translations', async () => {
    const el = await mount({
      translations: { 'form.mappingAdd': 'Feld hinzufügen', 'form.mappingRow': 'Zeile {number}', 'form.mappingFix': 'Zeilen prüfen.' },
    });
    await loaded(el);
    const set = mapping(el, 'Contact fields');
    expect(buttonNamed(set, '+ Feld hinzufügen')).to.not.equal(undefined);
    expect(rows(set)[0]!.getAttribute('aria-label')).to.equal('Zeile 1');
  });

  it("keeps remove and add at 44 px on a phone whose host page sets a smaller root font (Acme's is 15 px)", async () => {
    document.documentElement.style.fontSize = '15px';
    try {
      await setViewport({ width: 375, height: 800 });
      const el = await mount({ value: { fields: TWO_ROWS } });
      await loaded(el);
      const set = mapping(el, 'Contact fields');
      for (const control of [buttonNamed(set, 'Remove row 1'), buttonNamed(set, '+ Add a field')]) {
        const box = control.getBoundingClientRect();
        expect(box.height, control.outerHTML.slice(0, 60)).to.be.at.least(44);
        expect(box.width, control.outerHTML.slice(0, 60)).to.be.at.least(44);
      }
    } finally {
      document.documentElement.style.fontSize = '';
    }
  });

  it('passes axe (best practices included) with rows, with errors shown, empty, and at phone width with 44 px targets', async () => {
    const axe = { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] };
    const el = await mount({
      value: {
        fields: [
          { target: 'email', source: 'email' },
          { target: 'email', source: '' },
        ],
      },
    });
    await loaded(el);
    await expect(el).to.be.accessible(axe);
    el.reportValidity();
    await el.updateComplete;
    await expect(el).to.be.accessible(axe);

    await setViewport({ width: 375, height: 800 });
    await el.updateComplete;
    const set = mapping(el, 'Contact fields');
    const row = rows(set)[0]!;
    // Stacked: each select under its visible label, full width, and every control a finger's size.
    expect(getComputedStyle(root(el).querySelector(`label[for="${select(row, 'target').id}"]`)!).position).to.equal('static');
    for (const control of [select(row, 'target'), select(row, 'source'), buttonNamed(set, 'Remove row 1'), buttonNamed(set, '+ Add a field')]) {
      const box = control.getBoundingClientRect();
      expect(box.height, control.outerHTML.slice(0, 60)).to.be.at.least(44);
      expect(box.right).to.be.at.most(375);
    }
    expect(select(row, 'source').getBoundingClientRect().top).to.be.greaterThan(select(row, 'target').getBoundingClientRect().bottom - 1);
    await expect(el).to.be.accessible(axe);
  });
});
