// The Acme CRM host page on a phone (375 × 812), light and dark, in Debian's Chromium: axe finds
// nothing on it, and the page's own tabs (the sidebar become a strip) all show, the current one
// included, without a region that only a mouse can scroll. The theming page too.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { axeViolations, inPage, shown } from './fixtures/chromium.js';
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
      await inPage(browser, { viewport: { width: 375, height: 812 }, colorScheme }, async (page) => {
        await page.goto(`${demo.url}/?customer=globex`);
        await shown(page.getByRole('button', { name: 'Webhook forwarder', exact: true }));
        assert.deepEqual(await axeViolations(page), []);
        const tabs = page.getByRole('complementary', { name: 'Acme CRM' }).getByRole('listitem');
        assert.equal(await tabs.count(), 6);
        for (const tab of await tabs.all()) {
          const box = await tab.boundingBox();
          assert.ok(box && box.x >= 0 && box.x + box.width <= 375, `${await tab.innerText()} is on screen`);
        }
        // The header's links are touch targets too: at least 44 px tall.
        for (const name of ['Acme CRM', 'Integrations', 'Theming']) {
          const box = await page.getByRole('banner').getByRole('link', { name, exact: true }).boundingBox();
          assert.ok(box && box.height >= 44, `the header's "${name}" link is ${box?.height} px tall`);
        }
      });
    });

    test(`${colorScheme}: on the theming page axe finds nothing, and the CSS the host sets is read without scrolling sideways`, async () => {
      await inPage(browser, { viewport: { width: 375, height: 812 }, colorScheme }, async (page) => {
        await page.goto(`${demo.url}/theming.html?customer=globex`);
        await shown(page.getByRole('button', { name: 'Webhook forwarder', exact: true }));
        for (const look of ['Plugboard default', 'Sunset (warm, round, roomy)']) {
          await page.getByRole('radio', { name: look }).check();
          assert.deepEqual(await axeViolations(page), [], look);
          const css = page.getByLabel('CSS the host sets');
          assert.ok(await css.evaluate((el) => el.scrollWidth <= el.clientWidth), `${look}: the CSS fits its box`);
        }
      });
    });
  }

  test('a new customer sets up Northwind on a phone: a full-screen sheet, a refused key keeps what was typed, closing midway loses nothing', async () => {
    await inPage(browser, { viewport: { width: 375, height: 812 } }, async (page) => {
      await page.goto(`${demo.url}/?customer=globex`);
      await (await shown(page.getByRole('button', { name: 'Northwind CRM contact sync', exact: true }))).click();
      const dialog = await shown(page.getByRole('dialog', { name: 'Northwind CRM contact sync' }));
      const box = await dialog.boundingBox();
      assert.ok(box && box.x >= 0 && box.y >= 0 && box.x + box.width <= 375 && box.y + box.height <= 812, 'the sheet is on screen');
      await dialog.getByRole('button', { name: 'Set up', exact: true }).click();
      const accountId = await shown(dialog.getByRole('textbox', { name: 'Account ID' }));
      const apiKey = dialog.getByRole('textbox', { name: 'API key' });
      await accountId.fill('nw-204815');
      await apiKey.fill('sk_live_wrong');
      await dialog.getByRole('button', { name: 'Save credentials' }).click();
      await shown(dialog.getByText('The service did not accept this key.', { exact: false }));
      assert.equal(await accountId.inputValue(), 'nw-204815');
      assert.equal(await apiKey.inputValue(), 'sk_live_wrong');
      await apiKey.fill('demo_7c41e9a0');
      await dialog.getByRole('button', { name: 'Save credentials' }).click();
      await shown(dialog.getByText('Connected as Globex Sales (nw-204815)').first());
      assert.deepEqual(await axeViolations(page), []);

      await dialog.getByRole('button', { name: 'Next' }).click();
      await (await shown(dialog.getByRole('spinbutton', { name: 'Sync interval (minutes)' }))).fill('30');
      await dialog.getByRole('button', { name: 'Next' }).click();
      await shown(dialog.getByRole('heading', { name: 'Field mapping', exact: true }));
      await dialog.getByRole('textbox', { name: 'Owner for new contacts' }).fill('sales@globex.example');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });

      await page.getByRole('button', { name: 'Northwind CRM contact sync', exact: true }).click();
      await shown(dialog.getByText('every 30 minutes', { exact: false }));
      await dialog.getByRole('button', { name: 'Continue setup' }).click();
      await shown(dialog.getByRole('heading', { name: 'Field mapping', exact: true }));
      assert.equal(await dialog.getByRole('textbox', { name: 'Owner for new contacts' }).inputValue(), 'sales@globex.example');
    });
  });
});
