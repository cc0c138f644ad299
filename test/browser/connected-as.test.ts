import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import '../../src/elements/connect-button/define.js';
import '../../src/elements/integration-card/define.js';
import type { PlugConnectButton } from '../../src/elements/connect-button/connect-button.js';
import type { PlugIntegrationCard } from '../../src/elements/integration-card/integration-card.js';
import type { AuthorizeResponse, Instance } from '../../src/protocol/index.js';
import { API, FakeApi, hubspot, instance, json } from './fake-api.js';

// The dialog's "Connected as …" and a refused key's field error: nothing-lost.test.ts (same fixture).
describe('"Connected as …"', () => {
  it('the card names the accounts its instance is connected as, and the name button’s description includes them', async () => {
    const named = { ...hubspot, instance: { ...hubspot.instance!, accountNames: ['Globex Sales (nw-2048)'] } };
    const el = await fixture<PlugIntegrationCard>(html`<plug-integration-card .integration=${named}></plug-integration-card>`);
    const account = el.shadowRoot!.querySelector('[part="account"]')!;
    expect(account.textContent!.trim()).to.equal('Connected as Globex Sales (nw-2048)');
    // The open button is described by the status line, so a screen reader hears who is connected.
    const described = el.shadowRoot!.querySelector('[part="open"]')!.getAttribute('aria-describedby')!.split(' ');
    expect(described.some((id) => el.shadowRoot!.getElementById(id)?.contains(account))).to.equal(true);
    await expect(el).to.be.accessible();

    el.integration = hubspot; // no account named: no line
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[part="account"]')).to.equal(null);
  });

  it('the card takes the words from translations', async () => {
    const named = { ...hubspot, instance: { ...hubspot.instance!, accountNames: ['Initech'] } };
    const el = await fixture<PlugIntegrationCard>(
      html`<plug-integration-card .integration=${named} .translations=${{ 'connection.connectedAs': 'Verbunden als {account}' }}></plug-integration-card>`,
    );
    expect(el.shadowRoot!.querySelector('[part="account"]')!.textContent!.trim()).to.equal('Verbunden als Initech');
  });

  describe('connect button', () => {
    let fake: FakeApi;
    afterEach(() => fake?.restore());

    it('shows the account it was given, and the one the server names after connecting', async () => {
      const at = new Date().toISOString();
      const connected: Instance = instance({
        id: 'ins_1',
        integrationKey: 'chat',
        connections: [{ name: 'chat', kind: 'oauth2', status: 'connected', accountName: 'Demo User', updatedAt: at }],
      });
      fake = new FakeApi().on('GET', '/instances/ins_1', () => json(connected));
      const el = await fixture<PlugConnectButton>(
        html`<plug-connect-button api=${API} token="t" instance-id="ins_1" connection="chat" label="Chatwave" status="connected" account="Old Name"></plug-connect-button>`,
      );
      const status = () => el.shadowRoot!.querySelector('[part="status"]')!.textContent!.replace(/\s+/g, ' ').trim();
      expect(status()).to.equal('Chatwave Connected as Old Name');

      const popupPage = new URL('/test/browser/fixtures/oauth-popup.html', location.href);
      el.authorize = async (): Promise<AuthorizeResponse> => {
        popupPage.searchParams.set('state', 'state-1');
        return { authorizationUrl: popupPage.href, state: 'state-1', expiresAt: new Date(Date.now() + 600_000).toISOString(), callbackOrigin: location.origin };
      };
      const done = oneEvent(el, 'plug-connect');
      el.shadowRoot!.querySelector<HTMLButtonElement>('[part~="connect-button"]')!.click();
      await done;
      await el.updateComplete;
      expect(status()).to.equal('Chatwave Connected as Demo User');
      expect(el.shadowRoot!.querySelector('[role="status"]')!.textContent!.trim()).to.equal('Connected as Demo User.');
      await expect(el).to.be.accessible();
    });

    it('says just "Connected" when no account is named', async () => {
      const el = await fixture<PlugConnectButton>(
        html`<plug-connect-button instance-id="ins_1" connection="chat" label="Chatwave" status="connected"></plug-connect-button>`,
      );
      expect(el.shadowRoot!.querySelector('[part="status"]')!.textContent!.replace(/\s+/g, ' ').trim()).to.equal('Chatwave Connected');
    });
  });
});
