import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import '../../src/elements/instance-status/define.js';
import type { PlugInstanceStatus } from '../../src/elements/instance-status/instance-status.js';
import { API, FakeApi, fakeJwt, instance, json, problem } from './fake-api.js';

const badge = (el: PlugInstanceStatus) => el.shadowRoot!.querySelector('[part~="badge"]');

describe('<plug-instance-status>', () => {
  let fake: FakeApi;
  beforeEach(() => {
    fake = new FakeApi().on('GET', '/instances/inst-1', instance({ status: 'active' }));
  });
  afterEach(() => fake.restore());

  it('reads the instance once and shows its status badge', async () => {
    const el = await fixture<PlugInstanceStatus>(html`<plug-instance-status api=${API} token="t" instance-id="inst-1"></plug-instance-status>`);
    await waitUntil(() => badge(el));
    expect(badge(el)!.textContent!.trim()).to.equal('Active');
    expect(badge(el)!.getAttribute('part')).to.equal('badge badge-active');
    expect(fake.count('GET', '/instances/inst-1')).to.equal(1);
    await expect(el).to.be.accessible();
  });

  it('follows instance events fired anywhere on the page', async () => {
    const el = await fixture<PlugInstanceStatus>(html`<plug-instance-status api=${API} token="t" instance-id="inst-1"></plug-instance-status>`);
    await waitUntil(() => badge(el));
    document.body.dispatchEvent(
      new CustomEvent('plug-instance-paused', { detail: { instance: instance({ status: 'paused' }) }, bubbles: true, composed: true }),
    );
    await el.updateComplete;
    expect(badge(el)!.textContent!.trim()).to.equal('Paused');
    document.body.dispatchEvent(new CustomEvent('plug-instance-paused', { detail: { instance: instance({ id: 'other', status: 'active' }) }, bubbles: true }));
    await el.updateComplete;
    expect(badge(el)!.textContent!.trim()).to.equal('Paused');
  });

  it('uses translations and reports an unknown status with plug-error', async () => {
    fake.on('GET', '/instances/gone', problem(404, { title: 'Instance not found' }));
    const errors: CustomEvent[] = [];
    const listener = (e: CustomEvent) => errors.push(e);
    document.addEventListener('plug-error', listener);
    const el = await fixture<PlugInstanceStatus>(
      html`<plug-instance-status api=${API} token="t" instance-id="gone" .translations=${{ 'status.unknown': 'Statut inconnu' }}></plug-instance-status>`,
    );
    await waitUntil(() => el.shadowRoot!.textContent!.includes('Statut inconnu'));
    document.removeEventListener('plug-error', listener);
    expect(errors[0]!.detail).to.include({ action: 'load-instance', message: 'Instance not found' });
    await expect(el).to.be.accessible();
  });

  it('refreshes its token after a 401', async () => {
    let n = 0;
    const tokens = [fakeJwt({ exp: Date.now() / 1000 + 600, n: 1 }), fakeJwt({ exp: Date.now() / 1000 + 600, n: 2 })];
    fake.on('GET', '/instances/inst-1', (req) => (req.headers.get('authorization') === `Bearer ${tokens[1]}` ? json(instance()) : problem(401)));
    const el = await fixture<PlugInstanceStatus>(
      html`<plug-instance-status api=${API} .getToken=${() => tokens[Math.min(n++, 1)]!} instance-id="inst-1"></plug-instance-status>`,
    );
    await waitUntil(() => badge(el));
    expect(badge(el)!.textContent!.trim()).to.equal('Draft');
    expect(n).to.equal(2);
  });

  it('takes theme tokens from the host page', async () => {
    const wrapper = await fixture<HTMLDivElement>(html`<div><plug-instance-status api=${API} token="t" instance-id="inst-1"></plug-instance-status></div>`);
    const el = wrapper.querySelector('plug-instance-status')!;
    await waitUntil(() => badge(el));
    wrapper.style.setProperty('--plug-color-success', 'rgb(0, 128, 1)');
    expect(getComputedStyle(badge(el)!).color).to.equal('rgb(0, 128, 1)');
  });
});
