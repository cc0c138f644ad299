// End to end, as a customer: the real demo server (startDemo) on a free port, the real
// dist/plugboard.js in Debian's Chromium (playwright-core), the Acme CRM page under its strict
// CSP. Globex's admin browses the marketplace, sets up the Northwind CRM sync (API credentials,
// two config pages), saves, activates, pauses and deletes it; Initech never sees any of it.
// Locators go by role and label only; Playwright's role engine pierces open shadow roots.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { packageRoot } from '../../demo/host-page.js';
import type { RunningDemo } from '../../demo/main.js';
import { startDemoInChromium } from './fixtures/demo-in-chromium.js';
import { ensureBundle } from '../e2e/bundle.js';

const WAIT = 30_000; // generous: CI machines are small and busy

const bundle = ensureBundle(packageRoot());

let demo: RunningDemo;
let close: (() => Promise<void>) | undefined;
let browser: Browser;
let globex: BrowserContext;
let page: Page;
/** Console errors, page errors and CSP violations seen on any page. */
const problems: string[] = [];
/** API requests of the Globex page, in order. */
const apiRequests: string[] = [];

async function shown(locator: Locator): Promise<Locator> {
  await locator.waitFor({ state: 'visible', timeout: WAIT });
  return locator;
}

async function openCustomerPage(context: BrowserContext, customer: string): Promise<Page> {
  const p = await context.newPage();
  p.on('console', (m) => {
    if (m.type() === 'error') problems.push(`${customer} console: ${m.text()}`);
  });
  p.on('pageerror', (e) => problems.push(`${customer} pageerror: ${e.message}`));
  p.on('request', (r) => {
    if (customer === 'globex' && new URL(r.url()).pathname.startsWith('/api/')) apiRequests.push(`${r.method()} ${new URL(r.url()).pathname}`);
  });
  p.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${customer} HTTP ${r.status()} ${r.request().method()} ${r.url()}`);
  });
  await p.goto(`${demo.url}/?customer=${customer}`);
  return p;
}

async function apiAs(customer: string, path: string): Promise<unknown> {
  const { token } = (await (await fetch(`${demo.url}/demo/token?customer=${customer}`)).json()) as { token: string };
  const res = await fetch(`${demo.url}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return res.json();
}

/** The card of an integration in the marketplace grid. */
function card(p: Page, name: string): Locator {
  return p.getByRole('listitem').filter({ has: p.getByRole('button', { name, exact: true }) });
}

