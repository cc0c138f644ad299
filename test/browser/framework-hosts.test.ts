// A Vue 3 host page, at run time (the types are framework-types.test.ts's): the elements get
// their properties (a getToken function, translations) and attributes from a Vue render, and
// Vue's listeners hear their events, as docs/elements.md tells a Vue app to write them.
import { expect, waitUntil } from '@open-wc/testing';
// The browser build (vue-browser.d.ts): the bundler builds read process.env, which a page does not have.
import { createApp, h, nextTick, ref } from 'vue/dist/vue.runtime.esm-browser.js';
import '../../src/elements/marketplace/define.js';
import type { PlugMarketplace } from '../../src/elements/marketplace/marketplace.js';
import { API, FakeApi, catalog, fakeJwt } from './fake-api.js';

describe('a Vue host', () => {
  let fake: FakeApi;
  let host: HTMLElement;
  beforeEach(() => {
    fake = new FakeApi().on('GET', '/integrations', catalog);
    host = document.createElement('div');
    document.body.append(host);
  });
  afterEach(() => {
    fake.restore();
    host.remove();
  });

  it('passes getToken and translations as properties, theme and heading-level as attributes (a change of theme too), and hears plug-integration-open', async () => {
    const opened: string[] = [];
    const theme = ref('dark');
    const app = createApp({
      render: () =>
        h('plug-marketplace', {
          api: API,
          '.getToken': async () => fakeJwt({ exp: Math.floor(Date.now() / 1000) + 3600 }),
          '.translations': { 'marketplace.search': 'Suchen' },
          theme: theme.value,
          heading: '', // the host's own heading names the marketplace: the cards sit at heading-level
          'heading-level': '4',
          onPlugIntegrationOpen: (e: CustomEvent<{ integration: { key: string } }>) => {
            opened.push(e.detail.integration.key);
            e.preventDefault(); // the host shows its own view
          },
        }),
    });
    app.mount(host);
    const el = host.querySelector<PlugMarketplace>('plug-marketplace')!;
    await waitUntil(() => el.shadowRoot?.querySelector('plug-integration-card'), 'the catalog shows: getToken reached the element');
    expect(typeof el.getToken).to.equal('function');
    expect(el.shadowRoot!.querySelector('input')!.getAttribute('aria-label')).to.equal('Suchen');
    expect(el.getAttribute('theme')).to.equal('dark');
    await waitUntil(
      () => el.shadowRoot!.querySelector('plug-integration-card')!.shadowRoot!.querySelector('h3[aria-level="4"]'),
      'heading-level reached the cards',
    );

    el.shadowRoot!.querySelector('plug-integration-card')!.shadowRoot!.querySelector<HTMLButtonElement>('[part~="open"]')!.click();
    await waitUntil(() => opened.length === 1, 'Vue heard plug-integration-open');
    theme.value = 'light';
    await nextTick();
    expect(el.getAttribute('theme')).to.equal('light');
    app.unmount();
  });
});
