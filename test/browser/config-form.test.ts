import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import { sendKeys, setViewport } from '@web/test-runner-commands';
import '../../src/elements/config-form/define.js';
import type { FieldOption, PlugConfigForm } from '../../src/elements/config-form/config-form.js';

// The page JSON comes from the real SDK (test/browser/fixtures/make-config-page.ts writes it):
// the SDK imports full zod, which these browser tests keep out.
let page: Record<string, unknown>;
before(async () => {
  const res = await fetch(new URL('./fixtures/config-page.json', import.meta.url));
  page = ((await res.json()) as { schema: Record<string, unknown> }).schema;
});

type Call = { source: string; query: string; config: Record<string, unknown> };

const WORKSPACES: FieldOption[] = [
  { value: 'w1', label: 'Acme' },
  { value: 'w2', label: 'Globex' },
  { value: 'w3', label: 'Initech' },
];
const CHANNELS: Record<string, FieldOption[]> = {
  w1: [
    { value: 'c1', label: '#general' },
    { value: 'shared', label: '#shared' },
  ],
  w2: [
    { value: 'c2', label: '#sales' },
    { value: 'shared', label: '#shared' },
  ],
  w3: [{ value: 'shared', label: '#shared' }],
};

/** A data source like the server's: filters by the query, channels depend on the workspace. */
function dataSource(calls: Call[]) {
  return async (source: string, query: string, config: Record<string, unknown>): Promise<FieldOption[]> => {
    calls.push({ source, query, config });
    const all =
      source === 'workspaces'
        ? WORKSPACES
        : source === 'channels'
          ? (CHANNELS[String(config.workspace)] ?? [])
          : [
              { value: 'l1', label: 'Bug' },
              { value: 'l2', label: 'Feature' },
            ];
    return all.filter((o) => o.label.toLowerCase().includes(query.toLowerCase()));
  };
}

async function mount(props: Partial<PlugConfigForm> = {}): Promise<PlugConfigForm> {
  const el = await fixture<PlugConfigForm>(html`<plug-config-form></plug-config-form>`);
  Object.assign(el, { schema: page, ...props });
  await el.updateComplete;
  return el;
}

const $ = <T extends Element = HTMLElement>(el: PlugConfigForm, sel: string): T => {
  const found = el.shadowRoot!.querySelector<T>(sel);
  if (!found) throw new Error(`nothing matches ${sel}`);
  return found;
};
const field = <T extends Element = HTMLInputElement>(el: PlugConfigForm, name: string): T => $<T>(el, `[data-field="${name}"]`);
const errorOf = (el: PlugConfigForm, name: string): string => {
  const input = field(el, name);
  const ids = (input.getAttribute('aria-describedby') ?? input.closest('fieldset')?.getAttribute('aria-describedby') ?? '').split(' ');
  const err = ids.map((id) => el.shadowRoot!.getElementById(id)).find((n) => n?.getAttribute('part') === 'error');
  return err?.textContent?.trim() ?? '';
};
const statusOf = (el: PlugConfigForm, name: string): string => field(el, name).closest('.picker')!.querySelector('[role="status"]')!.textContent!.trim();

async function typeInto(el: PlugConfigForm, name: string, text: string): Promise<void> {
  field(el, name).focus();
  await sendKeys({ type: text });
  await el.updateComplete;
}

