// End to end, as the vendor's staff: the real demo server (startDemo) on a free port, the console
// page it serves (/console) with the real dist/plugboard.js in Debian's Chromium. A support
// engineer signs in with a vendor token, finds Globex, sets up Ledgerly billing alerts for it
// (API key, config), activates it; Globex's own embed then shows it active and its history says
// who did it. A viewer sees no actions (and the server refuses them); a refused token shows nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { axeViolations, shown } from './fixtures/chromium.js';
import { packageRoot } from '../../demo/host-page.js';
import type { RunningDemo } from '../../demo/main.js';
import { startDemoInChromium } from './fixtures/demo-in-chromium.js';
import { ensureBundle } from '../e2e/bundle.js';

const WAIT = 30_000; // generous: CI machines are small and busy

const bundle = ensureBundle(packageRoot());

let demo: RunningDemo;
let close: (() => Promise<void>) | undefined;
let browser: Browser;
/** Console errors, page errors and CSP violations seen on any page. */
const problems: string[] = [];

async function consolePage(token: string, expect4xx = false): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && !(expect4xx && /status of 401/.test(m.text()))) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.goto(`${demo.url}/console#token=${token}`);
  return page;
}

async function apiAs(customer: string, path: string): Promise<{ status: number; body: any }> {
  const { token } = (await (await fetch(`${demo.url}/demo/token?customer=${customer}`)).json()) as { token: string };
  const res = await fetch(`${demo.url}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

/** The row of an integration in the selected customer's list. */
function row(page: Page, name: string): Locator {
  return page.getByRole('listitem').filter({ has: page.getByRole('heading', { name, exact: true }) });
}

describe('end to end: the vendor console page', { skip: bundle.skip }, () => {
  before(async () => {
    ({ demo, browser, close } = await startDemoInChromium('console-e2e', bundle.path));
    // Customers exist once one of their users was seen.
    for (const customer of ['globex', 'initech']) assert.equal((await apiAs(customer, '/integrations')).status, 200);
  });

  after(() => close?.());

  test('the page shows nothing without a valid vendor token: a customer token or garbage ends on the sign-in form', async () => {
    const page = await consolePage('not-a-token', true);
    await shown(page.getByRole('heading', { name: 'Sign in to the console' }));
    await shown(page.getByRole('alert').filter({ hasText: /token/i }));
    assert.equal(await page.getByRole('heading', { name: 'Customers' }).count(), 0);
    assert.equal(new URL(page.url()).hash, '', 'the token left the address bar');
    const { token: customerToken } = (await (await fetch(`${demo.url}/demo/token?customer=globex`)).json()) as { token: string };
    await page.getByLabel('Vendor token').fill(customerToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await shown(page.getByRole('alert').filter({ hasText: /vendor/i }));
    assert.equal(await page.getByRole('heading', { name: 'Customers' }).count(), 0);
    const res = await fetch(`${demo.url}/console`);
    assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.ok(!(await res.text()).includes('Globex'), 'the page itself carries no data');
    await page.context().close();
  });

  test('support finds Globex, sets up Ledgerly for it, activates it; the customer sees it active, and who did it', async () => {
    const token = await demo.vendor.signVendorToken({ vendorRole: 'support', name: 'Acme support (jane@acme.test)', sub: 'jane-42' });
    const page = await consolePage(token);
    await shown(page.getByRole('heading', { name: 'Customers' }));
    await shown(page.getByText('Signed in as Acme support (jane@acme.test)'));
    await page.getByRole('searchbox', { name: 'Search customers' }).fill('GLOB');
    await shown(page.getByRole('button', { name: /Globex Corporation/ }));
    await page.getByRole('button', { name: 'Initech', exact: false }).waitFor({ state: 'hidden', timeout: WAIT });
    await page.getByRole('button', { name: /Globex Corporation/ }).click();
    await shown(page.getByRole('heading', { name: 'Globex Corporation' }));

    const ledgerly = row(page, 'Ledgerly billing alerts');
    await shown(ledgerly.getByText('Not set up'));
    await ledgerly.getByRole('button', { name: 'Set up' }).click();
    const dialog = await shown(page.getByRole('dialog', { name: 'Ledgerly billing alerts' }));
    await dialog.getByRole('button', { name: 'Set up' }).click();
    await shown(dialog.getByRole('heading', { name: 'Connections', exact: true }));
    await dialog.getByRole('textbox', { name: 'Restricted key' }).fill('demo_4f9a2c71');
    await dialog.getByRole('button', { name: 'Save credentials' }).click();
    await shown(dialog.getByRole('button', { name: 'Replace credentials' }));
    await dialog.getByRole('button', { name: 'Next' }).click();
    await shown(dialog.getByRole('heading', { name: 'Alerts', exact: true }));
    await dialog.getByRole('textbox', { name: 'Send alerts to' }).fill('billing@globex.example');
    await dialog.getByRole('button', { name: 'Save', exact: true }).click();
    await (await shown(dialog.getByRole('button', { name: 'Activate' }))).click();
    await shown(dialog.getByRole('button', { name: 'Pause' }));
    await dialog.getByRole('button', { name: 'Close' }).click();

    // The row: active, its connection healthy.
    await shown(ledgerly.getByText('Active', { exact: true }));
    await shown(ledgerly.getByText('Connected', { exact: false }));
    // The connection by the integration's label, not its key.
    await shown(ledgerly.getByRole('list', { name: 'Connections' }).getByText('Ledgerly restricted key', { exact: true }));
    // Runs and logs (none yet) open in the row.
    await ledgerly.getByRole('button', { name: 'Runs and logs' }).click();
    await shown(ledgerly.getByText('No runs yet', { exact: false }));
    assert.deepEqual(await axeViolations(page), [], 'axe: the console with a customer open');

    // The customer's own embed shows it active, and the history names the staff member, not their sub.
    const { body: instances } = await apiAs('globex', '/instances');
    const instance = (instances.instances as { id: string; integrationKey: string; status: string }[]).find(
      (i) => i.integrationKey === 'ledgerly-billing-alerts',
    )!;
    assert.equal(instance.status, 'active');
    const embed = await (await browser.newContext()).newPage();
    await embed.goto(`${demo.url}/?customer=globex`);
    const card = embed.getByRole('listitem').filter({ has: embed.getByRole('button', { name: 'Ledgerly billing alerts', exact: true }) });
    await shown(card.getByText('Active', { exact: true }));
    await embed.context().close();
    const { body: history } = await apiAs('globex', `/instances/${instance.id}/audit`);
    const actions = (history.events as { action: string; actor: { type: string; name?: string } }[]).map((e) => [e.action, e.actor.type, e.actor.name]);
    assert.deepEqual(actions, [
      ['instance.activated', 'vendor', 'Acme support (jane@acme.test)'],
      ['instance.config_saved', 'vendor', 'Acme support (jane@acme.test)'],
      ['connection.set', 'vendor', 'Acme support (jane@acme.test)'],
      ['instance.created', 'vendor', 'Acme support (jane@acme.test)'],
    ]);
    assert.ok(!JSON.stringify(history).includes('jane-42'));

    // A run (the vendor's backend invokes the flow), then "Run again" from the open run queues a new one with its payload.
    const invoked = await fetch(`${demo.url}/api/v1/vendor/instances/${instance.id}/flows/paymentEvent/invoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ payload: { type: 'payment.failed', amount: 1800, customerName: 'Initrode' }, timeoutMs: 60_000 }),
    });
    const { executionId } = (await invoked.json()) as { executionId: string };
    assert.ok(executionId, `invoke answered ${invoked.status}`);
    const runs = ledgerly.getByRole('list', { name: 'Runs' });
    await (await shown(runs.getByRole('listitem').first().getByRole('button').first())).click();
    await (await shown(runs.getByRole('button', { name: 'Run again' }))).click();
    await shown(page.getByRole('status').filter({ hasText: 'queued again with the same payload' }));
    const { body: executions } = await apiAs('globex', `/instances/${instance.id}/executions`);
    assert.deepEqual(
      (executions.executions as { rerunOf?: string }[]).map((e) => e.rerunOf ?? null),
      [executionId, null],
      'the new run names the one it re-ran',
    );
    const { body: afterRerun } = await apiAs('globex', `/instances/${instance.id}/audit`);
    assert.equal(afterRerun.events[0].action, 'execution.rerun');
    assert.equal(afterRerun.events[0].actor.name, 'Acme support (jane@acme.test)');

    // Pause from the row; delete after a confirmation that offers to keep it first.
    await ledgerly.getByRole('button', { name: 'Pause' }).click();
    await shown(ledgerly.getByText('Paused', { exact: true }));
    assert.equal((await apiAs('globex', `/instances/${instance.id}`)).body.status, 'paused');

    // Alerts across customers, filtered by type; an alert leads back to its customer.
    await page.getByRole('navigation', { name: 'Console' }).getByRole('button', { name: 'Alerts' }).click();
    await shown(page.getByRole('heading', { name: 'Alerts' }));
    await shown(page.getByRole('listitem').filter({ hasText: 'Activated' }).first());
    await page.getByRole('combobox', { name: 'Alert type' }).selectOption({ label: 'Paused' });
    // The filtered page replaces the first: only the type asked for.
    await page.getByRole('listitem').filter({ hasText: 'Activated' }).first().waitFor({ state: 'detached', timeout: WAIT });
    // Each alert names its integration; the integration filter is a list of them by name.
    const paused = page.getByRole('listitem').filter({ hasText: 'Ledgerly billing alerts' });
    await shown(paused.getByText('by Acme support (jane@acme.test)'));
    const integration = page.getByRole('combobox', { name: 'Integration' });
    assert.equal(await integration.locator('option').first().textContent(), 'All integrations');
    await integration.selectOption({ label: 'Webhook forwarder' });
    await shown(page.getByText('No alerts match these filters.'));
    assert.equal(await paused.count(), 0);
    await integration.selectOption({ label: 'Ledgerly billing alerts' });
    await shown(paused.getByText('by Acme support (jane@acme.test)'));
    assert.deepEqual(await axeViolations(page), [], 'axe: the alerts');
    await paused.getByRole('button', { name: 'Open Globex Corporation' }).click();
    await shown(page.getByRole('heading', { name: 'Globex Corporation' }));
    await ledgerly.getByRole('button', { name: 'Delete' }).click();
    await shown(ledgerly.getByText('Delete Ledgerly billing alerts for Globex Corporation?', { exact: false }));
    await ledgerly.getByRole('button', { name: 'Keep it' }).click();
    await ledgerly.getByRole('button', { name: 'Delete' }).click();
    await ledgerly.getByRole('button', { name: 'Delete' }).last().click();
    await shown(ledgerly.getByText('Not set up'));
    assert.equal((await apiAs('globex', `/instances/${instance.id}`)).status, 404);
    assert.deepEqual(
      problems.filter((p) => /Content Security Policy|Refused to|pageerror/i.test(p)),
      [],
    );
    await page.context().close();
  });

  test('a viewer reads (rows, runs) but sees no action, and the server refuses one anyway', async () => {
    // Something to look at: Globex's Webhook forwarder, set up by the customer.
    const { token: admin } = (await (await fetch(`${demo.url}/demo/token?customer=globex`)).json()) as { token: string };
    const created = await fetch(`${demo.url}/api/v1/instances`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ integrationKey: 'webhook-forwarder' }),
    });
    assert.ok(created.ok, String(created.status));
    const instance = (await created.json()) as { id: string };

    const token = await demo.vendor.signVendorToken({ vendorRole: 'viewer', name: 'Acme finance (read only)', sub: 'ro-1' });
    const page = await consolePage(token);
    await shown(page.getByText('Viewer: read only'));
    await page.getByRole('button', { name: /Globex Corporation/ }).click();
    const forwarder = row(page, 'Webhook forwarder');
    await shown(forwarder.getByText('Draft', { exact: true }));
    await shown(forwarder.getByRole('button', { name: 'Runs and logs' }));
    for (const name of ['Set up', 'Manage', 'Activate', 'Pause', 'Delete']) {
      assert.equal(await page.getByRole('button', { name, exact: true }).count(), 0, `a viewer sees no "${name}"`);
    }
    assert.deepEqual(await axeViolations(page), [], 'axe: the viewer’s console');
    const refused = await fetch(`${demo.url}/api/v1/vendor/instances/${instance.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    assert.equal(refused.status, 403);
    await page.context().close();
  });
});
