import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import '../../src/elements/marketplace/define.js';
import '../../src/elements/integration-dialog/define.js';
import '../../src/elements/execution-log/define.js';
import type { PlugMarketplace } from '../../src/elements/marketplace/marketplace.js';
import type { PlugIntegrationDialog } from '../../src/elements/integration-dialog/integration-dialog.js';
import type { PlugExecutionLog } from '../../src/elements/execution-log/execution-log.js';
import type { ExecutionSummary, IntegrationDetail } from '../../src/protocol/index.js';
import { API, FakeApi, catalog, instance, slackDetail, summary } from './fake-api.js';

const part = (el: Element, name: string): HTMLElement | null => el.shadowRoot!.querySelector(`[part~="${name}"]`);
/** Every text the customer can read in an element, through nested shadow roots. */
function deepText(node: Node): string {
  let out = '';
  for (const child of node.childNodes) {
    if (child.nodeType === Node.TEXT_NODE) out += child.textContent;
    else if (child instanceof Element) {
      if (child.shadowRoot) out += deepText(child.shadowRoot);
      out += ` ${child.getAttribute('aria-label') ?? ''} ${deepText(child)}`;
      if (child instanceof HTMLInputElement && child.type !== 'text') out += child.value;
    }
  }
  return out.replace(/\s+/g, ' ');
}

describe('counts and empty states say what is true', () => {
  let fake: FakeApi;
  afterEach(() => fake.restore());

  async function market(integrations = catalog.integrations): Promise<PlugMarketplace> {
    fake = new FakeApi().on('GET', '/integrations', { integrations });
    const el = await fixture<PlugMarketplace>(html`<plug-marketplace api=${API} token="t"></plug-marketplace>`);
    await waitUntil(() => part(el, 'toolbar')?.querySelector('.count')?.textContent?.trim(), 'no count');
    return el;
  }
  const count = (el: PlugMarketplace) => part(el, 'toolbar')!.querySelector('.count')!.textContent!.trim();
  const message = (el: PlugMarketplace) => part(el, 'message')?.textContent?.trim();

  it('counts with the language’s plural rules: one, many, none', async () => {
    let el = await market([summary({ key: 'one' })]);
    expect(count(el)).to.equal('1 integration');
    el = await market();
    expect(count(el)).to.equal('4 integrations');
    const search = part(el, 'search') as HTMLInputElement;
    search.value = 'zzz';
    search.dispatchEvent(new Event('input'));
    await el.updateComplete;
    expect(count(el)).to.equal('No integrations');
    expect(message(el)).to.equal('No integrations match your search.');
  });

  it('"Active only" with no search says there is nothing active yet, not that a search failed', async () => {
    const el = await market(catalog.integrations.filter((i) => i.instance?.status !== 'active'));
    const toggle = part(el, 'toggle')!.querySelector('input')!;
    toggle.click();
    await el.updateComplete;
    expect(message(el)).to.equal('No active integrations yet.');
    const category = part(el, 'category') as HTMLSelectElement;
    category.value = 'Messaging';
    category.dispatchEvent(new Event('change'));
    await el.updateComplete;
    expect(message(el)).to.equal('No active integrations in Messaging yet.');
    await expect(el).to.be.accessible();
  });

  it('"Active only" with a search that finds nothing says no active integration matches it', async () => {
    const el = await market();
    (part(el, 'toggle')!.querySelector('input') as HTMLInputElement).click();
    const search = part(el, 'search') as HTMLInputElement;
    search.value = 'zzz';
    search.dispatchEvent(new Event('input'));
    await el.updateComplete;
    expect(message(el)).to.equal('No active integrations match your search.');
  });
});

/** Like the demo's Ledgerly and Chatwave: one webhook the customer gives out, one the vendor's product calls. */
const hooksDetail: IntegrationDetail = {
  ...slackDetail,
  connections: [],
  configPages: [
    {
      title: 'Sync',
      schema: {
        type: 'object',
        properties: { intervalMinutes: { type: 'integer', title: 'Sync interval (minutes)', default: 15, 'x-plug-kind': 'number' } },
        'x-plug-order': ['intervalMinutes'],
      },
    },
  ],
  flows: [
    {
      name: 'paymentEvent',
      label: 'Billing alerts',
      description: 'Payment events above your threshold become alerts.',
      trigger: { type: 'webhook', hmac: true, customerFacing: true, label: 'Ledgerly payment events' },
    },
    { name: 'announce', label: 'Post events to Chatwave', trigger: { type: 'webhook', hmac: false, label: 'Acme CRM events' } },
    {
      name: 'syncContacts',
      label: 'Sync contacts',
      trigger: { type: 'schedule', cron: '*/15 * * * *', timezone: 'UTC', intervalField: 'intervalMinutes' },
    },
  ],
};

