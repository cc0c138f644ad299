// End to end for the runtime as a customer sees it: the real demo server (startDemo: API,
// runtime with real executor processes, SQLite in a temp dir) and the real dist/plugboard.js
// in Debian's Chromium. Globex has an active Ledgerly alert, whose webhook is the customer's to
// give to Ledgerly (customer-facing); in the integration dialog the customer reads the webhook
// URL by its label and makes a signing secret; a signed POST to that real URL runs the flow, and
// <plug-execution-log> in the dialog shows the run by the flow's label, its summary, its log line.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchChromium } from './fixtures/chromium.js';
import { Webhook } from 'standardwebhooks';
import { packageRoot } from '../../demo/host-page.js';
import { startDemo, type RunningDemo } from '../../demo/main.js';
import { ensureBundle } from '../e2e/bundle.js';

// Generous: the element polls every 5 s and CI machines are small and busy.
const WAIT = 45_000;

const bundle = ensureBundle(packageRoot());

let demo: RunningDemo;
let dataDir: string;
let browser: Browser;
let page: Page;
const problems: string[] = [];

async function shown(locator: Locator): Promise<Locator> {
  await locator.waitFor({ state: 'visible', timeout: WAIT });
  return locator;
}

async function api(customer: string, path: string, init: RequestInit = {}): Promise<Response> {
  const { token } = (await (await fetch(`${demo.url}/demo/token?customer=${customer}`)).json()) as { token: string };
  return fetch(`${demo.url}/api/v1${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
  });
}

describe('end to end: a run triggered through the real webhook URL shows in <plug-execution-log>', { skip: bundle.skip }, () => {
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'plugboard-e2e-runs-'));
    demo = await startDemo({ port: 0, dataDir, logLevel: 'silent', bundlePath: bundle.path, withoutOAuth: true });
    browser = await launchChromium();
    page = await (await browser.newContext()).newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  });

  after(async () => {
    await browser?.close();
    await demo?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('Globex reads its webhook URL in the dialog, the URL runs the flow, the run and its log show', async () => {
    // Set up and activate through the API: the browse/configure path has its own e2e test.
    const created = await api('globex', '/instances', { method: 'POST', body: JSON.stringify({ integrationKey: 'ledgerly-billing-alerts' }) });
    assert.equal(created.status, 201, await created.clone().text());
    const instance = (await created.json()) as { id: string; version: number };
    const key = await api('globex', `/instances/${instance.id}/connections/ledgerly`, {
      method: 'PUT',
      body: JSON.stringify({ values: { apiKey: 'demo_7c41e9a0' } }),
    });
    assert.equal(key.status, 200, await key.clone().text());
    const saved = await api('globex', `/instances/${instance.id}/config`, {
      method: 'PUT',
      body: JSON.stringify({ config: { recipients: 'billing@globex.example' }, version: instance.version }),
    });
    assert.equal(saved.status, 200, await saved.clone().text());
    const activated = await api('globex', `/instances/${instance.id}/activate`, { method: 'POST' });
    assert.equal(activated.status, 200, await activated.clone().text());
    const { webhooks } = (await activated.json()) as { webhooks?: { flow: string; url: string }[] };
    assert.ok(webhooks, 'the activated instance lists its webhook URLs');

    await page.goto(`${demo.url}/?customer=globex`);
    await (await shown(page.getByRole('button', { name: 'Ledgerly billing alerts', exact: true }))).click();
    const dialog = await shown(page.getByRole('dialog', { name: 'Ledgerly billing alerts' }));

    // The URL the customer would paste into Ledgerly, and a signing secret made for it.
    const urlBox = await shown(dialog.getByRole('textbox', { name: 'Webhook URL for Ledgerly payment events' }));
    const url = await urlBox.inputValue();
    assert.equal(url, webhooks.find((w) => w.flow === 'paymentEvent')?.url);
    assert.match(url, new RegExp(`^${demo.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/hooks/`));
    await shown(dialog.getByText('No runs yet.', { exact: false }));
    await dialog.getByRole('button', { name: 'New signing secret' }).click();
    const secret = await (await shown(dialog.getByRole('textbox', { name: 'Signing secret for Ledgerly payment events' }))).inputValue();
    assert.ok(secret.length >= 16, 'a signing secret is shown once');

    const body = JSON.stringify({ type: 'payment.failed', amount: 1800, customerName: 'Initrode' });
    const sentAt = new Date();
    const accepted = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': 'msg_e2e_1',
        'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
        'webhook-signature': new Webhook(secret).sign('msg_e2e_1', sentAt, body),
      },
      body,
    });
    assert.equal(accepted.status, 202, await accepted.clone().text());

    // The open dialog's log picks the run up on its own (live refresh), then it finishes.
    const runs = dialog.getByRole('list', { name: 'Runs' });
    const item = runs.getByRole('listitem').filter({ hasText: 'Billing alerts' });
    await shown(item.getByText('Succeeded', { exact: true }));
    assert.match((await item.textContent()) ?? '', /Webhook/);
    await shown(item.getByText('Alerted billing@globex.example: Payment failed, $1,800.00', { exact: true }));
    await item.getByRole('button', { expanded: false }).click();
    const log = await shown(dialog.getByRole('region', { name: 'Log of Billing alerts' }));
    await shown(log.getByText('Alerted billing@globex.example about payment.failed of $1,800.00'));
    await shown(log.getByText('Details', { exact: true }));
    assert.equal(await item.getByRole('button', { expanded: true }).count(), 1);
    // The flow's key is for code: the customer never reads it.
    assert.doesNotMatch((await dialog.innerText()).replace(/Details[\s\S]*$/, ''), /paymentEvent/);

    assert.deepEqual(
      problems.filter((p) => /Content Security Policy|Refused to|pageerror/i.test(p)),
      [],
    );
  });
});
