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

  it('gives its open button a 44 px touch target of its own, and the card the same height as with a text-sized one', async () => {
    const el = await fixture<PlugIntegrationCard>(
      html`<div style="width: 343px"><plug-integration-card .integration=${summary({ key: 'x', name: 'X', description: 'One line.' })}></plug-integration-card></div>`,
    );
    const card = el.querySelector('plug-integration-card')!;
    const open = part(card, 'open').getBoundingClientRect();
    expect(open.height, 'height').to.be.at.least(44);
    expect(open.width, 'width').to.be.at.least(44);
    // The padding is given back by the margins: the name's line, and so the card, keep their size.
    const article = part(card, 'card').getBoundingClientRect().height;
    part(card, 'open').style.cssText = 'padding: 0; margin: 0; display: inline; min-inline-size: 0';
    await card.updateComplete;
    expect(part(card, 'card').getBoundingClientRect().height).to.be.closeTo(article, 0.5);
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

  it("rings the icon so its edge shows on the surface whatever the icon's colors, light and dark", async () => {
    // The demo's Webhook forwarder: a #1f2937 tile, which all but vanished on the dark surface.
    const darkTile = summary({
      key: 'w',
      name: 'Webhook forwarder',
      icon: 'data:image/svg+xml,%3Csvg xmlns="http://www.w3.org/2000/svg"%3E%3Crect width="32" height="32" fill="%231f2937"/%3E%3C/svg%3E',
    });
    for (const [theme, least] of [
      ['dark', 3],
      ['light', 1.2],
    ] as const) {
      const el = await fixture<PlugIntegrationCard>(html`<plug-integration-card theme=${theme} .integration=${darkTile}></plug-integration-card>`);
      const surface = rgba(getComputedStyle(part(el, 'card')).backgroundColor);
      const shadow = getComputedStyle(part(el, 'icon')).boxShadow;
      expect(shadow, theme).to.match(/ 0px 0px 0px 1px$/);
      const ring = over(rgba(shadow), surface);
      expect(contrast(ring, surface), `${theme}: ring ${shadow} on ${surface.join(',')}`).to.be.at.least(least);
    }
  });
});

/** The first `rgb()`/`rgba()` color in a computed style value, as [r, g, b, a]. */
function rgba(value: string): number[] {
  const m = /rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?\)/.exec(value);
  if (!m) throw new Error(`no color in "${value}"`);
  return [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])];
}

/** `top` painted over the opaque `bottom`. */
function over(top: number[], bottom: number[]): number[] {
  const a = top[3]!;
  return [0, 1, 2].map((i) => top[i]! * a + bottom[i]! * (1 - a)).concat(1);
}

/** WCAG contrast ratio of two opaque colors. */
function contrast(x: number[], y: number[]): number {
  const luminance = (c: number[]) => {
    const [r, g, b] = c.slice(0, 3).map((v) => (v / 255 <= 0.04045 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
  };
  const [hi, lo] = [luminance(x), luminance(y)].sort((p, q) => q - p);
  return (hi! + 0.05) / (lo! + 0.05);
}