describe('end to end: a customer sets up an integration in the Acme CRM demo', { skip: bundle.skip }, () => {
  before(async () => {
    ({ demo, browser, close } = await startDemoInChromium('e2e', bundle.path));
    globex = await browser.newContext();
    page = await openCustomerPage(globex, 'globex');
  });

  after(() => close?.());

  test('the marketplace renders under the page CSP, styled through adopted stylesheets', async () => {
    await shown(page.getByRole('heading', { name: 'Integrations', level: 1 }));
    await shown(page.getByRole('searchbox', { name: 'Search integrations' }));
    for (const name of ['Chatwave notifications', 'Northwind CRM contact sync', 'Webhook forwarder', 'Gridsheet daily export', 'Ledgerly billing alerts']) {
      await shown(page.getByRole('button', { name, exact: true }));
    }
    const styling = await page.evaluate(() => {
      const root = document.querySelector('plug-marketplace')!.shadowRoot!;
      return {
        adopted: root.adoptedStyleSheets.length,
        styleTags: root.querySelectorAll('style').length,
        display: getComputedStyle(root.querySelector('.toolbar')!).display,
      };
    });
    assert.ok(styling.adopted > 0, 'Lit styles arrive as constructable stylesheets');
    assert.equal(styling.styleTags, 0, 'no <style> elements that style-src would block');
    // The toolbar is a <div>: 'block' without its component styles, 'flex' with them.
    assert.equal(styling.display, 'flex', 'the toolbar has its component styles');
    assert.deepEqual(
      problems.filter((p) => /Content Security Policy|Refused to/i.test(p)),
      [],
    );
    // The Acme page lists instances itself (its "Try a flow" panel); the marketplace needs one request.
    assert.deepEqual(
      apiRequests.filter((r) => r !== 'GET /api/v1/instances'),
      ['GET /api/v1/integrations'],
      'one API round trip before the marketplace shows',
    );
  });

  test('a second visit revalidates the catalog: the browser cache sends If-None-Match, gets 304, shows the same cards', async () => {
    const again = await globex.newPage();
    const catalog: Promise<{ status: number; ifNoneMatch?: string; bodyBytes: number }>[] = [];
    again.on('requestfinished', (r) => {
      if (new URL(r.url()).pathname !== '/api/v1/integrations') return;
      catalog.push(
        Promise.all([r.allHeaders(), r.sizes(), r.response()]).then(([h, sizes, res]) => ({
          status: res!.status(),
          ifNoneMatch: h['if-none-match'],
          bodyBytes: sizes.responseBodySize,
        })),
      );
    });
    await again.goto(`${demo.url}/?customer=globex`);
    await shown(again.getByRole('button', { name: 'Chatwave notifications', exact: true }));
    const seen = await Promise.all(catalog);
    await again.close();
    assert.equal(seen.length, 1);
    // The browser asks with the tag it cached; the server's 304 has no body and the page gets the cached one.
    assert.match(seen[0]!.ifNoneMatch ?? '', /^W\/"/);
    assert.equal(seen[0]!.bodyBytes, 0);
  });

  test('search filters the cards as the customer types', async () => {
    const search = await shown(page.getByRole('searchbox', { name: 'Search integrations' }));
    await search.fill('northwind');
    await shown(page.getByRole('button', { name: 'Northwind CRM contact sync' }));
    await page.getByRole('button', { name: 'Webhook forwarder' }).waitFor({ state: 'hidden', timeout: WAIT });
    await search.fill('');
    await shown(page.getByRole('button', { name: 'Webhook forwarder' }));
  });

  test('Globex sets up Northwind CRM sync: credentials, two config pages, save', async () => {
    await page.getByRole('button', { name: 'Northwind CRM contact sync', exact: true }).click();
    const dialog = await shown(page.getByRole('dialog', { name: 'Northwind CRM contact sync' }));
    await shown(dialog.getByText('Sync contacts, with the fields you choose', { exact: false }));
    await dialog.getByRole('button', { name: 'Set up' }).click();

    // Step 1: the API-key connection.
    await shown(dialog.getByRole('heading', { name: 'Connections', exact: true }));
    await dialog.getByRole('textbox', { name: 'Account ID' }).fill('nw-204815');
    await dialog.getByLabel('API key').fill('demo_7c41e9a0');
    await dialog.getByRole('button', { name: 'Save credentials' }).click();
    const connection = dialog.getByRole('group', { name: 'Northwind CRM account' });
    // The demo's test accepted the key and its identify named the account (the Northwind stand-in's "who am I").
    await shown(connection.getByText('Connected as Globex Sales (nw-204815)', { exact: true }));
    await shown(dialog.getByRole('button', { name: 'Replace credentials' }));
    await dialog.getByRole('button', { name: 'Next' }).click();

    // Step 2: "Sync".
    await shown(dialog.getByRole('heading', { name: 'Sync', exact: true }));
    await dialog.getByRole('radio', { name: 'Both ways' }).check();
    await dialog.getByRole('switch', { name: 'Include archived contacts' }).check();
    await dialog.getByRole('spinbutton', { name: 'Sync interval (minutes)' }).fill('30');
    await dialog.getByRole('button', { name: 'Next' }).click();

    // Step 3: "Field mapping": rows of Acme CRM field ← Northwind field, the lists read from both systems.
    await shown(dialog.getByRole('heading', { name: 'Field mapping', exact: true }));
    const mapping = dialog.getByRole('group', { name: 'Contact fields' });
    await shown(mapping.getByRole('group', { name: 'Row 4' }));
    // An option is never "visible" to Playwright: wait until the loaded list holds it.
    await mapping
      .getByRole('group', { name: 'Row 1' })
      .getByRole('combobox', { name: 'Northwind field' })
      .getByRole('option', { name: 'Account name' })
      .waitFor({ state: 'attached', timeout: WAIT });
    await mapping.getByRole('button', { name: 'Remove row 3' }).click();
    await mapping.getByRole('button', { name: 'Remove row 2' }).click();
    await mapping.getByRole('button', { name: 'Add a field' }).click();
    const added = mapping.getByRole('group', { name: 'Row 3' });
    await added.getByRole('combobox', { name: 'Acme CRM field' }).selectOption({ label: 'Phone' });
    await added.getByRole('combobox', { name: 'Northwind field' }).selectOption({ label: 'Phone' });
    await dialog.getByRole('textbox', { name: 'Owner for new contacts' }).fill('sales@globex.example');
    await dialog.getByRole('button', { name: 'Save', exact: true }).click();

    // Back on the overview, ready to activate.
    await shown(dialog.getByRole('button', { name: 'Activate' }));
    const { instances } = (await apiAs('globex', '/instances')) as {
      instances: { integrationKey: string; status: string; config: Record<string, unknown>; connections: { status: string }[] }[];
    };
    assert.equal(instances.length, 1);
    assert.equal(instances[0]!.integrationKey, 'northwind-crm-sync');
    assert.equal(instances[0]!.status, 'draft');
    assert.deepEqual(instances[0]!.config, {
      direction: 'both',
      includeArchived: true,
      intervalMinutes: 30,
      fieldMapping: [
        { target: 'email', source: 'email' },
        { target: 'company', source: 'account_name' },
        { target: 'phone', source: 'phone' },
      ],
      ownerEmail: 'sales@globex.example',
    });
    assert.equal(instances[0]!.connections[0]!.status, 'connected');
    assert.doesNotMatch(JSON.stringify(instances), /demo_7c41e9a0/, 'the API key never comes back');
  });

  test('Globex activates it; the card and the host page see it', async () => {
    const dialog = page.getByRole('dialog', { name: 'Northwind CRM contact sync' });
    await dialog.getByRole('button', { name: 'Activate' }).click();
    await shown(dialog.getByRole('button', { name: 'Pause' }));
    await shown(dialog.getByText('Active', { exact: true }));
    // The host page listens on document: composed events cross the shadow roots.
    await shown(page.locator('#event-log').getByText('plug-instance-activated', { exact: false }));

    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: WAIT });
    await shown(card(page, 'Northwind CRM contact sync').getByText('Active', { exact: true }));
    await page.getByRole('checkbox', { name: 'Active only' }).check();
    await page.getByRole('button', { name: 'Chatwave notifications' }).waitFor({ state: 'hidden', timeout: WAIT });
    await shown(page.getByRole('button', { name: 'Northwind CRM contact sync' }));
    await page.getByRole('checkbox', { name: 'Active only' }).uncheck();
  });

  test('Initech, in its own session meanwhile, sees none of it', async () => {
    const initech = await browser.newContext();
    try {
      const p = await openCustomerPage(initech, 'initech');
      await shown(card(p, 'Northwind CRM contact sync').getByText('Available', { exact: true }));
      await p.getByRole('checkbox', { name: 'Active only' }).check();
      await shown(p.getByText('No active integrations yet.'));
      const { instances } = (await apiAs('initech', '/instances')) as { instances: unknown[] };
      assert.deepEqual(instances, []);
    } finally {
      await initech.close();
    }
  });

  test('Globex pauses, then deletes it after confirming', async () => {
    await page.getByRole('button', { name: 'Northwind CRM contact sync', exact: true }).click();
    const dialog = await shown(page.getByRole('dialog', { name: 'Northwind CRM contact sync' }));
    await dialog.getByRole('button', { name: 'Pause' }).click();
    await shown(dialog.getByRole('button', { name: 'Resume' }));
    await shown(dialog.getByText('Paused', { exact: true }).first());
    const paused = (await apiAs('globex', '/instances')) as { instances: { status: string }[] };
    assert.equal(paused.instances[0]!.status, 'paused');

    await dialog.getByRole('button', { name: 'Delete' }).click();
    await shown(dialog.getByRole('alert').filter({ hasText: 'This cannot be undone' }));
    await shown(dialog.getByRole('button', { name: 'Keep it' }));
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await shown(dialog.getByRole('button', { name: 'Set up' }));
    await dialog.getByRole('button', { name: 'Close' }).click();
    await shown(card(page, 'Northwind CRM contact sync').getByText('Available', { exact: true }));
    const gone = (await apiAs('globex', '/instances')) as { instances: unknown[] };
    assert.deepEqual(gone.instances, []);
  });

  test('Globex connects Chatwave through the demo OAuth server; the channel picker uses the token', async () => {
    assert.ok(demo.oauthIssuer, `demo OAuth server not running: ${demo.oauthProblem}`);
    const issuer = demo.oauthIssuer;
    const context = await browser.newContext();
    try {
      const p = await openCustomerPage(context, 'globex');
      await (await shown(p.getByRole('button', { name: 'Chatwave notifications', exact: true }))).click();
      let dialog = await shown(p.getByRole('dialog', { name: 'Chatwave notifications' }));
      await dialog.getByRole('button', { name: 'Set up' }).click();
      await shown(dialog.getByRole('heading', { name: 'Connections', exact: true }));

      // The sign-in opens in a popup, or (redirect mode) takes over the page and comes back.
      const popup = p.waitForEvent('popup', { timeout: WAIT }).catch(() => undefined);
      const redirected = p
        .waitForURL((u) => u.href.startsWith(issuer), { timeout: WAIT })
        .then(
          () => p,
          () => undefined,
        );
      await dialog.getByRole('button', { name: 'Connect' }).click();
      const signIn = (await Promise.race([popup, redirected])) ?? (await redirected);
      assert.ok(signIn, 'Connect opened the sign-in page');
      await shown(signIn.getByRole('heading', { name: 'Sign in to Chatwave' }));
      await signIn.getByRole('button', { name: 'Sign in' }).click();
      const allow = await shown(signIn.getByRole('button', { name: 'Allow' }));
      // A popup closes itself once the callback has answered the page: listen before clicking.
      const popupClosed = signIn === p ? undefined : signIn.waitForEvent('close', { timeout: WAIT });
      await allow.click().catch((err: unknown) => {
        if (!signIn.isClosed()) throw err;
      });

      if (signIn === p) {
        await p.waitForURL((u) => u.href.startsWith(demo.url), { timeout: WAIT });
        await shown(p.getByRole('status').filter({ hasText: 'the connection is ready' }));
        assert.doesNotMatch(p.url(), /plugboard_|state=/, 'the page tidies the address bar');
        await p.getByRole('button', { name: 'Chatwave notifications', exact: true }).click();
        dialog = await shown(p.getByRole('dialog', { name: 'Chatwave notifications' }));
        await dialog.getByRole('button', { name: 'Continue setup' }).click();
      } else {
        await popupClosed;
      }
      // The demo's identify read the name from the sign-in server's userinfo (the demo-user login).
      await shown(dialog.getByRole('group', { name: 'Chatwave workspace' }).getByText('Connected as Demo User', { exact: true }));
      await dialog.getByRole('button', { name: 'Next' }).click();

      // The channels come from the sign-in server's protected API, called with the stored token.
      const channel = await shown(dialog.getByRole('combobox', { name: 'Channel' }));
      await channel.click();
      await shown(dialog.getByRole('option', { name: '#general' }));
      await channel.fill('sal');
      await shown(dialog.getByRole('option', { name: '#sales' }));
      await dialog.getByRole('option', { name: 'general' }).waitFor({ state: 'hidden', timeout: WAIT });
      await dialog.getByRole('option', { name: '#sales' }).click();
      await dialog.getByRole('button', { name: 'Next' }).click();
      await shown(dialog.getByRole('heading', { name: 'What to post', exact: true }));
      await dialog.getByRole('button', { name: 'Save', exact: true }).click();
      await dialog.getByRole('button', { name: 'Activate' }).click();
      await shown(dialog.getByRole('button', { name: 'Pause' }));

      const { instances } = (await apiAs('globex', '/instances')) as {
        instances: { integrationKey: string; status: string; config: Record<string, unknown>; connections: { status: string }[] }[];
      };
      const chatwave = instances.find((i) => i.integrationKey === 'chatwave-notifier');
      assert.equal(chatwave?.status, 'active');
      assert.equal(chatwave?.config.channel, 'C002');
      assert.equal(chatwave?.connections[0]?.status, 'connected');

      // Acme's "Try a flow" sends a won deal to the webhook; the flow runs in Globex's executor
      // with a fresh access token and posts to #sales, which the inbox shows.
      await dialog.getByRole('button', { name: 'Close' }).click();
      const tryIt = await shown(p.getByRole('button', { name: /Send a sample event to Chatwave notifications/ }));
      await tryIt.click();
      await shown(p.getByRole('status').filter({ hasText: 'Sent: Chatwave notifications took the event' }));
      const inbox = p.getByRole('region', { name: 'Inbox' });
      await shown(inbox.getByText(':tada: deal.won: Globex renewal 2025 ($12,000)', { exact: false }));
      await shown(inbox.getByText('#sales', { exact: true }));
    } finally {
      await context.close();
    }
  });

  test('the theming page re-themes the marketplace with --plug-* variables, ::part() and dark mode', async () => {
    const context = await browser.newContext();
    try {
      const p = await context.newPage();
      p.on('console', (m) => {
        if (m.type() === 'error') problems.push(`theming console: ${m.text()}`);
      });
      await p.goto(`${demo.url}/theming.html?customer=globex`);
      await shown(p.getByRole('button', { name: 'Webhook forwarder', exact: true }));
      const look = () =>
        p.evaluate(() => {
          const card = document.querySelector('plug-marketplace')!.shadowRoot!.querySelector('plug-integration-card')!.shadowRoot!.querySelector('.card')!;
          const style = getComputedStyle(card);
          return { background: style.backgroundColor, radius: style.borderTopLeftRadius, borderLeft: style.borderLeftWidth, font: style.fontFamily };
        });
      const base = await look();
      await p.getByRole('radio', { name: /Acme brand/ }).check();
      await shown(p.getByText('--plug-color-primary: #0e7c66;', { exact: false }));
      const acme = await look();
      assert.equal(acme.borderLeft, '4px', '::part(card) from the host stylesheet');
      assert.equal(acme.radius, '2px');
      assert.match(acme.font, /Georgia/);
      await p.getByRole('radio', { name: /Midnight/ }).check();
      await p.waitForFunction(() => document.querySelector('plug-marketplace')!.getAttribute('theme') === 'dark');
      const midnight = await look();
      assert.equal(midnight.background, 'rgb(13, 17, 23)', 'dark surface token');
      assert.notEqual(midnight.background, base.background);
    } finally {
      await context.close();
    }
  });

  test('switching the page to Initech shows Initech its own, empty, marketplace', async () => {
    await page.getByLabel('Signed in as').selectOption('initech:admin');
    await page.waitForURL(/customer=initech/, { timeout: WAIT });
    await shown(page.getByText('Bill Lumbergh'));
    await shown(card(page, 'Northwind CRM contact sync').getByText('Available', { exact: true }));
    assert.equal(await page.getByText('Active', { exact: true }).count(), 0);
    assert.deepEqual(problems, [], 'no console errors, page errors or CSP violations');
  });
});
