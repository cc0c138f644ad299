import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import '../../src/elements/integration-dialog/define.js';
import type { PlugIntegrationDialog } from '../../src/elements/integration-dialog/integration-dialog.js';
import type { Instance, IntegrationDetail } from '../../src/protocol/index.js';
import { button, form, input, root, shown, step, text, toastSettled, type } from './dialog-driver.js';
import { API, FakeApi, instance, json, problem, slackDetail } from './fake-api.js';

/** Like the demo's Northwind connection: an account id with a pattern and a secret key. */
const northwindDetail: IntegrationDetail = {
  ...slackDetail,
  key: 'northwind',
  name: 'Northwind',
  connections: [
    {
      name: 'northwind',
      kind: 'apiKey',
      label: 'Northwind account',
      schema: {
        type: 'object',
        properties: {
          accountId: {
            type: 'string',
            title: 'Account ID',
            pattern: '^nw-\\d{4,10}$',
            'x-plug-kind': 'text',
            'x-plug-placeholder': 'nw-123456',
            description: 'Looks like nw-123456.',
          },
          apiKey: { type: 'string', title: 'API key', writeOnly: true, 'x-plug-kind': 'secret' },
        },
        required: ['accountId', 'apiKey'],
        'x-plug-order': ['accountId', 'apiKey'],
      },
    },
  ],
};

/** The message shown on a field (its `part="error"` description). */
function fieldError(el: PlugIntegrationDialog, field: string): string {
  const ids = (input(el, field).getAttribute('aria-describedby') ?? '').split(' ');
  const node = ids.map((id) => form(el).shadowRoot!.getElementById(id)).find((n) => n?.getAttribute('part') === 'error');
  return node?.textContent?.trim() ?? '';
}

