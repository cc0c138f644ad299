// Issue 11, "fits every screen" and "follows the host's colors": layout at phone and desktop
// widths, the color scheme the elements take, the toast, the stepper, the picker's chevron and
// the cards' heading level. Viewport and system color scheme are Chromium's own (emulated).
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import { emulateMedia, setViewport } from '@web/test-runner-commands';
import '../../src/elements/config-form/define.js';
import '../../src/elements/execution-log/define.js';
import type { PlugExecutionLog } from '../../src/elements/execution-log/execution-log.js';
import type { PlugConfigForm } from '../../src/elements/config-form/config-form.js';
import type { PlugIntegrationCard } from '../../src/elements/integration-card/integration-card.js';
import '../../src/elements/integration-dialog/define.js';
import type { PlugIntegrationDialog } from '../../src/elements/integration-dialog/integration-dialog.js';
import '../../src/elements/marketplace/define.js';
import type { PlugMarketplace } from '../../src/elements/marketplace/marketplace.js';
import { API, FakeApi, catalog, instance, json, slackDetail, summary } from './fake-api.js';

const PHONE = { width: 375, height: 667 };
const DESKTOP = { width: 1280, height: 800 };
const WHITE = 'rgb(255, 255, 255)';
const DARK_SURFACE = 'rgb(15, 23, 42)';

function cards(el: PlugMarketplace): PlugIntegrationCard[] {
  return [...el.shadowRoot!.querySelectorAll('plug-integration-card')];
}
const cardBox = (card: PlugIntegrationCard): HTMLElement => card.shadowRoot!.querySelector<HTMLElement>('[part="card"]')!;
const part = (el: Element, name: string): HTMLElement => el.shadowRoot!.querySelector<HTMLElement>(`[part~="${name}"]`)!;

async function marketplace(attrs = ''): Promise<PlugMarketplace> {
  const wrapper = await fixture<HTMLElement>(
    // `attrs` is a fixed string of the test's own; static markup keeps the fixture readable.
    html`<div .innerHTML=${`<h1>Acme CRM</h1><plug-marketplace api="${API}" token="t" ${attrs}></plug-marketplace>`}></div>`,
  );
  const el = wrapper.querySelector<PlugMarketplace>('plug-marketplace')!;
  await waitUntil(() => cards(el).length > 0, 'catalog did not render');
  await Promise.all(cards(el).map((c) => c.updateComplete));
  return el;
}

async function dialog(): Promise<PlugIntegrationDialog> {
  const el = await fixture<PlugIntegrationDialog>(html`<plug-integration-dialog api=${API} token="t" integration-key="slack" open></plug-integration-dialog>`);
  await waitUntil(() => el.shadowRoot!.textContent!.includes('What it needs'), 'dialog did not load');
  return el;
}

function button(el: PlugIntegrationDialog, label: string): HTMLButtonElement {
  const found = [...el.shadowRoot!.querySelectorAll('button')].find((b) => b.textContent!.trim() === label);
  if (!found)
    throw new Error(`no button "${label}" among ${[...el.shadowRoot!.querySelectorAll('button')].map((b) => `"${b.textContent!.trim()}"`).join(', ')}`);
  return found;
}

/** Opens the wizard from the overview, whatever its button says for this instance. */
async function openWizard(el: PlugIntegrationDialog): Promise<void> {
  const start = [...el.shadowRoot!.querySelectorAll('button')].find((b) => /^(Set up|Continue setup|Configure)$/.test(b.textContent!.trim()));
  if (!start) throw new Error('no button opens the wizard');
  start.click();
  await waitUntil(() => el.shadowRoot!.querySelector('#step-heading'), 'wizard');
}

