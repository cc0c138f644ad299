// An OAuth connection that needs something before signing in (a Shopify-like shop name, the
// customer's own OAuth app): the wizard shows the fields above Connect, checks them with our own
// messages, sends them with the authorize request, and keeps what was typed when it is refused.
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import '../../src/elements/integration-dialog/define.js';
import type { PlugIntegrationDialog } from '../../src/elements/integration-dialog/integration-dialog.js';
import type { Instance, IntegrationDetail } from '../../src/protocol/index.js';
import { form, input, root, shown, step, type, button } from './dialog-driver.js';
import { API, FakeApi, instance, json, problem, slackDetail } from './fake-api.js';

const shopDetail: IntegrationDetail = {
  ...slackDetail,
  key: 'shop',
  name: 'Shop',
  connections: [
    {
      name: 'store',
      kind: 'oauth2',
      label: 'Shopify',
      schema: {
        type: 'object',
        properties: {
          shop: {
            type: 'string',
            title: 'Shop name',
            pattern: '^[A-Za-z0-9](?:[A-Za-z0-9\\-]{0,61}[A-Za-z0-9])?$',
            description: 'The part before .myshopify.com.',
            'x-plug-kind': 'text',
            'x-plug-placeholder': 'acme-store',
          },
          clientId: { type: 'string', title: 'Client ID', 'x-plug-kind': 'text' },
          clientSecret: { type: 'string', title: 'Client secret', writeOnly: true, 'x-plug-kind': 'secret' },
        },
        required: ['shop'],
        'x-plug-order': ['shop', 'clientId', 'clientSecret'],
      },
    },
  ],
};

const POPUP = new URL('/test/browser/fixtures/oauth-popup.html', location.href);

describe('OAuth connection fields', () => {
  let fake: FakeApi;
  let current: Instance;
  beforeEach(() => {
    current = instance({ integrationKey: 'shop', connections: [{ name: 'store', kind: 'oauth2', status: 'missing' }] });
    fake = new FakeApi()
      .on('GET', '/integrations/shop', shopDetail)
      .on('GET', '/instances/inst-1', () => json(current))
      .on('POST', '/instances', () => json(current, 201));
  });
  afterEach(() => fake.restore());

  async function openConnections() {
    const el = await fixture<PlugIntegrationDialog>(html`<plug-integration-dialog api=${API} token="t" integration-key="shop" open></plug-integration-dialog>`);
    await shown(el, 'What it needs');
    button(el, 'Set up').click();
    await step(el, 'Connections');
    await form(el).updateComplete;
    return el;
  }
  const connect = (el: PlugIntegrationDialog) =>
    root(el).querySelector('plug-connect-button')!.shadowRoot!.querySelector<HTMLButtonElement>('[part~="connect-button"]')!;
  /** The message under a field (`f0` is the first field, `f2` the third). */
  const fieldError = (el: PlugIntegrationDialog, id: string) => form(el).shadowRoot!.querySelector(`#${id}-error`)?.textContent?.trim();
  const settle = async (el: PlugIntegrationDialog) => {
    await el.updateComplete;
    await form(el).updateComplete;
    await new Promise((r) => setTimeout(r, 50));
  };

  it('shows the fields above Connect, and a shop name in the wrong format is refused here with our message, nothing sent', async () => {
    const el = await openConnections();
    expect(input(el, 'shop')).to.exist;
    expect(input(el, 'clientSecret').type).to.equal('password');
    await type(el, 'shop', 'acme store');
    connect(el).click();
    await waitUntil(() => fieldError(el, 'f0') === 'Use this format: acme-store.', `no field error: ${fieldError(el, 'f0')}`);
    await settle(el);
    expect(input(el, 'shop').value).to.equal('acme store');
    expect(fake.count('POST', '/instances/inst-1/connections/store/authorize')).to.equal(0);
    // Under the button: our summary, not the generic failure.
    const alert = root(el).querySelector('plug-connect-button')!.shadowRoot!.querySelector('[role="alert"]')!;
    expect(alert.textContent!.trim()).to.equal('One field needs attention.');
  });

  it('a refusal by the server lands on the field and keeps everything typed', async () => {
    fake.on('POST', '/instances/inst-1/connections/store/authorize', () =>
      problem(422, { title: 'Check the connection details.', errors: [{ path: 'fields.clientSecret', message: 'Enter the client secret of your OAuth app' }] }),
    );
    const el = await openConnections();
    await type(el, 'shop', 'acme-store');
    await type(el, 'clientId', 'my-own-app');
    connect(el).click();
    await waitUntil(() => fieldError(el, 'f2') === 'Enter the client secret of your OAuth app', `no field error: ${fieldError(el, 'f2')}`);
    expect(input(el, 'shop').value).to.equal('acme-store');
    expect(input(el, 'clientId').value).to.equal('my-own-app');
  });

  it('sends the fields with the sign-in and shows the connection as connected', async () => {
    fake.on('POST', '/instances/inst-1/connections/store/authorize', () => {
      const url = new URL(POPUP);
      url.searchParams.set('state', 'st-1');
      url.searchParams.set('instance', 'inst-1');
      url.searchParams.set('connection', 'store');
      current = instance({ integrationKey: 'shop', connections: [{ name: 'store', kind: 'oauth2', status: 'connected' }] });
      return json({ authorizationUrl: url.href, state: 'st-1', expiresAt: new Date(Date.now() + 600_000).toISOString(), callbackOrigin: location.origin });
    });
    const el = await openConnections();
    await type(el, 'shop', 'acme-store');
    await type(el, 'clientId', 'my-own-app');
    await type(el, 'clientSecret', 'my-own-secret');
    connect(el).click();
    await waitUntil(() => fake.count('POST', '/instances/inst-1/connections/store/authorize') === 1);
    const post = fake.calls.find((c) => c.method === 'POST' && c.path.endsWith('/authorize'))!;
    expect(post.body).to.deep.equal({ mode: 'popup', fields: { shop: 'acme-store', clientId: 'my-own-app', clientSecret: 'my-own-secret' } });
    await waitUntil(() => root(el).textContent!.includes('Connected'), 'not shown as connected');
  });
});