describe('nothing typed is lost', () => {
  let fake: FakeApi;
  let current: Instance;
  beforeEach(() => {
    current = instance({ integrationKey: 'northwind', connections: [{ name: 'northwind', kind: 'apiKey', status: 'missing' }] });
    fake = new FakeApi()
      .on('GET', '/integrations/northwind', northwindDetail)
      .on('GET', '/instances/inst-1', () => json(current))
      .on('POST', '/instances', () => json(current, 201));
  });
  afterEach(() => fake.restore());

  async function openDialog() {
    const el = await fixture<PlugIntegrationDialog>(
      html`<plug-integration-dialog api=${API} token="t" integration-key="northwind" open></plug-integration-dialog>`,
    );
    await shown(el, 'What it needs');
    return el;
  }

  /** Opens the dialog, starts the setup and types the credentials on the Connections step. */
  async function typeCredentials(accountId: string, apiKey: string): Promise<PlugIntegrationDialog> {
    const el = await openDialog();
    button(el, 'Set up').click();
    await step(el, 'Connections');
    await type(el, 'accountId', accountId);
    await type(el, 'apiKey', apiKey);
    return el;
  }

  it('a list that comes from a connection not made yet says to connect it first, rather than "No options"', async () => {
    const withPicker: IntegrationDetail = {
      ...northwindDetail,
      configPages: [
        {
          title: 'Sync',
          schema: {
            type: 'object',
            properties: { owner: { type: 'string', title: 'Owner', 'x-plug-kind': 'picker', 'x-plug-data-source': 'users' } },
            'x-plug-order': ['owner'],
          },
        },
      ],
    };
    fake.on('GET', '/integrations/northwind', withPicker);
    const el = await openDialog();
    button(el, 'Set up').click();
    await step(el, 'Connections');
    button(el, 'Next').click(); // nothing typed: on to the page, the account still not connected
    await step(el, 'Sync');
    await form(el).updateComplete;
    input(el, 'owner').focus();
    await sendKeys({ press: 'ArrowDown' });
    const status = () => form(el).shadowRoot!.querySelector('.picker-status')?.textContent?.trim();
    await waitUntil(() => status() === 'Connect Northwind account first: this list comes from it.', `status: ${status()}`);
    expect(form(el).shadowRoot!.querySelector('.retry')).to.equal(null); // trying again would not help
    expect(fake.calls.filter((c) => c.path.includes('data-sources'))).to.deep.equal([]);
  });

  it('an Account ID failing its pattern keeps both fields and shows our message on the field', async () => {
    const el = await typeCredentials('acme', 'demo_12345678');
    // The click re-renders the dialog (its buttons go busy and back): the fields must survive that.
    button(el, 'Save credentials').click();
    await el.updateComplete;
    await form(el).updateComplete;
    await new Promise((r) => setTimeout(r, 50));
    expect(input(el, 'accountId').value).to.equal('acme');
    expect(input(el, 'apiKey').value).to.equal('demo_12345678');
    const error = form(el).shadowRoot!.querySelector('[part="error"].error')!.textContent!.trim();
    expect(error).to.equal('Use this format: nw-123456.');
    expect(fake.count('PUT', '/instances/inst-1/connections/northwind')).to.equal(0);
  });

  it('"Next" from the connections saves credentials typed but not saved, and stays when they are refused', async () => {
    fake.on('PUT', '/instances/inst-1/connections/northwind', () => {
      current = instance({ integrationKey: 'northwind', connections: [{ name: 'northwind', kind: 'apiKey', status: 'connected' }] });
      return json(current);
    });
    const el = await typeCredentials('nope', 'demo_12345678');
    button(el, 'Next').click();
    await el.updateComplete;
    expect(root(el).querySelector('#step-heading')!.textContent!.trim()).to.equal('Connections');
    expect(input(el, 'accountId').value).to.equal('nope');
    await type(el, 'accountId', 'nw-123456');
    button(el, 'Next').click();
    await step(el, 'Channel');
    const put = fake.calls.find((c) => c.method === 'PUT')!;
    expect(put.body).to.deep.equal({ values: { accountId: 'nw-123456', apiKey: 'demo_12345678' } });
  });

  it('a key the server’s connection test refuses shows its message on that field, and keeps what was typed', async () => {
    fake.on('PUT', '/instances/inst-1/connections/northwind', () =>
      problem(422, {
        detail: 'Northwind account refused these credentials; nothing was saved.',
        errors: [{ path: 'values.apiKey', message: 'The service did not accept this key.' }],
      }),
    );
    const el = await typeCredentials('nw-2048', 'wrong-key');
    button(el, 'Save credentials').click();
    await waitUntil(() => fieldError(el, 'apiKey') !== '', 'the field shows the refusal');
    expect(fake.count('PUT', '/instances/inst-1/connections/northwind')).to.equal(1);
    expect(fieldError(el, 'apiKey')).to.equal('The service did not accept this key.');
    expect(input(el, 'apiKey').getAttribute('aria-invalid')).to.equal('true');
    expect(input(el, 'accountId').value).to.equal('nw-2048');
    expect(input(el, 'apiKey').value).to.equal('wrong-key');
    expect(text(el)).to.contain('Not connected');
    await expect(el).to.be.accessible();
  });

  it('a connection test that could not run (502) says why and keeps what was typed', async () => {
    fake.on('PUT', '/instances/inst-1/connections/northwind', () =>
      problem(502, { detail: 'Northwind account did not answer within 10 s, so the credentials were not checked or saved. Try again.' }),
    );
    const el = await typeCredentials('nw-2048', 'demo_12345678');
    button(el, 'Save credentials').click();
    await shown(el, 'did not answer within 10 s');
    expect(input(el, 'accountId').value).to.equal('nw-2048');
    expect(input(el, 'apiKey').value).to.equal('demo_12345678');
  });

  it('a saved key says who is connected, as the connection’s identify named the account', async () => {
    fake.on('PUT', '/instances/inst-1/connections/northwind', () => {
      current = instance({
        integrationKey: 'northwind',
        connections: [{ name: 'northwind', kind: 'apiKey', status: 'connected', accountName: 'Globex Sales (nw-2048)' }],
      });
      return json(current);
    });
    const el = await typeCredentials('nw-2048', 'demo_12345678');
    button(el, 'Save credentials').click();
    await shown(el, 'Connected as Globex Sales (nw-2048)');
    expect(root(el).querySelector('.connection-head [data-status]')!.textContent!.trim()).to.equal('Connected as Globex Sales (nw-2048)');
    await toastSettled(el); // "Credentials saved."
    await expect(el).to.be.accessible();
  });
});