describe('the dialog speaks the customer’s words', () => {
  let fake: FakeApi;
  afterEach(() => fake.restore());

  it('shows only customer-facing webhook URLs, by label; runs by flow label with a summary and Details; the configured interval', async () => {
    const running = instance({
      status: 'active',
      connections: [],
      config: { intervalMinutes: 30 },
      webhooks: [
        {
          flow: 'paymentEvent',
          url: 'https://plugboard.test/hooks/abc',
          hmac: true,
          customerFacing: true,
          label: 'Ledgerly payment events',
          description: 'Add this URL in Ledgerly.',
        },
        { flow: 'announce', url: 'https://plugboard.test/hooks/internal', hmac: false, customerFacing: false, label: 'Acme CRM events' },
      ],
    });
    const runs: ExecutionSummary[] = [
      {
        id: 'ex-1',
        instanceId: 'inst-1',
        flow: 'announce',
        status: 'succeeded',
        trigger: 'webhook',
        attempt: 1,
        queuedAt: new Date().toISOString(),
        startedAt: new Date().toISOString(),
        endedAt: new Date().toISOString(),
        durationMs: 20,
        error: null,
        resultSummary: JSON.stringify({ posted: true, messageId: 'm-1', summary: 'Posted to #deals' }),
      },
    ];
    fake = new FakeApi()
      .on('GET', '/integrations/slack', { ...hooksDetail, instance: { id: 'inst-1', status: 'active', updatedAt: running.updatedAt } })
      .on('GET', '/instances/inst-1', running)
      .on('GET', '/instances/inst-1/executions', { executions: runs, nextCursor: null })
      .on('GET', '/executions/ex-1', { ...runs[0], logs: [], logsTruncated: false })
      .on('GET', '/instances/inst-1/audit', { events: [], nextCursor: null });
    const el = await fixture<PlugIntegrationDialog>(
      html`<plug-integration-dialog api=${API} token="t" integration-key="slack" open></plug-integration-dialog>`,
    );
    await waitUntil(() => el.shadowRoot!.querySelector('plug-execution-log'), 'no runs');
    const log = el.shadowRoot!.querySelector<PlugExecutionLog>('plug-execution-log')!;
    await waitUntil(() => log.shadowRoot!.querySelector('[part~="item"]'), 'no run shown');

    const text = deepText(el.shadowRoot!);
    expect(text).to.contain('Webhook URL for Ledgerly payment events');
    expect(text).to.contain('Add this URL in Ledgerly.');
    expect([...el.shadowRoot!.querySelectorAll('input[readonly]')].map((i) => (i as HTMLInputElement).value)).to.deep.equal([
      'https://plugboard.test/hooks/abc',
    ]);
    expect(text).to.contain('Sync contacts');
    expect(text).to.contain('every 30 minutes');
    expect(text).not.to.contain('every 15 minutes');

    const item = log.shadowRoot!.querySelector('[part~="item"]')!;
    expect(item.querySelector('.flow')!.textContent!.trim()).to.equal('Post events to Chatwave');
    expect(part(log, 'summary')!.textContent!.trim()).to.equal('Posted to #deals');
    item.querySelector('button')!.click();
    await waitUntil(() => log.shadowRoot!.querySelector('[part~="details"]'), 'no Details');
    const details = log.shadowRoot!.querySelector<HTMLDetailsElement>('[part~="details"]')!;
    expect(details.open).to.equal(false);
    expect(details.querySelector('summary')!.textContent!.trim()).to.equal('Details');
    expect(details.textContent).to.contain('"messageId": "m-1"');

    // No internal key anywhere a customer reads (the raw result sits behind "Details" only).
    details.remove();
    const all = deepText(el.shadowRoot!);
    for (const key of ['announce', 'paymentEvent', 'syncContacts']) expect(all).not.to.contain(key);
    await expect(el).to.be.accessible();
  });
});
