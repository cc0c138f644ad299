// A new customer's walk through the demo, the parts the other end-to-end files leave out:
// keyboard only (Tab, Shift+Tab, Enter, Escape, arrows), the "Active only" filter's empty states,
// and a run's details read on a phone. The real demo and bundle in Debian's Chromium; axe
// (best practices included) in each state; no internal name (integration or flow key, raw JSON)
// on the screen outside a "Details" disclosure.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { axeViolations, inPage, shown } from './fixtures/chromium.js';
import { packageRoot } from '../../demo/host-page.js';
import type { RunningDemo } from '../../demo/main.js';
import { startDemoInChromium } from './fixtures/demo-in-chromium.js';
import { ensureBundle } from '../e2e/bundle.js';

const bundle = ensureBundle(packageRoot());
const KEYS = ['webhook-forwarder', 'northwind-crm-sync', 'chatwave-notifier', 'gridsheet-daily-export', 'ledgerly-billing-alerts'];

let demo: RunningDemo;
let close: (() => Promise<void>) | undefined;
let browser: Browser;

interface Focused {
  /** Tag and accessible text of the focused element, through shadow roots. */
  name: string;
  /** Where it sits: the custom elements around it, outermost first. */
  hosts: string[];
  /** A focus ring shows: the element's own outline or shadow, or (a card's button) its card's. */
  ring: boolean;
}