describe('<plug-config-form>', () => {
  it('renders every field kind of the SDK with labels, help, placeholders and required marks', async () => {
    const el = await mount();
    const label = (name: string) => {
      const input = field(el, name);
      const legend = input.closest('fieldset')?.querySelector('legend');
      return (legend ?? input.labels![0]!).textContent!.replace(/\s+/g, ' ').trim();
    };
    expect(label('name')).to.equal('Name*');
    expect(field(el, 'name').type).to.equal('text');
    expect(field(el, 'name').required).to.be.true;
    expect(field(el, 'name').maxLength).to.equal(40);
    expect(field(el, 'name').placeholder).to.equal('My sync');
    expect(el.shadowRoot!.getElementById(field(el, 'name').getAttribute('aria-describedby')!.split(' ')[0]!)!.textContent).to.equal('Shown in reports.');

    expect(field(el, 'notes').localName).to.equal('textarea');
    expect(label('notes')).to.equal('Notes');
    expect(field(el, 'notes').required).to.be.false;

    expect(field(el, 'token').type).to.equal('password');
    expect(field(el, 'token').getAttribute('autocomplete')).to.equal('off');

    const batch = field(el, 'batchSize');
    expect([batch.type, batch.min, batch.max, batch.step, batch.value]).to.deep.equal(['number', '1', '100', '1', '10']);

    expect(field(el, 'enabled').type).to.equal('checkbox');
    expect(field(el, 'enabled').getAttribute('role')).to.equal('switch');
    expect(label('enabled')).to.equal('Send notifications');

    // two options: radios; five: a select
    const radios = [...el.shadowRoot!.querySelectorAll<HTMLInputElement>('fieldset[data-kind="choice"] input[type="radio"]')];
    expect(radios.map((r) => r.parentElement!.textContent!.trim())).to.deep.equal(['Europe', 'United States']);
    expect(label('region')).to.equal('Region*');
    const level = field<HTMLSelectElement>(el, 'level');
    expect(level.localName).to.equal('select');
    expect([...level.options].map((o) => o.textContent)).to.deep.equal(['Choose…', 'trace', 'debug', 'info', 'warn', 'error']);
    expect(level.value).to.equal('info');

    const events = [...el.shadowRoot!.querySelectorAll<HTMLInputElement>('fieldset[data-kind="multiChoice"] input[type="checkbox"]')];
    expect(events.map((c) => c.value)).to.deep.equal(['created', 'updated', 'deleted']);

    expect(field(el, 'endpoint').type).to.equal('url');
    expect(field(el, 'endpoint').placeholder).to.equal('https://example.com/hook');
    expect(field(el, 'contact').type).to.equal('email');
    expect(field(el, 'mapping').localName).to.equal('textarea');

    for (const name of ['workspace', 'channel', 'labels']) expect(field(el, name).getAttribute('role')).to.equal('combobox');
    expect(field(el, 'channel').disabled).to.be.true;
    expect(el.shadowRoot!.textContent).to.include('Fill in Workspace first.');
    // field order follows x-plug-order
    const order = [...el.shadowRoot!.querySelectorAll('[data-field]')].map((n) => n.getAttribute('data-field'));
    expect(order).to.deep.equal(page['x-plug-order'] as string[]);
  });

  it('gives values back with their types, and takes them round trip', async () => {
    const value = {
      name: 'Nightly sync',
      notes: 'two\nlines',
      batchSize: 25,
      enabled: true,
      region: 'us',
      level: 'warn',
      events: ['created', 'deleted'],
      endpoint: 'https://example.com/hook',
      contact: 'ops@example.com',
      mapping: { id: ['a', 1], nested: { ok: true } },
      workspace: 'w1',
      channel: 'c1',
      labels: ['l1', 'l2'],
    };
    const el = await mount({ value, loadOptions: dataSource([]) });
    // A JSON field comes back as its JSON text: the SDK's field.json parses it on the server.
    expect(el.value).to.deep.equal({ ...value, mapping: JSON.stringify(value.mapping, null, 2) });

    // the user edits: values keep their types
    field(el, 'batchSize').select();
    await typeInto(el, 'batchSize', '42');
    expect(el.value.batchSize).to.equal(42);
    field(el, 'enabled').click();
    expect(el.value.enabled).to.equal(false);
    $<HTMLInputElement>(el, 'fieldset[data-kind="multiChoice"] input[value="updated"]').click();
    expect(el.value.events).to.deep.equal(['created', 'deleted', 'updated']);
    $<HTMLInputElement>(el, 'fieldset[data-kind="choice"] input[value="eu"]').click();
    expect(el.value.region).to.equal('eu');

    // emptied optional fields leave the value
    field(el, 'endpoint').select();
    await sendKeys({ press: 'Backspace' });
    expect(el.value).not.to.have.property('endpoint');

    // JSON: sent as text when valid; invalid text is flagged and kept as text for the server to refuse
    const mapping = field<HTMLTextAreaElement>(el, 'mapping');
    mapping.select();
    await typeInto(el, 'mapping', '{"a": ');
    expect(el.checkValidity()).to.be.false;
    expect(el.value.mapping).to.equal('{"a": ');
    field(el, 'name').focus(); // commit
    await el.updateComplete;
    expect(errorOf(el, 'mapping')).to.equal('Enter valid JSON.');
    expect(mapping.getAttribute('aria-invalid')).to.equal('true');
    await typeInto(el, 'mapping', '2}');
    expect(el.value.mapping).to.equal('{"a": 2}');
    expect(errorOf(el, 'mapping')).to.equal('');
    // A value that is itself a JSON string keeps its quotes, so the server's parse gives back "hello".
    mapping.select();
    await typeInto(el, 'mapping', '"hello"');
    expect(el.value.mapping).to.equal('"hello"');
    field(el, 'name').focus(); // commit
    await el.updateComplete;
    expect(errorOf(el, 'mapping')).to.equal('');
    expect(mapping.getAttribute('aria-invalid')).to.equal('false');

    // code sets a value: it replaces the edits
    el.value = { name: 'Other' };
    await el.updateComplete;
    expect(el.value).to.deep.equal({ name: 'Other', batchSize: 10, enabled: false, level: 'info', events: [], labels: [] });
  });

  it('never shows a secret: a stored one says "set", a typed one is in the value only', async () => {
    const el = await mount({ value: { name: 'x' }, secretsSet: ['token'] });
    const token = field(el, 'token');
    expect(token.value).to.equal('');
    expect(token.required).to.be.false;
    const noteId = token
      .getAttribute('aria-describedby')!
      .split(' ')
      .find((id) => id.endsWith('-set'))!;
    expect(el.shadowRoot!.getElementById(noteId)!.textContent).to.equal('Set — type to replace');
    expect(el.value).not.to.have.property('token');

    await typeInto(el, 'token', 'new-key');
    expect(el.value.token).to.equal('new-key');
    expect(el.shadowRoot!.textContent).not.to.include('Set — type to replace');
    // a secret that is not stored is required
    el.secretsSet = [];
    el.value = {};
    await el.updateComplete;
    expect(field(el, 'token').required).to.be.true;

    // a typed secret handed back through `value` (wizard pages) is kept but never put in the DOM
    el.value = { name: 'x', token: 'TYPED-EARLIER' };
    await el.updateComplete;
    for (const input of el.shadowRoot!.querySelectorAll('input, textarea')) {
      expect((input as HTMLInputElement).value).not.to.include('TYPED-EARLIER');
    }
    expect(el.shadowRoot!.innerHTML).not.to.include('TYPED-EARLIER');
    expect(el.shadowRoot!.textContent).to.include('Set — type to replace');
    expect(field(el, 'token').required).to.be.false;
    expect(el.value.token).to.equal('TYPED-EARLIER');
    await typeInto(el, 'token', 'newer');
    expect(el.value.token).to.equal('newer');
  });

  it('keeps edited-away server messages retired when the host passes an equal errors array', async () => {
    const el = await mount({ errors: [{ path: 'name', message: 'Taken' }] });
    expect(errorOf(el, 'name')).to.equal('Taken');
    await typeInto(el, 'name', 'x');
    expect(errorOf(el, 'name')).to.equal('');
    el.errors = [{ path: 'name', message: 'Taken' }];
    await el.updateComplete;
    expect(errorOf(el, 'name')).to.equal('');
    el.errors = [{ path: 'name', message: 'Still taken' }];
    await el.updateComplete;
    expect(errorOf(el, 'name')).to.equal('Still taken');
  });

  it("puts the server's 422 messages on their fields, and the rest above the form", async () => {
    const el = await mount({ value: { name: 'ok', region: 'eu', workspace: 'w1', channel: 'gone' }, loadOptions: dataSource([]) });
    el.errors = [
      { path: 'channel', message: 'Channel gone was deleted' },
      { path: 'config.batchSize', message: 'Batch size must be at most 100' },
      { path: 'connections.slack', message: 'Connect Slack first' },
    ];
    await el.updateComplete;
    const channel = field(el, 'channel');
    expect(channel.getAttribute('aria-invalid')).to.equal('true');
    expect(errorOf(el, 'channel')).to.equal('Channel gone was deleted');
    expect(errorOf(el, 'batchSize')).to.equal('Batch size must be at most 100');
    expect(field(el, 'name').getAttribute('aria-invalid')).to.equal('false');
    expect($(el, '[role="alert"]').textContent).to.include('Connect Slack first');

    // the first field with a problem gets focus
    expect(el.reportValidity()).to.be.false; // token is required and empty
    expect(el.shadowRoot!.activeElement).to.equal(field(el, 'token'));
    el.secretsSet = ['token'];
    await el.updateComplete;
    expect(el.reportValidity()).to.be.true;
    expect(el.shadowRoot!.activeElement).to.equal(field(el, 'batchSize'));

    // editing a field retires its server message; the others stay
    await typeInto(el, 'batchSize', '0');
    expect(errorOf(el, 'batchSize')).to.equal('');
    expect(errorOf(el, 'channel')).to.equal('Channel gone was deleted');
  });

  it('reportValidity shows its messages on required fields and focuses the first', async () => {
    const el = await mount({ loadOptions: dataSource([]) });
    expect(el.checkValidity()).to.be.false;
    expect(errorOf(el, 'name')).to.equal(''); // nothing shown before the user tries
    expect(el.reportValidity()).to.be.false;
    await el.updateComplete;
    expect(el.shadowRoot!.activeElement).to.equal(field(el, 'name'));
    expect(field(el, 'name').getAttribute('aria-invalid')).to.equal('true');
    expect(errorOf(el, 'name')).to.equal('Fill in this field.');
    expect(field(el, 'name').validationMessage).to.equal('Fill in this field.');
    expect(errorOf(el, 'region')).not.to.equal('');
    expect(errorOf(el, 'workspace')).to.equal('Fill in this field.');
    expect(errorOf(el, 'notes')).to.equal('');

    el.value = { name: 'n', token: 't', region: 'eu', workspace: 'w1', channel: 'c1' };
    el.secretsSet = ['token'];
    await el.updateComplete;
    expect(el.checkValidity()).to.be.true;
  });

  it('is form-associated: a host form sees its values and validity', async () => {
    const form = await fixture<HTMLFormElement>(html`<form><plug-config-form></plug-config-form></form>`);
    const el = form.querySelector('plug-config-form')!;
    el.schema = page;
    await el.updateComplete;
    expect(form.checkValidity()).to.be.false;
    expect(el.validity.valueMissing).to.be.true;
    el.value = { name: 'n', region: 'eu', workspace: 'w1', channel: 'c1', events: ['created', 'updated'], mapping: { a: 1 } };
    el.secretsSet = ['token'];
    await el.updateComplete;
    expect(form.checkValidity()).to.be.true;
    const data = new FormData(form);
    expect(data.get('name')).to.equal('n');
    expect(data.getAll('events')).to.deep.equal(['created', 'updated']);
    expect(data.get('mapping')).to.equal('{\n  "a": 1\n}');
    // A stored JSON string ("hello") is shown and sent as "\"hello\"", never as bare text.
    el.value = { ...el.value, mapping: 'hello' };
    await el.updateComplete;
    expect(field<HTMLTextAreaElement>(el, 'mapping').value).to.equal('"hello"');
    expect(el.value.mapping).to.equal('"hello"');
    expect(data.get('batchSize')).to.equal('10');
    expect(data.has('token')).to.be.false;
  });

  it('follows its form: Enter submits, reset restores, a disabled fieldset disables it', async () => {
    const form = await fixture<HTMLFormElement>(html`<form><fieldset><plug-config-form></plug-config-form></fieldset></form>`);
    const el = form.querySelector('plug-config-form')!;
    Object.assign(el, { schema: page, secretsSet: ['token'], value: { name: 'n', region: 'eu', workspace: 'w1', channel: 'c1' } });
    await el.updateComplete;
    let submitted = 0;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      submitted++;
    });
    await typeInto(el, 'name', 'ew');
    await sendKeys({ press: 'Enter' });
    expect(submitted).to.equal(1);
    expect(el.value.name).to.equal('new');

    form.reset();
    await el.updateComplete;
    expect(el.value.name).to.equal('n');
    expect(field(el, 'name').value).to.equal('n');

    form.querySelector('fieldset')!.disabled = true;
    await el.updateComplete;
    expect(field(el, 'name').disabled).to.be.true;
    expect(field(el, 'workspace').disabled).to.be.true;
  });

  it('takes its look from the host page tokens', async () => {
    const el = await mount({ errors: [{ path: 'name', message: 'Bad' }] });
    const error = () => getComputedStyle(el.shadowRoot!.getElementById(`${field(el, 'name').id}-error`)!).color;
    const before = error();
    el.style.setProperty('--plug-color-danger', 'rgb(1, 2, 3)');
    el.style.setProperty('--plug-config-form-input-border-color', 'rgb(4, 5, 6)');
    expect(before).not.to.equal('rgb(1, 2, 3)');
    expect(error()).to.equal('rgb(1, 2, 3)');
    expect(getComputedStyle(field(el, 'notes')).borderTopColor).to.equal('rgb(4, 5, 6)');
  });

  it('fires input on each edit and change on commit, never when code sets values', async () => {
    const el = await mount();
    const seen: string[] = [];
    const record = (e: Event) => {
      expect(e.bubbles && e.composed).to.be.true;
      expect(e.target).to.equal(el);
      seen.push(e.type);
    };
    document.addEventListener('input', record);
    document.addEventListener('change', record);
    try {
      el.value = { name: 'set by code' };
      el.errors = [{ path: 'name', message: 'bad' }];
      await el.updateComplete;
      expect(seen).to.deep.equal([]);
      field(el, 'name').select();
      await typeInto(el, 'name', 'ab');
      expect(seen).to.deep.equal(['input', 'input']);
      field(el, 'notes').focus(); // blur commits
      expect(seen).to.deep.equal(['input', 'input', 'change']);
      field(el, 'enabled').click();
      expect(seen.slice(3)).to.deep.equal(['input', 'change']);
    } finally {
      document.removeEventListener('input', record);
      document.removeEventListener('change', record);
    }
  });

  describe('picker', () => {
    it('searches with the typed query and only the fields it depends on, debounced, secrets left out', async () => {
      const calls: Call[] = [];
      const el = await mount({ value: { name: 'n' }, loadOptions: dataSource(calls) });
      await typeInto(el, 'token', 'typed-secret');
      await typeInto(el, 'workspace', 'gl');
      await waitUntil(() => calls.length > 0 && el.shadowRoot!.querySelector('[role="option"]'), 'options shown');
      expect(calls.map((c) => [c.source, c.query])).to.deep.equal([['workspaces', 'gl']]);
      // The server takes unsaved values only for the fields a picker depends on: the workspace picker has none.
      expect(calls[0]!.config).to.deep.equal({});
      const input = field(el, 'workspace');
      expect(input.getAttribute('aria-expanded')).to.equal('true');
      const listbox = el.shadowRoot!.getElementById(input.getAttribute('aria-controls')!)!;
      expect(listbox.getAttribute('role')).to.equal('listbox');
      expect([...listbox.querySelectorAll('[role="option"]')].map((o) => o.textContent!.trim())).to.deep.equal(['Globex']);
      expect(statusOf(el, 'workspace')).to.equal('1 option');
    });

    it('works from the keyboard: arrows, Enter picks, Escape closes without picking', async () => {
      const el = await mount({ loadOptions: dataSource([]) });
      const seen: string[] = [];
      el.addEventListener('input', () => seen.push('input'));
      el.addEventListener('change', () => seen.push('change'));
      const input = field(el, 'workspace');
      input.focus();
      await sendKeys({ press: 'ArrowDown' });
      await waitUntil(() => el.shadowRoot!.querySelectorAll('[role="option"]').length === 3, 'three options');
      expect(seen).to.deep.equal([]);
      await sendKeys({ press: 'ArrowDown' });
      await sendKeys({ press: 'ArrowDown' });
      await el.updateComplete;
      const active = el.shadowRoot!.getElementById(input.getAttribute('aria-activedescendant')!)!;
      expect(active.textContent!.trim()).to.equal('Globex');
      await sendKeys({ press: 'Escape' });
      await el.updateComplete;
      expect(input.getAttribute('aria-expanded')).to.equal('false');
      expect(el.value).not.to.have.property('workspace');

      await sendKeys({ press: 'ArrowDown' });
      await waitUntil(() => el.shadowRoot!.querySelector('[role="option"]'), 'reopened');
      await sendKeys({ press: 'ArrowUp' }); // wraps to the last
      await sendKeys({ press: 'Enter' });
      await el.updateComplete;
      expect(el.value.workspace).to.equal('w3');
      expect(input.value).to.equal('Initech');
      expect(input.getAttribute('aria-expanded')).to.equal('false');
      expect(seen).to.deep.equal(['input', 'change']);
      expect(el.shadowRoot!.activeElement).to.equal(input);
      // the dependent picker is now enabled
      expect(field(el, 'channel').disabled).to.be.false;
    });

    it('multiple: Enter toggles options, chips show them and remove them', async () => {
      const el = await mount({ loadOptions: dataSource([]) });
      field(el, 'labels').focus();
      await sendKeys({ press: 'ArrowDown' });
      await waitUntil(() => el.shadowRoot!.querySelector('[role="listbox"][aria-multiselectable="true"]'), 'list');
      await sendKeys({ press: 'ArrowDown' });
      await sendKeys({ press: 'Enter' });
      await sendKeys({ press: 'ArrowDown' });
      await sendKeys({ press: 'Enter' });
      await el.updateComplete;
      expect(el.value.labels).to.deep.equal(['l1', 'l2']);
      expect([...el.shadowRoot!.querySelectorAll('[part="chip"] span')].map((c) => c.textContent)).to.deep.equal(['Bug', 'Feature']);
      $<HTMLButtonElement>(el, '[aria-label="Remove Bug"]').click();
      await el.updateComplete;
      expect(el.value.labels).to.deep.equal(['l2']);
    });

    it('reloads when a field it depends on changes, and clears a choice that no longer exists', async () => {
      const calls: Call[] = [];
      const el = await mount({ value: { workspace: 'w1', channel: 'c1' }, loadOptions: dataSource(calls) });
      // labels for values set by code come from one unfiltered load
      await waitUntil(() => field(el, 'channel').value === '#general', 'channel label shown');
      calls.length = 0;

      const pick = async (label: string) => {
        field(el, 'workspace').focus();
        await sendKeys({ press: 'ArrowDown' });
        await waitUntil(() => el.shadowRoot!.querySelector('[role="option"]'), 'workspace options');
        [...el.shadowRoot!.querySelectorAll<HTMLElement>('[role="option"]')].find((o) => o.textContent!.trim() === label)!.click();
        await el.updateComplete;
      };
      await pick('Globex');
      await waitUntil(() => !('channel' in el.value), 'c1 is not a channel of w2: cleared');
      const reload = calls.find((c) => c.source === 'channels')!;
      expect(reload.query).to.equal('');
      expect(reload.config).to.deep.equal({ workspace: 'w2' });
      expect(errorOf(el, 'channel')).to.equal('Fill in this field.');

      // a choice that exists in both workspaces stays
      el.value = { workspace: 'w1', channel: 'shared' };
      await el.updateComplete;
      calls.length = 0;
      await pick('Initech');
      await waitUntil(() => calls.some((c) => c.source === 'channels'), 'channels reloaded');
      await el.updateComplete;
      expect(el.value.channel).to.equal('shared');

      // with its dependency empty the picker is disabled and says why
      el.value = {};
      await el.updateComplete;
      expect(field(el, 'channel').disabled).to.be.true;
      expect(field(el, 'channel').getAttribute('aria-describedby')).to.match(/-deps/);
    });

    it('shows loading, then an error with a retry that loads again', async () => {
      let release!: (options: FieldOption[]) => void;
      let fail = true;
      const el = await mount({
        loadOptions: () =>
          fail
            ? Promise.reject(new Error('502'))
            : new Promise<FieldOption[]>((resolve) => {
                release = resolve;
              }),
      });
      field(el, 'workspace').focus();
      await sendKeys({ press: 'ArrowDown' });
      await waitUntil(() => statusOf(el, 'workspace') === 'Options could not be loaded.', 'error state');
      fail = false;
      $<HTMLButtonElement>(el, '.retry').click();
      await el.updateComplete;
      expect(statusOf(el, 'workspace')).to.equal('Loading options…');
      expect(el.shadowRoot!.activeElement).to.equal(field(el, 'workspace'));
      release([]);
      await waitUntil(() => statusOf(el, 'workspace') === 'No options', 'empty state');
      field(el, 'name').focus();
      await el.updateComplete;
      expect(statusOf(el, 'workspace')).to.equal(''); // closed on blur
    });
  });

  describe('accessibility', () => {
    it('passes axe by default', async () => {
      const el = await mount({ secretsSet: ['token'] });
      await expect(el).to.be.accessible();
    });

    it('passes axe with errors shown', async () => {
      const el = await mount({
        errors: [
          { path: 'channel', message: 'Gone' },
          { path: 'other', message: 'Elsewhere' },
        ],
      });
      el.reportValidity();
      await el.updateComplete;
      await expect(el).to.be.accessible();
    });

    it("gives a phone 44 px options to tap, on a host page with a smaller root font (Acme's 15 px)", async () => {
      document.documentElement.style.fontSize = '15px';
      await setViewport({ width: 375, height: 667 });
      try {
        const el = await mount({ loadOptions: dataSource([]) });
        field(el, 'workspace').focus();
        await sendKeys({ press: 'ArrowDown' });
        const options = () => [...el.shadowRoot!.querySelectorAll<HTMLElement>('[role="option"]')];
        await waitUntil(() => options().length === WORKSPACES.length, 'the list opens');
        for (const option of options()) expect(option.getBoundingClientRect().height, option.textContent!.trim()).to.be.at.least(44);
      } finally {
        document.documentElement.style.fontSize = '';
        await setViewport({ width: 800, height: 600 });
      }
    });

    it('gives a switch a 44 px row to tap on a phone: its label, which toggles it', async () => {
      await setViewport({ width: 375, height: 667 });
      try {
        const el = await mount();
        const input = field(el, 'enabled');
        const label = $(el, `label[for="${input.id}"]`);
        const row =
          Math.max(input.getBoundingClientRect().bottom, label.getBoundingClientRect().bottom) -
          Math.min(input.getBoundingClientRect().top, label.getBoundingClientRect().top);
        expect(row, 'the switch and its label').to.be.at.least(44);
        const before = input.checked;
        label.click();
        expect(input.checked).to.equal(!before);
      } finally {
        await setViewport({ width: 800, height: 600 });
      }
    });

    it('passes axe with a picker open', async () => {
      const el = await mount({ loadOptions: dataSource([]) });
      field(el, 'workspace').focus();
      await sendKeys({ press: 'ArrowDown' });
      await sendKeys({ press: 'ArrowDown' });
      await waitUntil(() => field(el, 'workspace').getAttribute('aria-activedescendant'), 'open with an active option');
      await expect(el).to.be.accessible();
    });
  });

  describe('a field kind this build does not know (a newer server)', () => {
    const schema = {
      type: 'object',
      properties: {
        name: { type: 'string', title: 'Name', 'x-plug-kind': 'text' },
        when: { type: 'string', title: 'Send at', description: 'Local time.', 'x-plug-kind': 'datetime' },
        layout: { type: 'object', title: 'Layout', 'x-plug-kind': 'canvas' },
      },
      required: ['name', 'when'],
      'x-plug-order': ['name', 'when', 'layout'],
    };
    const unsupported = (el: PlugConfigForm, name: string) => {
      const group = [...el.shadowRoot!.querySelectorAll<HTMLElement>('[data-kind="unsupported"]')].find(
        (g) =>
          el.shadowRoot!.getElementById(g.getAttribute('aria-labelledby')!)!.textContent!.replace(/\*/, '').trim() === schema.properties[name as 'when'].title,
      );
      if (!group) throw new Error(`no unsupported note for ${name}`);
      return group;
    };

    it('says so in an accessible note instead of guessing a text input', async () => {
      const el = await mount({ schema });
      // (counts, not nodes: a failing assertion on a DOM node stalls the runner's serializer)
      expect(el.shadowRoot!.querySelectorAll('[data-field="when"], [data-field="layout"]').length).to.equal(0);
      const when = unsupported(el, 'when');
      expect(when.getAttribute('role')).to.equal('group');
      expect(when.getAttribute('data-declared-kind')).to.equal('datetime');
      const described = when
        .getAttribute('aria-describedby')!
        .split(' ')
        .map((id) => el.shadowRoot!.getElementById(id)!.textContent!.trim());
      expect(described).to.include('This setting can’t be edited here yet. Its current value is kept.');
      expect(described).to.include('Local time.');
      expect(unsupported(el, 'layout').textContent).to.include('can’t be edited here yet');
      await expect(el).to.be.accessible();
    });

    it('keeps the stored value as it is and does not block the form', async () => {
      const stored = { name: 'n', when: '2030-01-02T03:04', layout: { columns: [1, 2] } };
      const el = await mount({ schema, value: stored });
      expect(el.value).to.deep.equal(stored);
      await typeInto(el, 'name', 'ew');
      expect(el.value).to.deep.equal({ ...stored, name: 'new' });
      el.value = { name: 'n' };
      await el.updateComplete;
      expect(el.value).to.deep.equal({ name: 'n' });
      expect(el.checkValidity()).to.be.true; // the server decides about what this page cannot show
    });

    it("shows the server's message on it and reportValidity takes focus there", async () => {
      const el = await mount({ schema, value: { name: 'n' }, errors: [{ path: 'config.when', message: 'Pick a time' }] });
      const when = unsupported(el, 'when');
      const error = when
        .getAttribute('aria-describedby')!
        .split(' ')
        .map((id) => el.shadowRoot!.getElementById(id)!)
        .find((n) => n.getAttribute('part') === 'error')!;
      expect(error.textContent!.trim()).to.equal('Pick a time');
      el.reportValidity();
      expect(when.contains(el.shadowRoot!.activeElement), 'focus in the note').to.equal(true);
      await expect(el).to.be.accessible();
    });
  });

  it('renders hostile titles, help, option labels and loaded labels as text', async () => {
    const evil = '<img src=x onerror="window.__pwned=1">';
    const schema = {
      type: 'object',
      properties: {
        a: { type: 'string', title: evil, description: evil, 'x-plug-kind': 'text', 'x-plug-placeholder': evil },
        b: { type: 'string', title: 'B', 'x-plug-kind': 'choice', 'x-plug-options': [{ value: 'v', label: evil }] },
        c: { type: 'string', title: 'C', 'x-plug-kind': 'picker', 'x-plug-data-source': 'src' },
      },
      required: ['a'],
    };
    const el = await mount({
      schema,
      value: { c: 'v' },
      loadOptions: async () => [{ value: 'v', label: evil }],
      errors: [
        { path: 'a', message: evil },
        { path: 'zzz', message: evil },
      ],
    });
    field(el, 'c').focus();
    await sendKeys({ press: 'ArrowDown' });
    await waitUntil(() => el.shadowRoot!.querySelector('[role="option"]'), 'options');
    expect(el.shadowRoot!.querySelector('img')).to.equal(null);
    expect((window as { __pwned?: number }).__pwned).to.equal(undefined);
    expect(el.shadowRoot!.textContent!.split(evil).length - 1).to.be.at.least(5);
  });
});
