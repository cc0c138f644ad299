// The Acme CRM host page on a phone (375 × 812), light and dark, in Debian's Chromium: axe finds
// nothing on it, and the page's own tabs (the sidebar become a strip) all show, the current one
// included, without a region that only a mouse can scroll. The theming page too.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { axeViolations, shown } from './fixtures/chromium.js';
import { packageRoot } from '../../demo/host-page.js';
import type { RunningDemo } from '../../demo/main.js';
import { startDemoInChromium } from './fixtures/demo-in-chromium.js';
import { ensureBundle } from '../e2e/bundle.js';

const bundle = ensureBundle(packageRoot());

let demo: RunningDemo;
let close: (() => Promise<void>) | undefined;
let browser: Browser;

describe('the demo host page on a phone', { skip: bundle.skip }, () => {
  before(async () => {
    ({ demo, browser, close } = await startDemoInChromium('e2e-phone', bundle.path));
  });

  after(() => close?.());

  for (const colorScheme of ['light', 'dark'] as const) {
    test(`${colorScheme}: axe finds nothing and every tab of the page, the current one too, is on screen`, async () => {
      const context = await browser.newContext({ viewport: { width: 375, height: 812 }, colorScheme });
      try {
        const page = await context.newPage();
        await page.goto(`${demo.url}/?customer=globex`);
        await shown(page.getByRole('button', { name: 'Webhook forwarder', exact: true }));
        assert.deepEqual(await axeViolations(page), []);
        const tabs = page.getByRole('complementary', { name: 'Acme CRM' }).getByRole('listitem');
        assert.equal(await tabs.count(), 6);
        for (const tab of await tabs.all()) {
          const box = await tab.boundingBox();
          assert.ok(box && box.x >= 0 && box.x + box.width <= 375, `${await tab.innerText()} is on screen`);
        }
      } finally {
        await context.close();
      }
    });

    test(`${colorScheme}: on the theming page axe finds nothing, and the CSS the host sets is read without scrolling sideways`, async () => {
      const context = await browser.newContext({ viewport: { width: 375, height: 812 }, colorScheme });
      try {
        const page = await context.newPage();
        await page.goto(`${demo.url}/theming.html?customer=globex`);
        await shown(page.getByRole('button', { name: 'Webhook forwarder', exact: true }));
        for (const look of ['Plugboard default', 'Sunset (warm, round, roomy)']) {
          await page.getByRole('radio', { name: look }).check();
          assert.deepEqual(await axeViolations(page), [], look);
          const css = page.getByLabel('CSS the host sets');
          assert.ok(await css.evaluate((el) => el.scrollWidth <= el.clientWidth), `${look}: the CSS fits its box`);
        }
      } finally {
        await context.close();
      }
    });
  }
});
