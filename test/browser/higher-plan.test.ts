// Integrations the customer's plan lacks, listed with `show-unentitled` (the catalog's
// `?include=unentitled`): a card marked "Available on a higher plan" with the host's call to action,
// and no way to set it up from the marketplace.
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import '../../src/elements/marketplace/define.js';
import type { PlugMarketplace } from '../../src/elements/marketplace/marketplace.js';
import type { PlugIntegrationCard } from '../../src/elements/integration-card/integration-card.js';
import { API, FakeApi, json, summary } from './fake-api.js';

const catalog = {
  integrations: [summary({ key: 'slack', name: 'Slack' }), summary({ key: 'salesforce', name: 'Salesforce', category: 'CRM', entitled: false })],
};

function cards(el: PlugMarketplace): PlugIntegrationCard[] {
  return [...el.shadowRoot!.querySelectorAll<PlugIntegrationCard>('plug-integration-card')];
}

async function loaded(el: PlugMarketplace): Promise<PlugIntegrationCard> {
  for (let i = 0; i < 100 && cards(el).length < 2; i++) await new Promise((r) => setTimeout(r, 20));
  const locked = cards(el).find((c) => c.integration?.key === 'salesforce')!;
  await locked.updateComplete;
  return locked;
}

describe('integrations on a higher plan', () => {
  let fake: FakeApi;
  beforeEach(() => {
    fake = new FakeApi().on('GET', '/integrations', (call) =>
      json(call.search.get('include') === 'unentitled' ? catalog : { integrations: catalog.integrations.filter((i) => i.entitled !== false) }),
    );
  });
  afterEach(() => fake.restore());

  it('asks the catalog for them only with show-unentitled', async () => {
    const plain = await fixture<PlugMarketplace>(html`<plug-marketplace api=${API} token="t"></plug-marketplace>`);
    for (let i = 0; i < 100 && cards(plain).length < 1; i++) await new Promise((r) => setTimeout(r, 20));
    expect(cards(plain).map((c) => c.integration?.key)).to.deep.equal(['slack']);
    expect(fake.calls.map((c) => c.search.get('include'))).to.deep.equal([null]);
  });

  it('shows the card marked, with the host’s link, and nothing that sets it up', async () => {
    const el = await fixture<PlugMarketplace>(
      html`<plug-marketplace api=${API} token="t" show-unentitled upgrade-href="https://acme.test/plans"></plug-marketplace>`,
    );
    const locked = await loaded(el);
    const root = locked.shadowRoot!;
    expect(root.querySelector('[part~="badge-higher-plan"]')!.textContent!.trim()).to.equal('Available on a higher plan');
    const link = root.querySelector<HTMLAnchorElement>('a[part="upgrade"]')!;
    expect(link.textContent!.trim()).to.equal('Upgrade');
    expect(link.getAttribute('href')).to.equal('https://acme.test/plans');
    // No open button: the integration can't be opened, so not activated, from here.
    expect(root.querySelector('[part="open"]')).to.equal(null);
    // The entitled one is as before.
    const slack = cards(el).find((c) => c.integration?.key === 'slack')!;
    expect(slack.shadowRoot!.querySelector('[part="open"]')).to.not.equal(null);
    expect(fake.calls.map((c) => c.search.get('include'))).to.deep.equal(['unentitled']);
    await expect(el).to.be.accessible();
  });

  it('fires a cancelable plug-upgrade-request; cancelling it keeps the link from navigating', async () => {
    const el = await fixture<PlugMarketplace>(
      html`<plug-marketplace api=${API} token="t" show-unentitled upgrade-href="https://acme.test/plans"></plug-marketplace>`,
    );
    const locked = await loaded(el);
    const link = locked.shadowRoot!.querySelector<HTMLAnchorElement>('a[part="upgrade"]')!;
    document.addEventListener('plug-upgrade-request', (e) => e.preventDefault(), { once: true });
    const requested = oneEvent(el, 'plug-upgrade-request');
    const click = new MouseEvent('click', { bubbles: true, composed: true, cancelable: true });
    link.dispatchEvent(click);
    const event = await requested;
    expect(event.detail.integration.key).to.equal('salesforce');
    expect(click.defaultPrevented).to.equal(true);
  });

  it('without upgrade-href, a button that only fires the event, reachable by keyboard', async () => {
    const el = await fixture<PlugMarketplace>(html`<plug-marketplace api=${API} token="t" show-unentitled></plug-marketplace>`);
    const locked = await loaded(el);
    const button = locked.shadowRoot!.querySelector<HTMLButtonElement>('button[part="upgrade"]')!;
    expect(button.textContent!.trim()).to.equal('Upgrade');
    const requested = oneEvent(el, 'plug-upgrade-request');
    button.focus();
    button.click();
    expect((await requested).detail.integration.key).to.equal('salesforce');
    await expect(el).to.be.accessible();
  });

  it('takes translated strings', async () => {
    const el = await fixture<PlugMarketplace>(
      html`<plug-marketplace
        api=${API}
        token="t"
        show-unentitled
        .translations=${{ 'card.higherPlan': 'Dans une offre supérieure', 'card.upgrade': 'Changer d’offre' }}
      ></plug-marketplace>`,
    );
    const locked = await loaded(el);
    expect(locked.shadowRoot!.querySelector('[part~="badge-higher-plan"]')!.textContent!.trim()).to.equal('Dans une offre supérieure');
    expect(locked.shadowRoot!.querySelector('[part="upgrade"]')!.textContent!.trim()).to.equal('Changer d’offre');
  });
});