describe('validation messages are ours', () => {
  let page: Record<string, unknown>;
  before(async () => {
    const res = await fetch(new URL('./fixtures/config-page.json', import.meta.url));
    page = ((await res.json()) as { schema: Record<string, unknown> }).schema;
  });

  it('shows our translatable message for every constraint, never the browser’s', async () => {
    const host = await fixture<HTMLFormElement>(html`<form><plug-config-form></plug-config-form></form>`);
    const el = host.querySelector('plug-config-form')!;
    el.schema = page;
    el.value = { name: 'ok', batchSize: 500, endpoint: 'not a url', contact: 'nobody', region: 'eu', workspace: 'w1', channel: 'c1' };
    el.secretsSet = ['token'];
    await el.updateComplete;
    expect(el.reportValidity()).to.equal(false);
    await el.updateComplete;
    const errorOf = (name: string): string => {
      const input = el.shadowRoot!.querySelector(`[data-field="${name}"]`)!;
      const ids = (input.getAttribute('aria-describedby') ?? '').split(' ');
      return (
        ids
          .map((id) => el.shadowRoot!.getElementById(id))
          .find((n) => n?.getAttribute('part') === 'error')
          ?.textContent?.trim() ?? ''
      );
    };
    expect(errorOf('batchSize')).to.equal('Enter 100 or less.');
    expect(errorOf('endpoint')).to.equal('Enter a web address, like https://example.com.');
    expect(errorOf('contact')).to.equal('Enter an email address, like name@example.com.');
    // The host form's own validation (its bubble) reads the same message.
    expect(el.validationMessage).to.equal('Enter 100 or less.');
    expect(el.shadowRoot!.textContent).not.to.match(/Please|requested format|Value must/);

    el.value = { ...el.value, name: 'ok', batchSize: 0, endpoint: '', contact: '' };
    await el.updateComplete;
    el.reportValidity();
    await el.updateComplete;
    expect(errorOf('batchSize')).to.equal('Enter 1 or more.');

    el.translations = { 'form.min': 'Mindestens {min}.' };
    await el.updateComplete;
    expect(errorOf('batchSize')).to.equal('Mindestens 1.');
  });
});

