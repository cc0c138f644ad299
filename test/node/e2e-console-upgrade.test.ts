// End to end, issue 12's last step from the console alone: the real demo server (startDemo) over a
// vendor module of its own in a temporary folder, the console page (/console) with the real
// dist/plugboard.js in Debian's Chromium. Globex and Initech run CRM 1.0.0; a new build (2.0.0, whose
// migrate refuses Initech's config) is loaded without a restart. Support updates Globex from its
// row, rolls it back, sees Initech's refusal with its field error in Initech's row, then upgrades
// every instance from the Versions view, reads the job's finished counts and its one failure, and
// rolls the job back.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { axeViolations, launchChromium, shown } from './fixtures/chromium.js';
import { packageRoot } from '../../demo/host-page.js';
import { startDemo, type RunningDemo } from '../../demo/main.js';
import { ensureBundle } from '../e2e/bundle.js';

const SDK = fileURLToPath(new URL('../../server/src/sdk/index.ts', import.meta.url));

const bundle = ensureBundle(packageRoot());

/** One build of the vendor's module: version 2 renames `label` to `title` and can't carry "boom". */
function build(version: '1.0.0' | '2.0.0'): string {
  const v1 = version === '1.0.0';
  return `
import { defineIntegration, field } from ${JSON.stringify(SDK)};
export default [defineIntegration({
  key: 'crm',
  name: 'CRM',
  description: 'Versioned.',
  category: 'Sales',
  version: '${version}',
  ${v1 ? '' : `changelog: { '2.0.0': 'Renames label to title.', '1.0.0': 'First release.' },`}
  configPages: [{ title: 'Setup', fields: { ${v1 ? "label: field.text({ label: 'Label' })" : "title: field.text({ label: 'Title' })"} } }],
  ${
    v1
      ? ''
      : `migrate: ({ config }) => {
    if (config.label === 'boom') throw new Error('cannot carry boom');
    return { title: config.label };
  },`
  }
  flows: { ping: { trigger: { type: 'webhook', hmac: false }, async run() { return { code: '${version}' }; } } },
})];
`;
}

let demo: RunningDemo;
let dataDir: string;
let moduleDir: string;
let browser: Browser;
const problems: string[] = [];

async function vendorCall(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${demo.url}/api/v1/vendor${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function consoleAs(vendorRole: 'support' | 'viewer'): Promise<Page> {
  const token = await demo.vendor.signVendorToken({ vendorRole, name: `Acme ${vendorRole}`, sub: `staff-${vendorRole}` });
  const page = await (await browser.newContext()).newPage();
  // Failed requests are judged by their answer (the browser's own line names no URL): a refused update's 422 is expected, the favicon is not served.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    const expected = (r.status() === 422 && r.url().endsWith('/upgrade')) || new URL(r.url()).pathname === '/favicon.ico';
    if (r.status() >= 400 && !expected) problems.push(`${r.status()} ${r.url()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.goto(`${demo.url}/console#token=${token}`);
  return page;
}

/** The CRM row of a customer, opened from the customer list. */
async function crmRowOf(page: Page, customer: RegExp): Promise<Locator> {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('button', { name: 'Customers' }).click();
  await (await shown(page.getByRole('button', { name: customer }))).click();
  return shown(page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'CRM', exact: true }) }));
}

