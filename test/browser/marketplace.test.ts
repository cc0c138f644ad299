import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import '../../src/elements/marketplace/define.js';
import type { PlugMarketplace } from '../../src/elements/marketplace/marketplace.js';
import type { PlugIntegrationCard } from '../../src/elements/integration-card/integration-card.js';
import type { Catalog } from '../../src/protocol/index.js';
import { API, FakeApi, catalog, fakeJwt, instance, json, problem, slackDetail, summary } from './fake-api.js';
import { deepActiveElement, sendKeys } from './focus.js';

function cards(el: PlugMarketplace): PlugIntegrationCard[] {
  return [...el.shadowRoot!.querySelectorAll('plug-integration-card')];
}
function visibleNames(el: PlugMarketplace): string[] {
  return cards(el).map((c) => c.shadowRoot!.querySelector('h3')!.textContent!.trim());
}
function part(el: Element, name: string): HTMLElement | null {
  return el.shadowRoot!.querySelector(`[part~="${name}"]`);
}
async function loaded(el: PlugMarketplace): Promise<void> {
  await waitUntil(() => cards(el).length > 0 || part(el, 'message'), 'catalog did not render');
  await Promise.all(cards(el).map((c) => c.updateComplete));
}

describe('<plug-marketplace>', () => {
  let fake: FakeApi;
  beforeEach(() => {
    fake = new FakeApi().on('GET', '/integrations', catalog).on('GET', '/integrations/slack', slackDetail);
  });
  afterEach(() => fake.restore());

  it('shows a skeleton, then the grid after exactly one API request', async () => {
    let release!: () => void;
    fake.on('GET', '/integrations', () => new Promise<Response>((r) => (release = () => r(json(catalog)))));
    const el = await fixture<PlugMarketplace>(html`<plug-marketplace api=${API} token="t"></plug-marketplace>`);
    await waitUntil(() => release !== undefined);
    expect(el.shadowRoot!.querySelectorAll('.skeleton')).to.have.length(6);
    await expect(el).to.be.accessible();
    release();
    await loaded(el);
    expect(fake.calls.map((c) => `${c.method} ${c.path}`)).to.deep.equal(['GET /integrations']);
    expect(visibleNames(el)).to.deep.equal(['Slack Notifier', 'HubSpot Contacts', 'Spreadsheet Export', 'Webhook Forwarder']);
    const badges = cards(el).map((c) => part(c, 'badge')!.textContent!.trim());
    expect(badges).to.deep.equal(['Available', 'Active', 'Paused', 'Needs attention']);
    expect(part(el, 'toolbar')!.textContent).to.contain('4 integrations');
    await expect(el).to.be.accessible();
  });

  it("the skeleton's shimmer animates only what the compositor can (no main-thread frame while the catalog is on its way)", async () => {
    fake.on('GET', '/integrations', () => new Promise<Response>(() => {}));
    const el = await fixture<PlugMarketplace>(html`<plug-marketplace api=${API} token="t"></plug-marketplace>`);
    await waitUntil(() => el.shadowRoot!.querySelector('.skeleton'));
    const animations = [...el.shadowRoot!.querySelectorAll('.skeleton')].flatMap((s) => s.getAnimations({ subtree: true }));
    expect(animations).to.have.length(6);
    const animated = new Set(
      animations.flatMap((a) =>
        (a.effect as KeyframeEffect)
          .getKeyframes()
          .flatMap((k) => Object.keys(k).filter((p) => !['offset', 'computedOffset', 'easing', 'composite'].includes(p))),
      ),
    );
    // A moving background-position made Chromium run style and paint every frame on the main thread.
    expect([...animated]).to.deep.equal(['transform']);
  });

  it('filters as the customer types (name, description, category), by category and by "active only"', async () => {
    const el = await fixture<PlugMarketplace>(html`<plug-marketplace api=${API} token="t"></plug-marketplace>`);
    await loaded(el);
    const search = part(el, 'search') as HTMLInputElement;
    search.focus();
    await sendKeys({ type: 'sync' });
    await el.updateComplete;
    expect(visibleNames(el)).to.deep.equal(['HubSpot Contacts']); // "Sync contacts" in the description
    search.value = '';
    search.dispatchEvent(new Event('input'));
    await sendKeys({ type: 'crm' }); // category
    await el.updateComplete;
    expect(visibleNames(el)).to.deep.equal(['HubSpot Contacts']);
    await sendKeys({ type: 'zzz' });
    await el.updateComplete;
    expect(visibleNames(el)).to.deep.equal([]);
    expect(part(el, 'message')!.textContent).to.contain('No integrations match your search.');
    await expect(el).to.be.accessible();

    search.value = '';
    search.dispatchEvent(new Event('input'));
    const select = part(el, 'category') as HTMLSelectElement;
    select.value = 'Data';
    select.dispatchEvent(new Event('change'));
    await el.updateComplete;
    expect(visibleNames(el)).to.deep.equal(['Spreadsheet Export']);
    select.value = '';
    select.dispatchEvent(new Event('change'));
    const toggle = part(el, 'toggle')!.querySelector('input')!;
    toggle.click();
    await el.updateComplete;
    expect(visibleNames(el)).to.deep.equal(['HubSpot Contacts']);
  });

  it('renders a long catalog in batches while searching all of it', async () => {
    const many = Array.from({ length: 130 }, (_, i) => summary({ key: `k${i}`, name: `Connector ${i}` }));
    fake.on('GET', '/integrations', { integrations: many });
    const el = await fixture<PlugMarketplace>(
      html`<plug-marketplace api=${API} token="t" style="display:block;height:400px;overflow:auto"></plug-marketplace>`,
    );
    await loaded(el);
    expect(cards(el)).to.have.length(16);
    expect(part(el, 'toolbar')!.textContent).to.contain('130 integrations');
    const search = part(el, 'search') as HTMLInputElement;
    search.value = 'connector 129';
    search.dispatchEvent(new Event('input'));
    await el.updateComplete;
    expect(visibleNames(el)).to.deep.equal(['Connector 129']);
    search.value = '';
    search.dispatchEvent(new Event('input'));
    await el.updateComplete;
    expect(cards(el)).to.have.length(16);
    // Scroll to the end of the grid until nothing is left to add.
    await waitUntil(
      () => {
        el.shadowRoot!.querySelector('.more')?.scrollIntoView();
        return cards(el).length === 130;
      },
      'scrolling did not render the rest',
      { timeout: 10_000 },
    );
    expect(el.shadowRoot!.querySelector('.more')).to.equal(null);
  });

  it('formats numbers for its lang and takes translations', async () => {
    const many = Array.from({ length: 1200 }, (_, i) => summary({ key: `k${i}` }));
    fake.on('GET', '/integrations', { integrations: many });
    const el = await fixture<PlugMarketplace>(
      html`<plug-marketplace api=${API} token="t" lang="de" .translations=${{ 'marketplace.count': '{count} Integrationen', 'marketplace.search': 'Suchen' }}></plug-marketplace>`,
    );
    await loaded(el);
    expect(part(el, 'toolbar')!.textContent).to.contain('1.200 Integrationen');
    expect(part(el, 'search')!.getAttribute('aria-label')).to.equal('Suchen');
  });

  it('shows the empty catalog state', async () => {
    fake.on('GET', '/integrations', { integrations: [] });
    const el = await fixture<PlugMarketplace>(html`<plug-marketplace api=${API} token="t"></plug-marketplace>`);
    await loaded(el);
    expect(part(el, 'message')!.textContent).to.contain('No integrations are available yet.');
    await expect(el).to.be.accessible();
  });

  it('shows an error with a retry that loads the catalog, and fires plug-error', async () => {
    let fail = true;
    fake.on('GET', '/integrations', () => (fail ? problem(500, { title: 'Internal error' }) : json(catalog)));
    const errors: CustomEvent[] = [];
    document.addEventListener('plug-error', (e) => errors.push(e), { once: true });
    const el = await fixture<PlugMarketplace>(html`<plug-marketplace api=${API} token="t"></plug-marketplace>`);
    await waitUntil(() => el.shadowRoot!.querySelector('[role="alert"]'));
    expect(el.shadowRoot!.querySelector('[role="alert"]')!.textContent).to.contain('The integrations could not be loaded.');
    expect(errors[0]!.detail).to.include({ action: 'load-catalog' });
    expect(errors[0]!.detail.problem.status).to.equal(500);
    await expect(el).to.be.accessible();
    fail = false;
    (part(el, 'button') as HTMLButtonElement).click();
    await waitUntil(() => cards(el).length === 4);
    expect(visibleNames(el)).to.have.length(4);
  });

  it('refreshes the token through getToken after a 401 and retries', async () => {
    const fresh = fakeJwt({ exp: Math.floor(Date.now() / 1000) + 600, jti: 'fresh' });
    const stale = fakeJwt({ exp: Math.floor(Date.now() / 1000) + 600, jti: 'stale' });
    let calls = 0;
    fake.on('GET', '/integrations', (req) => (req.headers.get('authorization') === `Bearer ${fresh}` ? json(catalog) : problem(401, { title: 'Expired' })));
    const getToken = async () => (calls++ === 0 ? stale : fresh);
    const el = await fixture<PlugMarketplace>(html`<plug-marketplace api=${API} .getToken=${getToken}></plug-marketplace>`);
    await loaded(el);
    expect(calls).to.equal(2);
    expect(fake.count('GET', '/integrations')).to.equal(2);
    expect(visibleNames(el)).to.have.length(4);
  });

  it('sends nothing before a token source is given, then exactly one request (getToken)', async () => {
    const token = fakeJwt({ exp: Math.floor(Date.now() / 1000) + 600 });
    const el = await fixture<PlugMarketplace>(html`<plug-marketplace api=${API}></plug-marketplace>`);
    // Give a wrongly started request every chance to go out: several tasks and frames.
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 20));
    await el.updateComplete;
    expect(fake.calls).to.have.length(0);
    expect(el.shadowRoot!.querySelectorAll('.skeleton')).to.have.length(6);
    el.getToken = async () => token;
    await loaded(el);
    expect(fake.calls.map((c) => `${c.method} ${c.path} ${c.headers.get('authorization')}`)).to.deep.equal([`GET /integrations Bearer ${token}`]);
    expect(visibleNames(el)).to.have.length(4);
  });

  it('sends nothing before a token attribute is set, then exactly one request', async () => {
    const el = await fixture<PlugMarketplace>(html`<plug-marketplace api=${API}></plug-marketplace>`);
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 20));
    expect(fake.calls).to.have.length(0);
    el.setAttribute('token', 't-late');
    await loaded(el);
    expect(fake.calls.map((c) => `${c.method} ${c.path} ${c.headers.get('authorization')}`)).to.deep.equal(['GET /integrations Bearer t-late']);
  });

  it('renders hostile catalog text as text and runs nothing', async () => {
    const w = window as unknown as { pwned?: number };
    const hostile: Catalog = {
      integrations: [
        summary({
          key: 'evil',
          name: '<img src=x onerror="window.pwned=1">Evil',
          description: '<script>window.pwned=2</script>',
          category: '<b>bold</b>',
          icon: 'javascript:window.pwned=3',
        }),
      ],
    };
    fake.on('GET', '/integrations', hostile);
    const el = await fixture<PlugMarketplace>(html`<plug-marketplace api=${API} token="t"></plug-marketplace>`);
    await loaded(el);
    const card = cards(el)[0]!;
    expect(card.shadowRoot!.querySelector('h3')!.textContent!.trim()).to.equal('<img src=x onerror="window.pwned=1">Evil');
    expect(card.shadowRoot!.querySelectorAll('img, script, b')).to.have.length(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(w.pwned).to.equal(undefined);
  });

  it('opens an integration from the keyboard, traps focus in the dialog, and Escape returns to the card', async () => {
    const el = await fixture<PlugMarketplace>(html`<plug-marketplace api=${API} token="t"></plug-marketplace>`);
    await loaded(el);
    (part(el, 'search') as HTMLInputElement).focus();
    await sendKeys({ press: 'Tab' }); // category
    await sendKeys({ press: 'Tab' }); // active only
    await sendKeys({ press: 'Tab' }); // first card
    expect(deepActiveElement()!.textContent!.trim()).to.equal('Slack Notifier');
    const opened = oneEvent(el, 'plug-integration-open');
    await sendKeys({ press: 'Enter' });
    expect((await opened).detail.integration.key).to.equal('slack');
    await waitUntil(() => el.shadowRoot!.querySelector('plug-integration-dialog'));
    const dialog = el.shadowRoot!.querySelector('plug-integration-dialog');
    await waitUntil(() => dialog!.shadowRoot!.querySelector('dialog[open]') && dialog!.shadowRoot!.textContent!.includes('What it needs'));
    expect(deepActiveElement()!.textContent!.trim()).to.equal('Close');
    // Tab round the dialog: focus never leaves it.
    for (let i = 0; i < 6; i++) {
      await sendKeys({ press: 'Tab' });
      expect(dialog!.shadowRoot!.contains(deepActiveElement())).to.equal(true);
    }
    await sendKeys({ down: 'Shift' });
    await sendKeys({ press: 'Tab' });
    await sendKeys({ up: 'Shift' });
    expect(dialog!.shadowRoot!.contains(deepActiveElement())).to.equal(true);
    await expect(el).to.be.accessible();
    await sendKeys({ press: 'Escape' });
    await waitUntil(() => !el.shadowRoot!.querySelector('plug-integration-dialog'));
    await waitUntil(() => deepActiveElement()?.textContent?.trim() === 'Slack Notifier', 'focus did not return to the card');
  });

  it('updates a card badge from the dialog events without reloading the catalog', async () => {
    fake.on('POST', '/instances', json(instance(), 201));
    const el = await fixture<PlugMarketplace>(html`<plug-marketplace api=${API} token="t"></plug-marketplace>`);
    await loaded(el);
    const created: CustomEvent[] = [];
    const listener = (e: CustomEvent) => created.push(e);
    document.addEventListener('plug-instance-created', listener);
    (part(cards(el)[0]!, 'open') as HTMLButtonElement).click();
    await waitUntil(() => el.shadowRoot!.querySelector('plug-integration-dialog')?.shadowRoot?.textContent?.includes('Set up'));
    const dialog = el.shadowRoot!.querySelector('plug-integration-dialog')!;
    [...dialog.shadowRoot!.querySelectorAll('button')].find((b) => b.textContent!.trim() === 'Set up')!.click();
    // "Set up" alone creates nothing: the first save (here the credentials) does.
    fake.on('PUT', '/instances/inst-1/connections/slack', json(instance()));
    await waitUntil(() => dialog.shadowRoot!.querySelector('plug-config-form')?.shadowRoot?.querySelector('[data-field="token"]'));
    const token = dialog.shadowRoot!.querySelector('plug-config-form')!.shadowRoot!.querySelector<HTMLInputElement>('[data-field="token"]')!;
    token.value = 'xoxb-1';
    token.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
    expect(created).to.have.length(0);
    [...dialog.shadowRoot!.querySelectorAll('button')].find((b) => b.textContent!.trim() === 'Save credentials')!.click();
    await waitUntil(() => created.length === 1);
    document.removeEventListener('plug-instance-created', listener);
    dialog.close();
    await waitUntil(() => part(cards(el)[0]!, 'badge')?.textContent?.trim() === 'Draft');
    expect(fake.count('GET', '/integrations')).to.equal(1);
  });

  it('a card says who is connected as soon as the dialog connected the account, without reloading the catalog', async () => {
    fake.on('POST', '/instances', json(instance(), 201));
    const el = await fixture<PlugMarketplace>(html`<plug-marketplace api=${API} token="t"></plug-marketplace>`);
    await loaded(el);
    (part(cards(el)[0]!, 'open') as HTMLButtonElement).click();
    await waitUntil(() => el.shadowRoot!.querySelector('plug-integration-dialog')?.shadowRoot?.textContent?.includes('Set up'));
    const dialog = el.shadowRoot!.querySelector('plug-integration-dialog')!;
    [...dialog.shadowRoot!.querySelectorAll('button')].find((b) => b.textContent!.trim() === 'Set up')!.click();
    const connected = instance({ connections: [{ name: 'slack', kind: 'apiKey', status: 'connected', accountName: 'Acme workspace' }] });
    fake.on('PUT', '/instances/inst-1/connections/slack', json(connected));
    await waitUntil(() => dialog.shadowRoot!.querySelector('plug-config-form')?.shadowRoot?.querySelector('[data-field="token"]'));
    const token = dialog.shadowRoot!.querySelector('plug-config-form')!.shadowRoot!.querySelector<HTMLInputElement>('[data-field="token"]')!;
    token.value = 'xoxb-1';
    token.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
    const told = oneEvent(el, 'plug-connect');
    [...dialog.shadowRoot!.querySelectorAll('button')].find((b) => b.textContent!.trim() === 'Save credentials')!.click();
    expect((await told).detail).to.include({ connection: 'slack', status: 'connected' });
    dialog.close();
    await waitUntil(() => part(cards(el)[0]!, 'account')?.textContent?.trim() === 'Connected as Acme workspace', 'the card did not name the account');
    expect(part(cards(el)[0]!, 'badge')!.textContent!.trim()).to.equal('Draft');
    expect(fake.count('GET', '/integrations')).to.equal(1);
  });

  it('lets the host cancel plug-integration-open to show its own view', async () => {
    const el = await fixture<PlugMarketplace>(html`<plug-marketplace api=${API} token="t"></plug-marketplace>`);
    await loaded(el);
    const cancel = (e: Event) => e.preventDefault();
    document.addEventListener('plug-integration-open', cancel);
    (part(cards(el)[0]!, 'open') as HTMLButtonElement).click();
    await new Promise((r) => setTimeout(r, 20));
    document.removeEventListener('plug-integration-open', cancel);
    expect(el.shadowRoot!.querySelector('plug-integration-dialog')).to.equal(null);
  });

  it('shows the detail inline with detail-mode="inline"', async () => {
    const el = await fixture<PlugMarketplace>(html`<plug-marketplace api=${API} token="t" detail-mode="inline"></plug-marketplace>`);
    await loaded(el);
    (part(cards(el)[0]!, 'open') as HTMLButtonElement).click();
    await waitUntil(() => el.shadowRoot!.querySelector('plug-integration-dialog'));
    const dialog = el.shadowRoot!.querySelector('plug-integration-dialog');
    await waitUntil(() => dialog!.shadowRoot!.textContent!.includes('What it needs'));
    expect(dialog!.shadowRoot!.querySelector('dialog')).to.equal(null);
    expect(dialog!.getAttribute('mode')).to.equal('inline');
    await expect(el).to.be.accessible();
  });

  it('applies host theme tokens and the dark theme', async () => {
    const wrapper = await fixture<HTMLDivElement>(html`<div><plug-marketplace api=${API} token="t"></plug-marketplace></div>`);
    const el = wrapper.querySelector('plug-marketplace')!;
    await loaded(el);
    const letter = () => getComputedStyle(part(cards(el)[1]!, 'icon')!).backgroundColor;
    const cardBg = () => getComputedStyle(part(cards(el)[0]!, 'card')!).backgroundColor;
    const before = letter();
    wrapper.style.setProperty('--plug-color-primary', 'rgb(255, 0, 128)');
    expect(letter()).to.equal('rgb(255, 0, 128)');
    expect(before).to.not.equal(letter());
    wrapper.style.setProperty('--plug-card-border-color', 'rgb(1, 2, 3)');
    expect(getComputedStyle(part(cards(el)[0]!, 'card')!).borderTopColor).to.equal('rgb(1, 2, 3)');
    const light = cardBg();
    el.theme = 'dark';
    await el.updateComplete;
    await Promise.all(cards(el).map((c) => c.updateComplete));
    expect(cardBg()).to.not.equal(light);
  });
});
