// OAuth end to end in Debian's Chromium (playwright-core): the real demo (Plugboard server, the
// Acme CRM page under its strict CSP, the demo oidc-provider), the real bundle. A customer clicks
// Connect in the wizard, signs in and consents in the popup; the popup closes itself and the
// wizard shows the connection. Then the blocked-popup path: the page itself goes through the
// sign-in and comes back connected.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { packageRoot } from '../../demo/host-page.js';
import type { RunningDemo } from '../../demo/main.js';
import { startDemoInChromium } from './fixtures/demo-in-chromium.js';
import { ensureBundle } from '../e2e/bundle.js';

const WAIT = 30_000;
const bundle = ensureBundle(packageRoot());

let demo: RunningDemo;
let close: (() => Promise<void>) | undefined;
let browser: Browser;

async function shown(locator: Locator): Promise<Locator> {
  await locator.waitFor({ state: 'visible', timeout: WAIT });
  return locator;
}

async function apiAs(customer: string, path: string, method = 'GET'): Promise<any> {
  const { token } = (await (await fetch(`${demo.url}/demo/token?customer=${customer}`)).json()) as { token: string };
  const res = await fetch(`${demo.url}/api/v1${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  return res.status === 204 ? undefined : res.json();
}

/** Opens the Chatwave wizard at its Connections step as `customer`; collects problems the page reports. */
async function openChatwave(customer: string, problems: string[], init?: () => void): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  if (init) await page.addInitScript(init);
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.goto(`${demo.url}/?customer=${customer}`);
  await (await shown(page.getByRole('button', { name: 'Chatwave notifications', exact: true }))).click();
  const dialog = await shown(page.getByRole('dialog', { name: 'Chatwave notifications' }));
  await dialog.getByRole('button', { name: 'Set up' }).click();
  await shown(dialog.getByRole('heading', { name: 'Connections', exact: true }));
  return page;
}

async function consent(signIn: Page): Promise<void> {
  await shown(signIn.getByRole('heading', { name: 'Sign in to Chatwave' }));
  await signIn.getByRole('button', { name: 'Sign in' }).click();
  await (await shown(signIn.getByRole('button', { name: 'Allow' }))).click();
}

describe('OAuth end to end in Chromium', { skip: bundle.skip }, () => {
  before(async () => {
    ({ demo, browser, close } = await startDemoInChromium('oauth-e2e', bundle.path));
  });

  after(() => close?.());

  test('Connect in the wizard: popup, sign-in, consent, the popup closes, the wizard shows Connected', async (t) => {
    if (!demo.oauthIssuer) return t.skip(`demo OAuth server not running: ${demo.oauthProblem}`);
    const problems: string[] = [];
    const page = await openChatwave('globex', problems);
    const dialog = page.getByRole('dialog', { name: 'Chatwave notifications' });
    const connects: unknown[] = [];
    await page.exposeFunction('recordConnect', (detail: unknown) => connects.push(detail));
    await page.evaluate(() =>
      document.addEventListener('plug-connect', (e) =>
        (window as unknown as { recordConnect(d: unknown): void }).recordConnect({
          instanceId: (e as CustomEvent).detail.instanceId,
          connection: (e as CustomEvent).detail.connection,
          status: (e as CustomEvent).detail.status,
          withInstance: Boolean((e as CustomEvent).detail.instance),
        }),
      ),
    );

    const popupPromise = page.waitForEvent('popup', { timeout: WAIT });
    await dialog.getByRole('button', { name: 'Connect Chatwave workspace', exact: true }).click();
    const popup = await popupPromise;
    const visited: string[] = [];
    popup.on('framenavigated', (frame) => {
      if (frame === popup.mainFrame()) visited.push(frame.url());
    });
    // Opened blank on the click (mobile Safari allows only that), then sent to Plugboard's start page, then to the provider.
    await popup.waitForURL((u) => u.href.startsWith(demo.oauthIssuer!), { timeout: WAIT });
    assert.ok(
      visited.some((u) => u.startsWith(`${demo.url}/oauth/start?state=`)),
      `the start page came first: ${visited.join(' ')}`,
    );
    // Chromium keeps the __Host- cookie on http://127.0.0.1 (loopback counts as a secure context).
    const binding = (await page.context().cookies(demo.url)).filter((c) => c.name.startsWith('__Host-plugboard_oauth_'));
    assert.deepEqual(
      binding.map((c) => ({ httpOnly: c.httpOnly, secure: c.secure, sameSite: c.sameSite, path: c.path })),
      [{ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' }],
    );
    const callbackProblems: string[] = [];
    popup.on('console', (m) => callbackProblems.push(m.text()));
    await consent(popup);
    await popup.waitForEvent('close', { timeout: WAIT });

    // The demo's identify read the name from the sign-in server's userinfo (the demo-user login).
    await shown(dialog.getByRole('group', { name: 'Chatwave workspace' }).getByText('Connected as Demo User', { exact: true }));
    await shown(dialog.getByRole('button', { name: 'Reconnect Chatwave workspace', exact: true }));
    await shown(dialog.getByRole('button', { name: 'Disconnect Chatwave workspace', exact: true }));
    assert.equal(connects.length, 1);
    assert.deepEqual(connects[0], {
      instanceId: (connects[0] as { instanceId: string }).instanceId,
      connection: 'chatwave',
      status: 'connected',
      withInstance: true,
    });
    assert.deepEqual(
      callbackProblems.filter((m) => /Content Security Policy|Refused/i.test(m)),
      [],
      'the callback page runs under its CSP',
    );
    assert.deepEqual(problems, []);

    const { instances } = await apiAs('globex', '/instances');
    const chatwave = instances.find((i: { integrationKey: string }) => i.integrationKey === 'chatwave-notifier');
    assert.equal(chatwave.connections[0].status, 'connected');
    assert.doesNotMatch(JSON.stringify(instances), /"accessToken"|"refreshToken"/);

    // Disconnect revokes and forgets it.
    await dialog.getByRole('button', { name: 'Disconnect Chatwave workspace', exact: true }).click();
    await shown(dialog.getByRole('button', { name: 'Connect Chatwave workspace', exact: true }));
    const after = await apiAs('globex', `/instances/${chatwave.id}`);
    assert.equal(after.connections[0].status, 'missing');
    await page.context().close();
  });

  test('blocked popup: the page goes through the sign-in and comes back connected', async (t) => {
    if (!demo.oauthIssuer) return t.skip(`demo OAuth server not running: ${demo.oauthProblem}`);
    const problems: string[] = [];
    // What a popup blocker does to window.open.
    const page = await openChatwave('initech', problems, () => {
      window.open = () => null;
    });
    const dialog = page.getByRole('dialog', { name: 'Chatwave notifications' });
    await dialog.getByRole('button', { name: 'Connect Chatwave workspace', exact: true }).click();
    await page.waitForURL((u) => u.href.startsWith(demo.oauthIssuer!), { timeout: WAIT });
    await consent(page);
    await page.waitForURL((u) => u.href.startsWith(demo.url), { timeout: WAIT });
    await shown(page.getByRole('status').filter({ hasText: 'the connection is ready' }));
    const { instances } = await apiAs('initech', '/instances');
    assert.equal(instances.find((i: { integrationKey: string }) => i.integrationKey === 'chatwave-notifier').connections[0].status, 'connected');
    assert.deepEqual(problems, []);
    await page.context().close();
  });
  test("another browser can't finish a flow: the provider URL handed on ends on a page saying so, and nothing connects", async (t) => {
    if (!demo.oauthIssuer) return t.skip(`demo OAuth server not running: ${demo.oauthProblem}`);
    // globex's Chatwave instance exists and was disconnected by the first test.
    const { instances } = await apiAs('globex', '/instances');
    const chatwave = instances.find((i: { integrationKey: string }) => i.integrationKey === 'chatwave-notifier');
    assert.ok(chatwave, 'the first test created the instance');
    // The admin starts a flow from the app's page (as the element's redirect mode does) and copies the provider's URL.
    // (The start link itself can't be handed on: the start page wants a Referer from the app's origin.)
    const admin = await browser.newContext();
    const page = await admin.newPage();
    await page.goto(`${demo.url}/?customer=globex`);
    const providerRequest = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(demo.oauthIssuer!), { timeout: WAIT });
    await page.evaluate(async (instanceId) => {
      const { token } = (await (await fetch('/demo/token?customer=globex')).json()) as { token: string };
      const res = await fetch(`/api/v1/instances/${instanceId}/connections/chatwave/authorize`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ mode: 'redirect', returnUrl: location.href }),
      });
      // As the element does: a link with its own referrer policy (the demo page's is no-referrer).
      const link = document.createElement('a');
      link.href = ((await res.json()) as { authorizationUrl: string }).authorizationUrl;
      link.referrerPolicy = 'origin';
      link.id = 'hand-on';
      link.textContent = 'Continue';
      document.body.append(link);
    }, chatwave.id as string);
    // Clicked from outside the page's script: a click inside evaluate can navigate before evaluate returns.
    await page.locator('#hand-on').click();
    const handedOn = (await providerRequest).url();
    await admin.close();

    // Someone else signs in and consents with it in their own browser.
    const other = await browser.newContext();
    const victim = await other.newPage();
    await victim.goto(handedOn);
    await consent(victim);
    await victim.waitForURL((u) => u.href.startsWith(`${demo.url}/oauth/callback`), { timeout: WAIT });
    await shown(victim.getByRole('heading', { name: 'This connection could not be completed' }));
    await shown(victim.getByText('This sign-in was not started in this browser', { exact: false }));
    await other.close();

    const after = await apiAs('globex', `/instances/${chatwave.id}`);
    assert.equal(after.connections[0].status, 'missing');
  });
});