/** The focused element as a keyboard user meets it; undefined when the focus fell to <body>. */
function focused(page: Page): Promise<Focused | undefined> {
  return page.evaluate(() => {
    let el = document.activeElement;
    const hosts: string[] = [];
    while (el?.shadowRoot?.activeElement) {
      hosts.push(el.localName);
      el = el.shadowRoot.activeElement;
    }
    if (!(el instanceof HTMLElement) || el === document.body) return undefined;
    // No named helpers in here: tsx would wrap them in a __name() the page does not have.
    let ring = false;
    for (const e of [el, el.closest('[part~="card"]')]) {
      const s = e && getComputedStyle(e);
      if (s && ((s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none')) ring = true;
    }
    const label = el.getAttribute('aria-label') ?? (el as HTMLInputElement).labels?.[0]?.textContent ?? el.textContent ?? '';
    return { name: `${el.localName} ${label.replace(/\s+/g, ' ').trim()}`, hosts, ring };
  });
}

/** Presses Tab (or Shift+Tab) until the focused element's text matches; every stop must show its focus. */
async function tabTo(page: Page, name: RegExp, back = false): Promise<Focused> {
  const seen: string[] = [];
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const now = await focused(page);
    assert.ok(now, `the focus fell to <body> after ${seen.join(' → ')}`);
    assert.ok(now.ring, `no focus ring on ${now.name}`);
    seen.push(now.name);
    if (name.test(now.name)) return now;
  }
  assert.fail(`never reached ${name}: ${seen.join(' → ')}`);
}

/** Visible text on the page that names an integration by its key or shows raw JSON (a closed "Details" hides it). */
async function internalNamesShown(page: Page): Promise<string[]> {
  const text = await page.evaluate(() => {
    const out: string[] = [];
    const roots: (Document | ShadowRoot)[] = [document];
    for (let root = roots.pop(); root; root = roots.pop()) {
      const texts = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let node = texts.nextNode(); node; node = texts.nextNode()) {
        const parent = node.parentElement;
        if (parent && parent.checkVisibility() && !parent.closest('details:not([open])')) out.push(node.textContent ?? '');
      }
      for (const el of root.querySelectorAll('*')) if (el.shadowRoot) roots.push(el.shadowRoot);
    }
    return out.join(' ');
  });
  return [...KEYS.filter((key) => text.includes(key)), ...(/\{\s*"/.test(text) ? ['raw JSON'] : [])];
}

describe("a new customer's walk through the demo: keyboard only, Active only, run details on a phone", { skip: bundle.skip }, () => {
  before(async () => {
    ({ demo, browser, close } = await startDemoInChromium('e2e-walk', bundle.path));
  });

  after(() => close?.());

  test('Active only says what is true: nothing active yet, then only what is active', async () => {
    await inPage(browser, { viewport: { width: 375, height: 740 }, colorScheme: 'dark' }, async (page) => {
      await page.goto(`${demo.url}/?customer=initech`);
      await shown(page.getByRole('button', { name: 'Webhook forwarder', exact: true }));
      await page.getByRole('checkbox', { name: 'Active only' }).check();
      await shown(page.getByText('No active integrations yet.', { exact: true }));
      await shown(page.getByRole('status').getByText('No integrations', { exact: true }));
      assert.equal(await page.getByText('No integrations match your search.').count(), 0, 'there was no search');
      assert.deepEqual(await axeViolations(page), []);
      await page.getByRole('combobox', { name: 'Category' }).selectOption({ label: 'CRM' });
      await shown(page.getByText('No active integrations in CRM yet.', { exact: true }));
      assert.deepEqual(await axeViolations(page), []);
    });
  });

  test('keyboard only: search, open, set up, save, activate, close back to the card, send a sample; focus always shown and kept in the dialog', async () => {
    await inPage(browser, { viewport: { width: 1280, height: 800 } }, async (page) => {
      await page.goto(`${demo.url}/?customer=globex`);
      await shown(page.getByRole('button', { name: 'Webhook forwarder', exact: true }));
      await tabTo(page, /^input Search integrations/);
      await page.keyboard.type('forward');
      await page.getByRole('button', { name: 'Chatwave notifications', exact: true }).waitFor({ state: 'hidden' });
      const opener = await tabTo(page, /^button Webhook forwarder$/);
      assert.deepEqual(opener.hosts, ['plug-marketplace', 'plug-integration-card']);
      await page.keyboard.press('Enter');
      const dialog = await shown(page.getByRole('dialog', { name: 'Webhook forwarder' }));
      assert.match((await focused(page))?.name ?? '', /^button Close$/, 'the dialog takes the focus');
      // Shift+Tab from the first control wraps round inside the modal, never out to the page.
      const last = await tabTo(page, /./, true);
      assert.ok(last.hosts.includes('plug-integration-dialog'), `Shift+Tab left the dialog for ${last.name}`);

      await tabTo(page, /^button Set up$/);
      await page.keyboard.press('Enter');
      await shown(dialog.getByRole('heading', { name: 'Destination', exact: true }));
      await tabTo(page, /^input Target URL/);
      await page.keyboard.type(`${demo.url}/demo/inbox`);
      await tabTo(page, /^input Retries on failure/);
      await page.keyboard.press('ArrowUp'); // 3 → 4
      await tabTo(page, /^button Save$/);
      await page.keyboard.press('Enter');
      await shown(dialog.getByRole('button', { name: 'Activate' }));
      assert.ok(await focused(page), 'the focus is kept after the save');
      await tabTo(page, /^button Activate$/);
      await page.keyboard.press('Enter');
      await shown(dialog.getByRole('button', { name: 'Pause' }));
      await shown(page.getByRole('status').filter({ hasText: 'Activated' }));
      const after = await focused(page);
      assert.ok(after?.hosts.includes('plug-integration-dialog'), `after Activate the focus is in the dialog, not ${after?.name ?? '<body>'}`);
      assert.deepEqual(await axeViolations(page), []);
      assert.deepEqual(await internalNamesShown(page), []);

      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      assert.deepEqual(await focused(page), opener, 'Escape returns the focus to the card that opened the dialog');
      await tabTo(page, /^button Send a sample event to Webhook forwarder/);
      await page.keyboard.press('Enter');
      await shown(page.getByRole('status').filter({ hasText: 'Sent: Webhook forwarder took the event' }));
      await shown(page.getByRole('region', { name: 'Inbox' }).getByText('Forwarded event', { exact: true }));
      assert.deepEqual(await internalNamesShown(page), []);
    });
  });

  test("on a phone, a run reads in the customer's words: the flow's label and a summary, the raw result behind Details, nothing clipped", async () => {
    await inPage(browser, { viewport: { width: 375, height: 740 } }, async (page) => {
      await page.goto(`${demo.url}/?customer=globex`);
      await (await shown(page.getByRole('button', { name: 'Webhook forwarder', exact: true }))).click();
      const dialog = await shown(page.getByRole('dialog', { name: 'Webhook forwarder' }));
      const runs = dialog.getByRole('list', { name: 'Runs' });
      const run = await shown(runs.getByRole('button', { name: /Forward events/ }));
      await shown(run.getByText('Succeeded', { exact: true }));
      await shown(run.getByText(/^Forwarded to localhost:\d+$/));
      await run.click();
      const details = await shown(dialog.getByText('Details', { exact: true }));
      assert.deepEqual(await internalNamesShown(page), [], 'before Details: words only');
      const summaryBox = await details.boundingBox();
      assert.ok(summaryBox && summaryBox.height >= 44, `"Details" is a touch target (${summaryBox?.height} px)`);
      await details.click();
      const raw = await shown(dialog.locator('pre').filter({ hasText: '"status": 201' }));
      const fits = await raw.evaluate((pre) => ({ scroll: pre.scrollWidth <= pre.clientWidth, right: pre.getBoundingClientRect().right }));
      assert.ok(fits.scroll && fits.right <= 375, `the raw result wraps on screen (right edge ${fits.right})`);
      assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 375, 'no sideways scroll');
      assert.deepEqual(await axeViolations(page), []);
    });
  });
});