describe('the wizard saves as the customer goes', () => {
  let fake: FakeApi;
  let current: Instance | undefined;
  beforeEach(() => {
    sessionStorage.clear();
    current = undefined;
    fake = new FakeApi()
      .on('GET', '/integrations/slack', () =>
        json({ ...slackDetail, instance: current ? { id: current.id, status: current.status, updatedAt: current.updatedAt } : null }),
      )
      .on('GET', '/instances/inst-1', () => json(current))
      .on('POST', '/instances', () => {
        current = instance();
        return json(current, 201);
      })
      .on('PUT', '/instances/inst-1/config', (req) => {
        const { config } = req.body as { config: Record<string, unknown> };
        current = instance({
          ...current,
          config,
          version: current!.version + 1,
          blockers: config.template ? [] : [{ path: 'config.template', message: 'Template is required' }],
        });
        return json(current);
      });
  });
  afterEach(() => fake.restore());

  async function openDialog() {
    const el = await fixture<PlugIntegrationDialog>(
      html`<plug-integration-dialog api=${API} token="t" integration-key="slack" open></plug-integration-dialog>`,
    );
    await shown(el, 'What it needs');
    return el;
  }

  /** A new dialog's "Set up", then "Next" past the connections: on the Channel page. */
  async function setUpToChannel(): Promise<PlugIntegrationDialog> {
    const el = await openDialog();
    button(el, 'Set up').click();
    await step(el, 'Connections');
    button(el, 'Next').click();
    await step(el, 'Channel');
    return el;
  }

  it('"Set up" creates nothing on the server: the instance comes with the first save', async () => {
    const el = await openDialog();
    button(el, 'Set up').click();
    await step(el, 'Connections');
    expect(fake.calls.filter((c) => c.method !== 'GET')).to.deep.equal([]);
    expect(root(el).querySelector('.badge')?.textContent?.trim()).to.equal('Available');
    await expect(el).to.be.accessible();

    fake.on('PUT', '/instances/inst-1/connections/slack', () => {
      current = instance({ connections: [{ name: 'slack', kind: 'apiKey', status: 'connected' }] });
      return json(current);
    });
    const created = oneEvent(el, 'plug-instance-created');
    await type(el, 'token', 'xoxb-1');
    button(el, 'Save credentials').click();
    expect((await created).detail.instance.id).to.equal('inst-1');
    await shown(el, 'Connected');
    expect(fake.calls.filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.path}`)).to.deep.equal([
      'POST /instances',
      'PUT /instances/inst-1/connections/slack',
    ]);
  });

  it('"Next" saves the page as a draft, and the wizard reopens where the customer stopped', async () => {
    let el = await setUpToChannel();
    expect(fake.count('POST', '/instances')).to.equal(0); // nothing typed yet, nothing saved
    await type(el, 'channel', '#general');
    button(el, 'Next').click();
    await step(el, 'Message');
    const put = fake.calls.find((c) => c.method === 'PUT' && c.path === '/instances/inst-1/config')!;
    expect(put.body).to.deep.equal({ config: { channel: '#general' }, version: 1 });
    expect(put.headers.get('if-match')).to.equal('"1"');
    expect(current!.config).to.deep.equal({ channel: '#general' });

    // Gone midway: a new dialog (as the marketplace makes one per open) picks up where it stopped.
    el.remove();
    el = await openDialog();
    expect(form(el)).to.equal(null);
    button(el, 'Continue setup').click();
    await step(el, 'Message');

    // Another tab (nothing remembered): the first step with something missing.
    sessionStorage.clear();
    el.remove();
    el = await openDialog();
    button(el, 'Continue setup').click();
    await step(el, 'Message');
    button(el, 'Back').click();
    await step(el, 'Channel');
    expect(input(el, 'channel').value).to.equal('#general');
  });

  it('closing on a page edited since "Next" saves it as a draft, and the wizard reopens with it; an untouched page saves nothing', async () => {
    let el = await setUpToChannel();
    button(el, 'Close').click();
    expect(fake.calls.filter((c) => c.method !== 'GET')).to.deep.equal([]); // only looked: nothing created

    el.remove();
    el = await setUpToChannel();
    await type(el, 'channel', '#deals');
    const saved = oneEvent(el, 'plug-config-saved');
    button(el, 'Close').click();
    expect(el.open).to.equal(false);
    expect((await saved).detail.instance.config).to.deep.equal({ channel: '#deals' });
    expect(fake.calls.filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.path}`)).to.deep.equal(['POST /instances', 'PUT /instances/inst-1/config']);

    // Reopened (a new dialog, as the marketplace makes one per open): the page as it was left.
    el.remove();
    el = await openDialog();
    button(el, 'Continue setup').click();
    await step(el, 'Channel');
    await form(el).updateComplete;
    expect(input(el, 'channel').value).to.equal('#deals');
  });

  it('a refused draft keeps what was typed and shows the server’s message on the field', async () => {
    fake.on('PUT', '/instances/inst-1/config', () =>
      problem(422, {
        type: 'https://plugboard.dev/problems/validation',
        title: 'Invalid configuration',
        errors: [{ path: 'config.channel', message: 'No channel named #nope' }],
      }),
    );
    const el = await setUpToChannel();
    await type(el, 'channel', '#nope');
    button(el, 'Next').click();
    await shown(el, 'One field needs attention.');
    await form(el).updateComplete;
    expect(root(el).querySelector('#step-heading')!.textContent!.trim()).to.equal('Channel');
    expect(input(el, 'channel').value).to.equal('#nope');
    expect(form(el).shadowRoot!.textContent).to.contain('No channel named #nope');
  });
});
