import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import '../../src/elements/integration-card/define.js';
import type { PlugIntegrationCard } from '../../src/elements/integration-card/integration-card.js';
import { hubspot, slack, summary } from './fake-api.js';
import { deepActiveElement, sendKeys } from './focus.js';

const part = (el: PlugIntegrationCard, name: string) => el.shadowRoot!.querySelector<HTMLElement>(`[part~="${name}"]`)!;

describe('<plug-integration-card>', () => {
  it('shows icon, name, category, description and status', async () => {
    const el = await fixture<PlugIntegrationCard>(html`<plug-integration-card .integration=${hubspot}></plug-integration-card>`);
    expect(part(el, 'open').textContent!.trim()).to.equal('HubSpot Contacts');
    expect(el.shadowRoot!.textContent).to.contain('CRM').and.to.contain('Sync contacts both ways.');
    expect(part(el, 'badge').textContent!.trim()).to.equal('Active');
    expect(part(el, 'icon').tagName).to.equal('SPAN'); // no icon: a letter tile
    expect(part(el, 'icon').textContent).to.equal('H');
    await expect(el).to.be.accessible();
  });

  it('shows http(s) and data:image icons as <img>, and nothing else', async () => {
    const el = await fixture<PlugIntegrationCard>(html`<plug-integration-card .integration=${slack}></plug-integration-card>`);
    expect(part(el, 'icon').tagName).to.equal('IMG');
    expect(part(el, 'icon').getAttribute('alt')).to.equal('');
    for (const icon of ['javascript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'vbscript:x', '//evil.example/x.png']) {
      el.integration = summary({ key: 'x', name: 'X', icon });
      await el.updateComplete;
      expect(part(el, 'icon').tagName, icon).to.equal('SPAN');
    }
  });

  it('opens with Enter and Space, with a cancelable bubbling event', async () => {
    const el = await fixture<PlugIntegrationCard>(html`<plug-integration-card .integration=${slack}></plug-integration-card>`);
    el.focus(); // delegatesFocus: lands on the name button
    expect(deepActiveElement()).to.equal(part(el, 'open'));
    let opened = oneEvent(document, 'plug-integration-open');
    await sendKeys({ press: 'Enter' });
    const event = await opened;
    expect(event.detail.integration.key).to.equal('slack');
    expect(event.cancelable && event.bubbles && event.composed).to.equal(true);
    opened = oneEvent(document, 'plug-integration-open');
    await sendKeys({ press: 'Space' });
    expect((await opened).detail.integration.key).to.equal('slack');
  });

  it('renders hostile text as text', async () => {
    const el = await fixture<PlugIntegrationCard>(
      html`<plug-integration-card .integration=${summary({ key: 'e', name: '<img src=x onerror=alert(1)>', description: '<i>x</i>' })}></plug-integration-card>`,
    );
    expect(part(el, 'open').textContent!.trim()).to.equal('<img src=x onerror=alert(1)>');
    expect(el.shadowRoot!.querySelectorAll('img, i')).to.have.length(0);
  });

  it('takes per-element and global tokens, and translations', async () => {
    const wrapper = await fixture<HTMLDivElement>(
      html`<div><plug-integration-card .integration=${hubspot} .translations=${{ 'status.active': 'Läuft' }}></plug-integration-card></div>`,
    );
    const el = wrapper.querySelector('plug-integration-card')!;
    expect(part(el, 'badge').textContent!.trim()).to.equal('Läuft');
    wrapper.style.setProperty('--plug-color-primary', 'rgb(10, 20, 30)');
    expect(getComputedStyle(part(el, 'icon')).backgroundColor).to.equal('rgb(10, 20, 30)');
    wrapper.style.setProperty('--plug-card-background', 'rgb(250, 240, 230)');
    expect(getComputedStyle(part(el, 'card')).backgroundColor).to.equal('rgb(250, 240, 230)');
  });
});