describe('screens and color schemes', () => {
  let fake: FakeApi;
  beforeEach(() => {
    const draft = instance({ connections: [{ name: 'slack', kind: 'apiKey', status: 'connected' }], config: { channel: 'c', template: 't' } });
    fake = new FakeApi()
      .on('GET', '/integrations', catalog)
      .on('GET', '/integrations/slack', { ...slackDetail, instance: { id: draft.id, status: 'draft', updatedAt: draft.updatedAt } })
      .on('GET', '/instances/inst-1', () => json(draft))
      .on('POST', '/instances/inst-1/activate', () => json({ ...draft, status: 'active' }));
  });
  afterEach(async () => {
    fake.restore();
    document.documentElement.style.colorScheme = '';
    document.documentElement.style.background = '';
    await emulateMedia({ colorScheme: 'light' });
    await setViewport(DESKTOP);
  });

  describe('at 375 px', () => {
    beforeEach(() => setViewport(PHONE));

    it('shows the dialog as a full-screen sheet, nothing off-screen', async () => {
      const el = await dialog();
      const box = el.shadowRoot!.querySelector('dialog')!;
      const rect = box.getBoundingClientRect();
      expect([rect.left, rect.top, rect.width, rect.height]).to.deep.equal([0, 0, PHONE.width, PHONE.height]);
      expect(box.scrollWidth, 'no sideways scrolling').to.be.at.most(box.clientWidth);
      // Close stays in reach: the header sticks to the top of the sheet.
      box.scrollTop = box.scrollHeight;
      const close = button(el, 'Close').getBoundingClientRect();
      expect(close.top).to.be.at.least(0);
      expect(close.height).to.be.at.least(44);
      for (const b of el.shadowRoot!.querySelectorAll('button')) {
        expect(b.getBoundingClientRect().height, b.textContent!.trim()).to.be.at.least(44);
      }
      // On the wizard's pages too: inputs as well as buttons.
      await openWizard(el);
      const form = el.shadowRoot!.querySelector<PlugConfigForm>('plug-config-form');
      await form?.updateComplete;
      const controls = [...el.shadowRoot!.querySelectorAll('button'), ...(form?.shadowRoot!.querySelectorAll('input, button') ?? [])];
      for (const c of controls) {
        expect(c.getBoundingClientRect().height, c.outerHTML.slice(0, 80)).to.be.at.least(44);
      }
      await expect(el).to.be.accessible();
    });

    it('lays the catalog out in one column, with 44 px touch targets', async () => {
      const el = await marketplace();
      const lefts = new Set(cards(el).map((c) => Math.round(c.getBoundingClientRect().left)));
      expect(lefts.size, 'one column').to.equal(1);
      expect(el.scrollWidth).to.be.at.most(PHONE.width);
      for (const name of ['search', 'category', 'toggle']) {
        expect(part(el, name).getBoundingClientRect().height, name).to.be.at.least(44);
      }
    });
  });

  it('gives the cards of a row one height', async () => {
    fake.on('GET', '/integrations', {
      integrations: [...catalog.integrations.slice(0, 3), summary({ key: 'long', name: 'Long', description: 'A description that goes on. '.repeat(12) })],
    });
    await setViewport(DESKTOP);
    const el = await marketplace();
    const boxes = cards(el).map((c) => cardBox(c).getBoundingClientRect());
    const rows = new Set(boxes.map((b) => Math.round(b.top)));
    expect(rows.size, 'one row at 1280 px').to.equal(1);
    expect(new Set(boxes.map((b) => Math.round(b.height))).size).to.equal(1);
  });

  describe('color scheme', () => {
    // A page's own background follows its color-scheme, as a real host page's does (axe reads it).
    beforeEach(() => {
      document.documentElement.style.background = 'Canvas';
    });

    it("follows the host page's color-scheme, not the visitor's system", async () => {
      document.documentElement.style.colorScheme = 'light';
      await emulateMedia({ colorScheme: 'dark' });
      const el = await marketplace();
      expect(getComputedStyle(cardBox(cards(el)[0]!)).backgroundColor).to.equal(WHITE);
      await expect(el).to.be.accessible();

      document.documentElement.style.colorScheme = 'dark';
      await emulateMedia({ colorScheme: 'light' });
      expect(getComputedStyle(cardBox(cards(el)[0]!)).backgroundColor).to.equal(DARK_SURFACE);
      await expect(el).to.be.accessible();
    });

    it('theme="auto" follows the system; "light" and "dark" force one', async () => {
      document.documentElement.style.colorScheme = 'light';
      await emulateMedia({ colorScheme: 'dark' });
      const el = await marketplace('theme="auto"');
      expect(getComputedStyle(cardBox(cards(el)[0]!)).backgroundColor).to.equal(DARK_SURFACE);
      // A theme other than the page's paints its own surface: light text never lands on a light page.
      expect(getComputedStyle(el).backgroundColor).to.equal(DARK_SURFACE);
      await expect(el).to.be.accessible();
      el.theme = 'light';
      await el.updateComplete;
      await Promise.all(cards(el).map((c) => c.updateComplete));
      expect(getComputedStyle(cardBox(cards(el)[0]!)).backgroundColor).to.equal(WHITE);
      document.documentElement.style.colorScheme = 'dark';
      expect(getComputedStyle(cardBox(cards(el)[0]!)).backgroundColor).to.equal(WHITE);
      el.theme = 'dark';
      await el.updateComplete;
      document.documentElement.style.colorScheme = 'light';
      expect(getComputedStyle(cardBox(cards(el)[0]!)).backgroundColor).to.equal(DARK_SURFACE);
      await expect(el).to.be.accessible();
    });

    it('keeps the dialog readable in the dark (axe color-contrast)', async () => {
      document.documentElement.style.colorScheme = 'dark';
      const el = await dialog();
      await openWizard(el);
      await expect(el).to.be.accessible();
    });
  });

  it('keeps errors, logs and muted text readable in the dark (axe color-contrast)', async () => {
    document.documentElement.style.colorScheme = 'dark';
    document.documentElement.style.background = 'Canvas';
    const at = new Date().toISOString();
    const failedRun = {
      id: 'ex-1',
      instanceId: 'inst-1',
      flow: 'notify',
      status: 'failed',
      trigger: 'schedule',
      attempt: 2,
      queuedAt: at,
      startedAt: at,
      endedAt: at,
      durationMs: 40,
      error: 'Chatwave answered 503',
      resultSummary: null,
    };
    fake
      .on('GET', '/instances/inst-1/executions', { executions: [failedRun], nextCursor: null })
      .on('GET', '/executions/ex-1', { ...failedRun, logs: [{ seq: 1, at, level: 'error', message: 'POST failed: 503' }], logsTruncated: false });
    const log = await fixture<PlugExecutionLog>(html`<plug-execution-log api=${API} token="t" instance-id="inst-1" poll-interval="0"></plug-execution-log>`);
    await waitUntil(() => log.shadowRoot!.querySelector('[part~="toggle"]'), 'no runs');
    log.shadowRoot!.querySelector<HTMLButtonElement>('[part~="toggle"]')!.click();
    await waitUntil(() => log.shadowRoot!.textContent!.includes('POST failed: 503'), 'no log');
    await expect(log).to.be.accessible();

    const schema = {
      type: 'object',
      properties: { account: { type: 'string', title: 'Account ID', description: 'Looks like nw-123456.', 'x-plug-kind': 'text' } },
      required: ['account'],
    };
    const form = await fixture<PlugConfigForm>(
      html`<plug-config-form .schema=${schema} .errors=${[{ path: 'account', message: 'Enter an account ID.' }]}></plug-config-form>`,
    );
    expect(form.shadowRoot!.textContent).to.contain('Enter an account ID.');
    await expect(form).to.be.accessible();
  });

  it('names each step of the wizard in its stepper', async () => {
    const el = await dialog();
    await openWizard(el);
    const steps = [...part(el, 'progress').querySelectorAll('li')];
    expect(steps.map((li) => li.querySelector('.step-title')?.textContent?.trim() ?? '')).to.deep.equal(['Connections', 'Channel', 'Message']);
    for (const li of steps) {
      expect(li.querySelector('.step-title')!.getBoundingClientRect().width, 'the name is shown, not only announced').to.be.greaterThan(20);
    }
    // The wizard reopens where the customer stopped: that step, and only it, is the current one.
    const heading = el.shadowRoot!.querySelector('#step-heading')!.textContent!.trim();
    expect(steps.filter((li) => li.getAttribute('aria-current') === 'step').map((li) => li.querySelector('.step-title')!.textContent!.trim())).to.deep.equal([
      heading,
    ]);
  });

  it('confirms an activation in a polite toast the host can style', async () => {
    const el = await dialog();
    const style = document.createElement('style');
    style.textContent = 'plug-integration-dialog { --plug-toast-background: rgb(1, 2, 3); }';
    document.head.append(style);
    try {
      button(el, 'Activate').click();
      await waitUntil(() => part(el, 'toast')?.textContent?.trim() === 'Activated', 'no toast');
      const toast = part(el, 'toast');
      await waitUntil(() => getComputedStyle(toast).opacity === '1', 'the toast never finished appearing');
      expect(toast.getAttribute('role')).to.equal('status');
      expect(toast.getAttribute('aria-live')).to.equal('polite');
      expect(getComputedStyle(toast).backgroundColor).to.equal('rgb(1, 2, 3)');
      const rect = toast.getBoundingClientRect();
      expect(rect.width, 'visible').to.be.greaterThan(20);
      expect(rect.bottom).to.be.at.most(window.innerHeight);
      await expect(el).to.be.accessible();
    } finally {
      style.remove();
    }
  });

  it('lets a tap on the toast reach the control under it, on a phone', async () => {
    await setViewport(PHONE);
    const el = await dialog();
    button(el, 'Activate').click();
    await waitUntil(() => part(el, 'toast')?.textContent?.trim() === 'Activated', 'no toast');
    const toast = part(el, 'toast');
    await waitUntil(() => getComputedStyle(toast).opacity === '1', 'the toast never finished appearing');
    const rect = toast.getBoundingClientRect();
    const under = el.shadowRoot!.elementFromPoint(rect.left + rect.width / 2, rect.top + rect.height / 2);
    expect(under, 'what a tap there reaches').to.not.equal(toast);
  });

  it('draws a chevron on the picker, as on a select', async () => {
    const schema = { type: 'object', properties: { channel: { type: 'string', title: 'Channel', 'x-plug-kind': 'picker', 'x-plug-data-source': 'channels' } } };
    const el = await fixture<PlugConfigForm>(html`<plug-config-form .schema=${schema} .loadOptions=${async () => []}></plug-config-form>`);
    const combo = el.shadowRoot!.querySelector('[role="combobox"]')!.parentElement!;
    const chevron = getComputedStyle(combo, '::after');
    expect(chevron.content).to.not.equal('none');
    expect(parseFloat(chevron.borderInlineEndWidth)).to.be.greaterThan(0);
  });

  it("puts the cards' headings where the host page's outline needs them", async () => {
    // The page's h1 names the marketplace: its own heading is hidden and the cards are h2s.
    const el = await marketplace('heading="" heading-level="2"');
    const heading = cards(el)[0]!.shadowRoot!.querySelector('h3')!;
    expect(heading.getAttribute('aria-level')).to.equal('2');
    await expect(el.parentElement!).to.be.accessible(); // heading-order (best practice) included
    // Default: an h2 title, cards under it.
    el.removeAttribute('heading');
    el.removeAttribute('heading-level');
    await el.updateComplete;
    await cards(el)[0]!.updateComplete;
    expect(cards(el)[0]!.shadowRoot!.querySelector('h3')!.hasAttribute('aria-level')).to.equal(false);
  });
});
