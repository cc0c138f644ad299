// The demo's staff link: GET /demo/console lands vendor staff in the console signed in, the token
// in the URL fragment, with the role asked for (support by default), and the console page says
// nothing wrong in the browser's console on the way.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchChromium, shown } from './fixtures/chromium.js';
import { startDemo, type RunningDemo } from '../../demo/main.js';

let demo: RunningDemo;
let dataDir: string;

/** Follows the staff link by hand: its token, from the fragment of where it sends the browser. */
async function staffToken(query = ''): Promise<string> {
  const res = await fetch(`${demo.url}/demo/console${query}`, { redirect: 'manual' });
  assert.equal(res.status, 302);
  const location = res.headers.get('location') ?? '';
  assert.match(location, /^\/console#token=/);
  return location.slice('/console#token='.length);
}

describe('the demo staff link to the vendor console', () => {
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'plugboard-demo-console-'));
    demo = await startDemo({ port: 0, dataDir, logLevel: 'silent' });
  });

  after(async () => {
    await demo?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('sends staff to /console with a vendor token the vendor API takes', async () => {
    const token = await staffToken();
    const res = await fetch(`${demo.url}/api/v1/vendor/customers`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const page = await fetch(`${demo.url}/console`);
    assert.equal(page.status, 200);
  });

  test('a viewer link signs in too; an unknown role is refused with a problem naming the roles', async () => {
    const token = await staffToken('?role=viewer');
    const read = await fetch(`${demo.url}/api/v1/vendor/customers`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(read.status, 200);
    const res = await fetch(`${demo.url}/demo/console?role=owner`, { redirect: 'manual' });
    assert.equal(res.status, 422);
    assert.match(((await res.json()) as { detail: string }).detail, /viewer, support or admin/);
  });

  test('in Chromium, the link opens the console signed in as support, with no error in the browser console', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`${m.text()} ${m.location().url}`);
      });
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${demo.url}/demo/console`);
      await shown(page.getByText('Signed in as Jane Doe (Acme support)', { exact: false }));
      assert.doesNotMatch(page.url(), /token=/, 'the console takes the token out of the address bar');
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
});
