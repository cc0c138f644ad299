import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import '../../src/elements/index.js';
import type { PlugInstanceStatus } from '../../src/elements/instance-status/instance-status.js';
import { API, FakeApi, catalog, instance } from './fake-api.js';

describe('<plug-provider>', () => {
  let fake: FakeApi;
  beforeEach(() => {
    fake = new FakeApi().on('GET', '/instances/inst-1', instance({ status: 'active' })).on('GET', '/integrations', catalog);
  });
  afterEach(() => fake.restore());

  it('gives nested elements one client and shared translations', async () => {
    const el = await fixture(html`<plug-provider api=${API} token="shared" .translations=${{ 'status.active': 'Aktiv' }}>
      <section>
        <plug-instance-status instance-id="inst-1"></plug-instance-status>
        <plug-marketplace></plug-marketplace>
      </section>
    </plug-provider>`);
    const status = el.querySelector<PlugInstanceStatus>('plug-instance-status')!;
    await waitUntil(() => status.shadowRoot!.textContent!.includes('Aktiv'));
    const market = el.querySelector('plug-marketplace')!;
    await waitUntil(() => market.shadowRoot!.querySelectorAll('plug-integration-card').length === 4);
    expect(fake.calls.every((c) => c.headers.get('authorization') === 'Bearer shared')).to.equal(true);
    expect(fake.calls.map((c) => c.path).sort()).to.deep.equal(['/instances/inst-1', '/integrations']);
    await expect(el).to.be.accessible();
  });

  it('gives no client before a token source exists, then one request per consumer', async () => {
    const el = await fixture<HTMLElement & { getToken?: () => Promise<string> }>(html`<plug-provider api=${API}>
      <plug-instance-status instance-id="inst-1"></plug-instance-status>
    </plug-provider>`);
    const status = el.querySelector<PlugInstanceStatus>('plug-instance-status')!;
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 20));
    await status.updateComplete;
    expect(fake.calls).to.have.length(0);
    el.getToken = async () => 'given';
    await waitUntil(() => status.shadowRoot!.textContent!.includes('Active'));
    expect(fake.calls.map((c) => `${c.path} ${c.headers.get('authorization')}`)).to.deep.equal(['/instances/inst-1 Bearer given']);
  });

  it('reaches consumers that upgraded before their provider (ContextRoot)', async () => {
    // The provider's tag is not defined yet when the consumer connects and asks for context.
    const host = await fixture<HTMLDivElement>(
      html`<div><plug-provider-late api=${API} token="late"><plug-instance-status instance-id="inst-1"></plug-instance-status></plug-provider-late></div>`,
    );
    const status = host.querySelector<PlugInstanceStatus>('plug-instance-status')!;
    await status.updateComplete;
    expect(fake.calls).to.have.length(0); // no client yet
    const { PlugProvider } = await import('../../src/elements/provider/provider.js');
    customElements.define('plug-provider-late', class extends PlugProvider {});
    await waitUntil(() => status.shadowRoot!.textContent!.includes('Active'), 'late provider never reached the consumer');
    expect(fake.calls[0]!.headers.get('authorization')).to.equal('Bearer late');
  });

  it('does not throw when the bundle defines its elements a second time', async () => {
    const { PlugMarketplace } = await import('../../src/elements/index.js');
    class Copy extends PlugMarketplace {}
    expect(() => Copy.define('plug-marketplace')).to.not.throw();
    expect(customElements.get('plug-marketplace')).to.equal(PlugMarketplace);
  });
});