describe('end to end: upgrading integrations from the console', { skip: bundle.skip }, () => {
  let support: string;
  const ids: Record<string, string> = {};

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'plugboard-console-upgrade-'));
    moduleDir = mkdtempSync(join(tmpdir(), 'plugboard-console-module-'));
    chmodSync(moduleDir, 0o755); // the executors read it as another user
    const modulePath = join(moduleDir, 'integrations.ts');
    writeFileSync(modulePath, build('1.0.0'), { mode: 0o644 });
    demo = await startDemo({ port: 0, dataDir, logLevel: 'silent', bundlePath: bundle.path, integrationsModule: modulePath, withoutOAuth: true });
    browser = await launchChromium();
    support = await demo.vendor.signVendorToken({ vendorRole: 'support', name: 'Acme support', sub: 'staff-support' });
    // Globex and Initech run CRM 1.0.0 (Initech's label is one version 2 can't carry), active.
    for (const [customer, label] of [
      ['globex', 'alpha'],
      ['initech', 'boom'],
    ] as const) {
      const { token } = (await (await fetch(`${demo.url}/demo/token?customer=${customer}`)).json()) as { token: string };
      // A customer exists once one of its users was seen.
      assert.equal((await fetch(`${demo.url}/api/v1/integrations`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
      const created = await vendorCall(support, 'POST', `/customers/${customer}/instances`, { integrationKey: 'crm' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      ids[customer] = created.body.id;
      assert.equal((await vendorCall(support, 'PUT', `/instances/${ids[customer]}/config`, { config: { label }, version: 1 })).status, 200);
      assert.equal((await vendorCall(support, 'POST', `/instances/${ids[customer]}/activate`)).status, 200);
    }
    // The new build, loaded without a restart (an admin's call).
    writeFileSync(modulePath, build('2.0.0'), { mode: 0o644 });
    const admin = await demo.vendor.signVendorToken({ vendorRole: 'admin', name: 'Acme admin', sub: 'staff-admin' });
    const reloaded = await vendorCall(admin, 'POST', '/integrations/reload');
    assert.equal(reloaded.status, 200, JSON.stringify(reloaded.body));
    assert.deepEqual(reloaded.body.integrations[0].versions, ['2.0.0', '1.0.0']);
  });

  after(async () => {
    await browser?.close();
    await demo?.close();
    for (const dir of [dataDir, moduleDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('support updates an instance from its row and rolls it back; a refused update shows its field error in the row', async () => {
    const page = await consoleAs('support');
    const globex = await crmRowOf(page, /Globex Corporation/);
    await shown(globex.getByText('Sales · v1.0.0'));
    await shown(globex.getByText('Update available: v2.0.0'));
    await globex.getByText('What changed').click();
    await shown(globex.getByText('Renames label to title.'));
    assert.deepEqual(await axeViolations(page), [], 'axe: a row with an update');

    // Asked first; "Cancel" leaves it as it is.
    await globex.getByRole('button', { name: 'Update', exact: true }).click();
    await shown(globex.getByText('Update CRM for Globex Corporation from v1.0.0 to v2.0.0?', { exact: false }));
    assert.deepEqual(await axeViolations(page), [], 'axe: the update confirmation');
    await globex.getByRole('button', { name: 'Cancel' }).click();
    await globex.getByRole('button', { name: 'Update', exact: true }).click();
    await globex.getByRole('button', { name: 'Update', exact: true }).click();
    await shown(globex.getByText('Sales · v2.0.0'));
    await shown(page.getByRole('status').filter({ hasText: 'CRM now runs v2.0.0.' }));
    assert.equal(await globex.getByText('Update available', { exact: false }).count(), 0);
    assert.equal((await vendorCall(support, 'GET', `/instances/${ids.globex}`)).body.integrationVersion, '2.0.0');

    // Back to 1.0.0, its config as it was.
    await globex.getByRole('button', { name: 'Roll back to v1.0.0' }).click();
    await shown(globex.getByText('Roll CRM for Globex Corporation back to v1.0.0?', { exact: false }));
    await globex.getByRole('button', { name: 'Roll back to v1.0.0' }).click();
    await shown(globex.getByText('Sales · v1.0.0'));
    await shown(page.getByRole('status').filter({ hasText: 'CRM is back on v1.0.0.' }));
    const rolled = (await vendorCall(support, 'GET', `/instances/${ids.globex}`)).body;
    assert.equal(rolled.integrationVersion, '1.0.0');
    assert.deepEqual(rolled.config, { label: 'alpha' });

    // Initech's config can't be carried: the problem and its field error stay in Initech's row.
    const initech = await crmRowOf(page, /Initech/);
    await (await shown(initech.getByRole('button', { name: 'Update', exact: true }))).click();
    await initech.getByRole('button', { name: 'Update', exact: true }).click();
    const refusal = await shown(initech.getByRole('alert').filter({ hasText: 'stays on its version' }));
    await shown(refusal.getByText("Version 2.0.0's migrate from 1.0.0 failed: cannot carry boom", { exact: false }));
    await shown(initech.getByText('Sales · v1.0.0'));
    assert.deepEqual(await axeViolations(page), [], 'axe: a refused update');
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  test('a viewer sees the versions and the update, and no button to run one', async () => {
    const page = await consoleAs('viewer');
    const globex = await crmRowOf(page, /Globex Corporation/);
    await shown(globex.getByText('Update available: v2.0.0'));
    await shown(globex.getByText('Updates need the support or admin role.'));
    assert.equal(await globex.getByRole('button', { name: 'Update', exact: true }).count(), 0);
    await page.getByRole('navigation', { name: 'Console' }).getByRole('button', { name: 'Versions' }).click();
    await shown(page.getByRole('list', { name: 'Versions of CRM' }));
    assert.equal(await page.getByRole('button', { name: /Upgrade all/ }).count(), 0);
    await shown(page.getByText('Updates need the support or admin role.'));
    assert.deepEqual(await axeViolations(page), [], 'axe: the viewer’s Versions view');
    await page.context().close();
  });

  test('support upgrades every instance from the Versions view, reads the finished counts and the failure, and rolls the job back', async () => {
    const page = await consoleAs('support');
    await (await shown(page.getByRole('navigation', { name: 'Console' }).getByRole('button', { name: 'Versions' }))).click();
    const versions = await shown(page.getByRole('list', { name: 'Versions of CRM' }));
    // The integration by its name, its key and category beside it; no job yet.
    const crm = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'CRM', exact: true, level: 3 }) });
    await shown(crm.getByText('crm', { exact: true }));
    await shown(crm.getByText('Sales', { exact: true }));
    await shown(page.getByText('No bulk upgrades yet.'));
    await shown(versions.getByRole('listitem').filter({ hasText: 'v1.0.0' }).getByText('2 instances'));
    await shown(versions.getByRole('listitem').filter({ hasText: 'v2.0.0' }).getByText('No instances'));
    assert.deepEqual(await axeViolations(page), [], 'axe: the Versions view');

    await page.getByRole('button', { name: 'Upgrade all to v2.0.0' }).click();
    await shown(page.getByText('Upgrade every instance of CRM to v2.0.0?', { exact: false }));
    await page.getByRole('button', { name: 'Start the upgrade' }).click();
    await shown(page.getByText('finished: 1 upgraded, 1 failed, 0 already on it.', { exact: false }).first());
    const failures = await shown(page.getByRole('list', { name: 'Failed: these stay on their version' }));
    await shown(failures.getByRole('listitem').filter({ hasText: 'initech' }).getByText('cannot carry boom', { exact: false }));
    await shown(page.getByRole('progressbar', { name: 'Upgrade progress of CRM' }));
    // The counts follow the job.
    await shown(versions.getByRole('listitem').filter({ hasText: 'v2.0.0' }).getByText('1 instance', { exact: true }));
    assert.deepEqual(await axeViolations(page), [], 'axe: a finished bulk upgrade');
    assert.equal((await vendorCall(support, 'GET', `/instances/${ids.globex}`)).body.integrationVersion, '2.0.0');
    assert.equal((await vendorCall(support, 'GET', `/instances/${ids.initech}`)).body.integrationVersion, '1.0.0');

    // The whole job undone, asked first (the keyboard lands on "Cancel"): Globex goes back to 1.0.0.
    await page.getByRole('button', { name: 'Roll back this job' }).click();
    await shown(page.getByText('Roll back this upgrade of CRM? Each instance it upgraded (1)', { exact: false }));
    assert.equal(await page.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.textContent?.trim()), 'Cancel');
    await page.getByRole('button', { name: 'Roll back this job' }).click();
    await shown(page.getByText('Rollback of CRM finished: 1 rolled back, 0 failed, 0 skipped.', { exact: false }).first());
    await shown(versions.getByRole('listitem').filter({ hasText: 'v1.0.0' }).getByText('2 instances'));
    assert.equal((await vendorCall(support, 'GET', `/instances/${ids.globex}`)).body.integrationVersion, '1.0.0');
    assert.deepEqual(await axeViolations(page), [], 'axe: a finished job rollback');
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  test('past jobs are listed after a reload with their failures on request; a job started elsewhere is rolled back from the list', async () => {
    // Started elsewhere (the API, not this page): Globex's CRM to 2.0.0 again.
    const started = await vendorCall(support, 'POST', '/integrations/crm/upgrades', { customer: 'globex', to: '2.0.0' });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    let job = started.body;
    while (job.status === 'running') {
      await new Promise((r) => setTimeout(r, 100));
      job = (await vendorCall(support, 'GET', `/upgrades/${started.body.id}`)).body;
    }

    const page = await consoleAs('support');
    await (await shown(page.getByRole('navigation', { name: 'Console' }).getByRole('button', { name: 'Versions' }))).click();
    const jobs = await shown(page.getByRole('list', { name: 'Recent jobs' }));
    const latest = jobs.getByRole('listitem').filter({ hasText: 'Upgrade of CRM to v2.0.0 finished: 1 upgraded, 0 failed, 0 already on it.' });
    await shown(latest.getByText('Customer globex'));
    // The test before's upgrade (every customer), its failure read on request, and its rollback.
    const first = jobs.getByRole('listitem').filter({ hasText: 'Upgrade of CRM to v2.0.0 finished: 1 upgraded, 1 failed' });
    await shown(first.getByText('Every customer'));
    await shown(first.getByText('Rolled back since'));
    assert.equal(await first.getByRole('button', { name: 'Roll back this job' }).count(), 0, 'an upgrade rolled back already is not offered again');
    await first.getByText('Why 1 failed').click();
    const failures = await shown(first.getByRole('list', { name: 'Failed: these stay on their version' }));
    await shown(failures.getByRole('listitem').filter({ hasText: 'initech' }).getByText('cannot carry boom', { exact: false }));
    await shown(jobs.getByRole('listitem').filter({ hasText: 'Rollback of CRM finished: 1 rolled back, 0 failed, 0 skipped.' }));
    assert.deepEqual(await axeViolations(page), [], 'axe: the recent jobs, failures open');

    // Rolled back from the list, asked first; the list then says so.
    await latest.getByRole('button', { name: 'Roll back this job' }).click();
    await shown(latest.getByText('Roll back this upgrade of CRM? Each instance it upgraded (1)', { exact: false }));
    assert.deepEqual(await axeViolations(page), [], 'axe: a past job’s rollback question');
    await latest.getByRole('button', { name: 'Roll back this job' }).click();
    await shown(latest.getByText('Rolled back since'));
    await shown(page.getByRole('status').filter({ hasText: 'Rollback of CRM finished' }));
    assert.equal((await vendorCall(support, 'GET', `/instances/${ids.globex}`)).body.integrationVersion, '1.0.0');
    assert.deepEqual(problems, []);
    await page.context().close();
  });
});
