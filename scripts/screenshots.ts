// Screenshots of every element state, to look at before calling a UI change done:
//   node --conditions=plugboard-source --import tsx scripts/screenshots.ts [out-dir] [--only=name,…]
// Starts the real demo (startDemo: SQLite in a temporary folder, the built dist/plugboard.js,
// rebuilt when stale) and walks it in Debian's Chromium (playwright-core) at 375, 768 and 1280 px,
// in the light and the dark color scheme (the Acme page follows the system; Plugboard follows it).
// Loading, empty and error states answer the catalog request from the script. PNGs go to
// `screenshots/` (git-ignored) as `<state>-<width>-<scheme>.png`.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { packageRoot } from '../demo/host-page.js';
import { startDemo, type RunningDemo } from '../demo/main.js';
import { launchChromium } from '../test/node/fixtures/chromium.js';
import { ensureBundle } from '../test/e2e/bundle.js';

const WIDTHS = [375, 768, 1280] as const;
const SCHEMES = ['light', 'dark'] as const;
const WAIT = 30_000;

type Scheme = (typeof SCHEMES)[number];
interface Shot {
  name: string;
  /** Brings the page into the state; the page is fresh and on the demo's Integrations page. */
  reach(page: Page): Promise<void>;
  /** Screenshot the whole page (default) or only what is on screen (a dialog over the page). */
  fullPage?: boolean;
  /** Another page to start on than Globex's Integrations page: the console's, with a staff token. */
  start?: (demo: RunningDemo) => Promise<string>;
}

const args = process.argv.slice(2);
const outDir = resolve(args.find((a) => !a.startsWith('--')) ?? 'screenshots');
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');

const shown = async (locator: Locator): Promise<Locator> => {
  await locator.first().waitFor({ state: 'visible', timeout: WAIT });
  return locator.first();
};
const dialogOf = (page: Page) => page.getByRole('dialog');
const openCard = async (page: Page, name: string): Promise<Locator> => {
  await (await shown(page.getByRole('button', { name, exact: true }))).click();
  return shown(dialogOf(page));
};
/** The setup wizard of an integration, on its first step (its connections). */
const startSetup = async (page: Page, name: string): Promise<Locator> => {
  const dialog = await openCard(page, name);
  await (await shown(dialog.getByRole('button', { name: /^(Set up|Continue setup|Configure)$/ }))).click();
  // A draft reopens where it stopped (an earlier shot went on): back to the first step.
  await shown(dialog.locator('#step-heading'));
  const first = dialog.getByRole('heading', { name: 'Connections', exact: true });
  for (let i = 0; i < 5 && !(await first.isVisible()); i++) await dialog.getByRole('button', { name: 'Back', exact: true }).click();
  await shown(first);
  return dialog;
};
/** The Northwind wizard on its "Sync" page, its credentials saved on the way. */
const wizardOnSync = async (page: Page): Promise<Locator> => {
  const dialog = await startSetup(page, 'Northwind CRM contact sync');
  await dialog.getByRole('textbox', { name: 'Account ID' }).fill('nw-204815');
  await dialog.getByLabel('API key').fill('demo_7c41e9a0');
  await dialog.getByRole('button', { name: 'Save credentials' }).click();
  await shown(dialog.getByRole('button', { name: 'Replace credentials' }));
  await dialog.getByRole('button', { name: 'Next' }).click();
  await shown(dialog.getByRole('heading', { name: 'Sync', exact: true }));
  return dialog;
};
/**
 * The demo's OAuth connection asks for nothing before signing in: its detail gets the fields of a
 * Shopify-like connection (a shop name, the customer's own OAuth app), as the SDK declares them.
 */
const oauthWithFields = (page: Page) =>
  page.route(/\/api\/v1\/integrations\/chatwave-notifier(\?.*)?$/, async (route) => {
    const detail = (await (await route.fetch()).json()) as { connections: { kind: string; schema: unknown }[] };
    for (const c of detail.connections.filter((c) => c.kind === 'oauth2')) {
      c.schema = {
        type: 'object',
        properties: {
          shop: {
            type: 'string',
            title: 'Shop name',
            pattern: '^[A-Za-z0-9](?:[A-Za-z0-9\\-]{0,61}[A-Za-z0-9])?$',
            description: 'The part before .myshopify.com.',
            'x-plug-kind': 'text',
            'x-plug-placeholder': 'acme-store',
          },
          clientId: { type: 'string', title: 'Client ID', description: 'Of your own OAuth app, if you use one.', 'x-plug-kind': 'text' },
          clientSecret: { type: 'string', title: 'Client secret', writeOnly: true, 'x-plug-kind': 'secret' },
        },
        required: ['shop'],
        'x-plug-order': ['shop', 'clientId', 'clientSecret'],
      };
    }
    await route.fulfill({ json: detail });
  });
const catalogAnswer = (page: Page, answer: (route: import('playwright-core').Route) => Promise<void>) => page.route('**/api/v1/integrations', answer);

const SHOTS: Shot[] = [
  { name: 'catalog', reach: async (page) => void (await shown(page.getByRole('button', { name: 'Northwind CRM contact sync', exact: true }))) },
  {
    // With show-unentitled: the last two integrations as if the plan lacked them (the demo's customers have every plan).
    name: 'catalog-higher-plan',
    reach: async (page) => {
      await page.route(/\/api\/v1\/integrations(\?|$)/, async (route) => {
        const response = await route.fetch();
        const catalog = (await response.json()) as { integrations: { entitled?: boolean; instance?: unknown }[] };
        for (const i of catalog.integrations.slice(-2)) Object.assign(i, { entitled: false, instance: null });
        await route.fulfill({ response, json: catalog });
      });
      await page.locator('plug-marketplace').evaluate((el) => {
        el.setAttribute('upgrade-href', '#plans');
        el.setAttribute('show-unentitled', '');
      });
      await shown(page.getByText('Available on a higher plan'));
    },
  },
  {
    name: 'catalog-loading',
    reach: async (page) => {
      await catalogAnswer(page, () => new Promise(() => {}));
      await page.reload();
      await page.waitForSelector('plug-marketplace >> .skeleton');
    },
  },
  {
    name: 'catalog-empty',
    reach: async (page) => {
      await catalogAnswer(page, (route) => route.fulfill({ json: { integrations: [] } }));
      await page.reload();
      await shown(page.getByText('No integrations', { exact: false }));
    },
  },
  {
    name: 'catalog-no-match',
    reach: async (page) => {
      await (await shown(page.getByRole('searchbox'))).fill('zzzz');
      await shown(page.getByText('No integrations', { exact: false }));
    },
  },
  {
    name: 'catalog-error',
    reach: async (page) => {
      await catalogAnswer(page, (route) =>
        route.fulfill({
          status: 503,
          contentType: 'application/problem+json',
          body: JSON.stringify({ type: 'about:blank', title: 'Service unavailable', status: 503 }),
        }),
      );
      await page.reload();
      await shown(page.getByRole('alert'));
    },
  },
  { name: 'dialog-overview', fullPage: false, reach: async (page) => void (await openCard(page, 'Northwind CRM contact sync')) },
  { name: 'dialog-connect', fullPage: false, reach: async (page) => void (await startSetup(page, 'Northwind CRM contact sync')) },
  {
    name: 'dialog-wizard-page',
    fullPage: false,
    reach: async (page) => void (await wizardOnSync(page)),
  },
  {
    name: 'dialog-wizard-mapping',
    fullPage: false,
    reach: async (page) => {
      const dialog = await wizardOnSync(page);
      await dialog.getByRole('button', { name: 'Next' }).click();
      await shown(dialog.getByRole('heading', { name: 'Field mapping', exact: true }));
    },
  },
  { name: 'dialog-oauth', fullPage: false, reach: async (page) => void (await startSetup(page, 'Chatwave notifications')) },
  {
    name: 'dialog-mapping-error',
    fullPage: false,
    reach: async (page) => {
      // A row added for a field another row already fills: the message on that row, the rows around it kept.
      const dialog = await wizardOnSync(page);
      await dialog.getByRole('button', { name: 'Next' }).click();
      await shown(dialog.getByRole('heading', { name: 'Field mapping', exact: true }));
      await (await shown(dialog.getByRole('button', { name: 'Add a field' }))).click();
      const selects = dialog.locator('select');
      const count = await selects.count();
      await selects.nth(count - 2).selectOption('email');
      await selects.nth(count - 1).selectOption('email');
      await dialog.getByRole('button', { name: 'Save', exact: true }).click();
      const error = await shown(dialog.getByText('is already filled by another row', { exact: false }));
      await error.scrollIntoViewIfNeeded();
    },
  },
  {
    name: 'dialog-oauth-fields',
    fullPage: false,
    reach: async (page) => {
      await oauthWithFields(page);
      const dialog = await startSetup(page, 'Chatwave notifications');
      await (await shown(dialog.getByRole('textbox', { name: 'Shop name' }))).fill('acme-store');
      await dialog.getByRole('textbox', { name: 'Client ID' }).fill('my-own-app');
    },
  },
  {
    name: 'dialog-oauth-fields-error',
    fullPage: false,
    reach: async (page) => {
      // A shop name in the wrong format: our message on the field, nothing sent, what was typed kept.
      await oauthWithFields(page);
      const dialog = await startSetup(page, 'Chatwave notifications');
      await (await shown(dialog.getByRole('textbox', { name: 'Shop name' }))).fill('acme store');
      await dialog.getByRole('button', { name: /^Connect/ }).click();
      await shown(dialog.getByText('Use this format: acme-store.'));
    },
  },
  {
    name: 'dialog-field-error',
    fullPage: false,
    reach: async (page) => {
      // An Account ID failing its pattern: our message on the field, both values kept.
      const dialog = await startSetup(page, 'Northwind CRM contact sync');
      await dialog.getByRole('textbox', { name: 'Account ID' }).fill('acme');
      await dialog.getByLabel('API key').fill('demo_7c41e9a0');
      await dialog.getByRole('button', { name: /^(Save|Replace) credentials$/ }).click();
      await shown(dialog.getByText('Use this format: nw-123456.'));
    },
  },
  {
    name: 'dialog-connected-as',
    fullPage: false,
    reach: async (page) => {
      // The connection's test passed and identify named the account: "Connected as …".
      const dialog = await startSetup(page, 'Northwind CRM contact sync');
      await dialog.getByRole('textbox', { name: 'Account ID' }).fill('nw-204815');
      await dialog.getByLabel('API key').fill('demo_7c41e9a0');
      await dialog.getByRole('button', { name: /^(Save|Replace) credentials$/ }).click();
      await shown(dialog.getByText('Connected as Globex Sales (nw-204815)'));
    },
  },
  {
    name: 'dialog-test-refused',
    fullPage: false,
    reach: async (page) => {
      // The connection's test refused the key: its message on the field, both values kept, nothing saved.
      const dialog = await startSetup(page, 'Northwind CRM contact sync');
      await dialog.getByRole('textbox', { name: 'Account ID' }).fill('nw-204815');
      await dialog.getByLabel('API key').fill('sk_live_wrong');
      await dialog.getByRole('button', { name: /^(Save|Replace) credentials$/ }).click();
      await shown(dialog.getByText('The service did not accept this key.', { exact: false }));
    },
  },
  {
    name: 'dialog-webhook-runs',
    fullPage: false,
    reach: async (page) => {
      // Seeded below: an active Ledgerly alert (its webhook is the customer's to give out) with one run, expanded.
      const dialog = await openCard(page, 'Ledgerly billing alerts');
      await shown(dialog.getByText('Webhook URL for Ledgerly payment events'));
      const run = await shown(dialog.getByRole('list', { name: 'Runs' }).getByRole('listitem').getByRole('button'));
      await run.scrollIntoViewIfNeeded();
      await run.click();
      await shown(dialog.getByText('Details', { exact: true }));
    },
  },
  {
    name: 'dialog-update-available',
    fullPage: false,
    reach: async (page) => {
      // The demo runs one version of each integration: the forwarder's instance is answered as one version behind.
      await page.route(/\/api\/v1\/instances\/[^/]+$/, async (route) => {
        if (route.request().method() !== 'GET') return route.fallback();
        const response = await route.fetch();
        const body = (await response.json()) as Record<string, unknown>;
        const update = {
          version: '2.0.0',
          changelog: [
            { version: '2.0.0', notes: 'Forwards each event with its delivery id, so the receiver can drop repeats.' },
            { version: '1.1.0', notes: 'Retries a refused delivery three times before it fails.' },
          ],
          selfUpgrade: true,
        };
        await route.fulfill({ response, json: { ...body, integrationVersion: '1.0.0', update } });
      });
      const dialog = await openCard(page, 'Webhook forwarder');
      await shown(dialog.getByRole('heading', { name: 'Update available: version 2.0.0' }));
    },
  },
  {
    name: 'execution-log',
    fullPage: false,
    reach: async (page) => {
      // Seeded below: an active forwarder with one run.
      const dialog = await openCard(page, 'Webhook forwarder');
      await shown(dialog.getByRole('list', { name: 'Runs' }).getByRole('listitem'));
    },
  },
  // The vendor console page (/console), signed in as support (or a viewer), over the same seeded Globex.
  {
    name: 'console-signin',
    start: async (demo) => `${demo.url}/console`,
    reach: async (page) => void (await shown(page.getByRole('heading', { name: 'Sign in to the console' }))),
  },
  {
    name: 'console-customers',
    start: consoleAs('support'),
    reach: async (page) => void (await shown(page.getByRole('button', { name: /Globex Corporation/ }))),
  },
  {
    name: 'console-customer',
    start: consoleAs('support'),
    reach: async (page) => {
      await (await shown(page.getByRole('button', { name: /Globex Corporation/ }))).click();
      const ledgerly = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Ledgerly billing alerts', exact: true }) });
      await (await shown(ledgerly.getByRole('button', { name: 'Runs and logs' }))).click();
      await shown(ledgerly.getByRole('list', { name: 'Runs' }).getByRole('listitem'));
    },
  },
  {
    name: 'console-viewer',
    start: consoleAs('viewer'),
    reach: async (page) => {
      await (await shown(page.getByRole('button', { name: /Globex Corporation/ }))).click();
      await shown(page.getByRole('heading', { name: 'Ledgerly billing alerts', exact: true }));
    },
  },
  {
    name: 'console-alerts',
    start: consoleAs('support'),
    reach: async (page) => {
      await (await shown(page.getByRole('navigation', { name: 'Console' }).getByRole('button', { name: 'Alerts' }))).click();
      await shown(page.getByRole('listitem').filter({ hasText: 'Ledgerly billing alerts' }));
    },
  },
  {
    name: 'console-rerun',
    fullPage: false,
    start: consoleAs('support'),
    reach: async (page) => {
      await (await shown(page.getByRole('button', { name: /Globex Corporation/ }))).click();
      const ledgerly = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Ledgerly billing alerts', exact: true }) });
      await (await shown(ledgerly.getByRole('button', { name: 'Runs and logs' }))).click();
      const runs = ledgerly.getByRole('list', { name: 'Runs' });
      await (await shown(runs.getByRole('listitem').getByRole('button'))).click();
      const again = await shown(runs.getByRole('button', { name: 'Run again' }));
      await again.scrollIntoViewIfNeeded();
    },
  },
  {
    name: 'console-manage',
    fullPage: false,
    start: consoleAs('support'),
    reach: async (page) => {
      await (await shown(page.getByRole('button', { name: /Globex Corporation/ }))).click();
      const ledgerly = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Ledgerly billing alerts', exact: true }) });
      await (await shown(ledgerly.getByRole('button', { name: 'Manage' }))).click();
      await shown(dialogOf(page).getByRole('button', { name: 'Pause' }));
    },
  },
  {
    // Ledgerly as if Globex ran an older version (the demo loads one version of each): "Update available" with its changelog open.
    name: 'console-upgrade',
    start: consoleAs('support'),
    reach: async (page) => {
      await behindOnLedgerly(page);
      await (await shown(page.getByRole('button', { name: /Globex Corporation/ }))).click();
      const ledgerly = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Ledgerly billing alerts', exact: true }) });
      await (await shown(ledgerly.getByText('What changed'))).click();
      await shown(ledgerly.getByText('Retries a failed alert', { exact: false }));
    },
  },
  {
    // The Versions view after a bulk upgrade over two loaded versions, one instance refused (answers made up here).
    name: 'console-versions',
    start: consoleAs('support'),
    reach: async (page) => {
      await startBulkUpgrade(page);
      await shown(page.getByRole('list', { name: 'Failed: these stay on their version' }));
    },
  },
  {
    // What is on screen just after "Start the upgrade": the toast must not cover the job's progress.
    name: 'console-versions-toast',
    fullPage: false,
    start: consoleAs('support'),
    reach: async (page) => {
      await startBulkUpgrade(page);
      await (await shown(page.getByRole('progressbar', { name: 'Upgrade progress of Ledgerly billing alerts' }))).scrollIntoViewIfNeeded();
    },
  },
];

const LEDGERLY_CHANGELOG = [
  { version: '0.9.0', notes: 'Retries a failed alert once before giving up; alerts name the invoice.' },
  { version: '0.8.2', notes: 'Amounts in the customer’s currency.' },
];

/** The console's instance list answers Ledgerly on 0.8.1, with 0.9.0 offered. */
const behindOnLedgerly = (page: Page) =>
  page.route(/\/api\/v1\/vendor\/customers\/[^/]+\/instances$/, async (route) => {
    const response = await route.fetch();
    const list = (await response.json()) as { instances: Record<string, unknown>[] };
    for (const i of list.instances.filter((i) => i.integrationKey === 'ledgerly-billing-alerts')) {
      Object.assign(i, { integrationVersion: '0.8.1', update: { version: '0.9.0', changelog: LEDGERLY_CHANGELOG, selfUpgrade: false } });
    }
    await route.fulfill({ response, json: list });
  });

/** Ledgerly loaded at 0.9.0 and 0.8.1, and a bulk job over four instances that ends with one refused. */
const bulkUpgradeAnswers = async (page: Page) => {
  await page.route('**/api/v1/vendor/integrations', async (route) => {
    const response = await route.fetch();
    const report = (await response.json()) as { integrations: { key: string; versions: string[]; instancesByVersion: Record<string, number> }[] };
    const ledgerly = report.integrations.find((i) => i.key === 'ledgerly-billing-alerts');
    if (ledgerly) Object.assign(ledgerly, { versions: ['0.9.0', '0.8.1'], instancesByVersion: { '0.9.0': 1, '0.8.1': 3 } });
    await route.fulfill({ response, json: report });
  });
  const job = {
    id: 'job-1',
    integrationKey: 'ledgerly-billing-alerts',
    to: '0.9.0',
    customer: null,
    status: 'running',
    total: 4,
    done: 0,
    upgraded: 0,
    failed: 0,
    skipped: 0,
    outcomes: [] as unknown[],
    startedAt: new Date().toISOString(),
    finishedAt: null as string | null,
  };
  let started = false;
  await page.route('**/api/v1/vendor/integrations/*/upgrades', (route) => {
    started = true;
    return route.fulfill({ status: 202, json: job });
  });
  // Recent jobs: this one once started, one running from another tab, and last week's upgrade of Initech, rolled back.
  const day = 24 * 60 * 60 * 1000;
  const before = (ms: number) => new Date(Date.now() - ms).toISOString();
  const past = { upgraded: 0, failed: 0, skipped: 0, rolledBack: 0, status: 'finished' };
  await page.route(/\/api\/v1\/vendor\/upgrades(\?.*)?$/, (route) =>
    route.fulfill({
      json: {
        jobs: [
          ...(started ? [{ ...job, status: 'finished', done: 4, upgraded: 2, failed: 1, skipped: 1, finishedAt: new Date().toISOString() }] : []),
          {
            ...job,
            id: 'job-running',
            integrationKey: 'webhook-forwarder',
            to: '1.2.0',
            customer: null,
            status: 'running',
            total: 12,
            done: 5,
            upgraded: 5,
            startedAt: before(60_000),
          },
          {
            ...job,
            ...past,
            id: 'job-0r',
            kind: 'rollback',
            rollbackOf: 'job-0',
            to: '0.8.1',
            customer: 'initech',
            total: 1,
            done: 1,
            rolledBack: 1,
            startedAt: before(6 * day),
            finishedAt: before(6 * day - 5_000),
          },
          {
            ...job,
            ...past,
            id: 'job-0',
            to: '0.8.2',
            customer: 'initech',
            total: 2,
            done: 2,
            upgraded: 1,
            failed: 1,
            startedAt: before(7 * day),
            finishedAt: before(7 * day - 9_000),
          },
        ],
        nextCursor: 'more',
      },
    }),
  );
  await page.route('**/api/v1/vendor/upgrades/*', (route) =>
    route.fulfill({
      json: {
        ...job,
        status: 'finished',
        done: 4,
        upgraded: 2,
        failed: 1,
        skipped: 1,
        finishedAt: new Date().toISOString(),
        outcomes: [
          { instanceId: 'i-1', customer: { id: 'c-1', externalId: 'globex' }, from: '0.8.1', status: 'upgraded' },
          { instanceId: 'i-2', customer: { id: 'c-2', externalId: 'initech' }, from: '0.8.1', status: 'upgraded' },
          {
            instanceId: 'i-3',
            customer: { id: 'c-3', externalId: 'umbrella-corp' },
            from: '0.8.1',
            status: 'failed',
            error: 'Version 0.9.0 refuses the migrated config; the instance stays on version 0.8.1.',
            errors: [{ path: 'config.recipients', message: 'Enter at least one email address' }],
          },
          { instanceId: 'i-4', customer: { id: 'c-4', externalId: 'hooli' }, from: '0.9.0', status: 'skipped' },
        ],
      },
    }),
  );
};

/** The Versions view's "Upgrade all to v0.9.0" of Ledgerly, confirmed, over the answers below. */
async function startBulkUpgrade(page: Page): Promise<void> {
  await bulkUpgradeAnswers(page);
  await (await shown(page.getByRole('navigation', { name: 'Console' }).getByRole('button', { name: 'Versions' }))).click();
  await (await shown(page.getByRole('button', { name: 'Upgrade all to v0.9.0' }))).click();
  await (await shown(page.getByRole('button', { name: 'Start the upgrade' }))).click();
}

function consoleAs(vendorRole: 'support' | 'viewer'): (demo: RunningDemo) => Promise<string> {
  const name = vendorRole === 'viewer' ? 'Sam Lee (Acme finance)' : 'Jane Doe (Acme support)';
  return async (demo) => `${demo.url}/console#token=${await demo.vendor.signVendorToken({ vendorRole, name, sub: `staff-${vendorRole}` })}`;
}

async function capture(browser: Browser, demo: RunningDemo, shot: Shot, width: number, scheme: Scheme): Promise<string> {
  const context = await browser.newContext({ viewport: { width, height: width < 600 ? 740 : 900 }, colorScheme: scheme, deviceScaleFactor: 1 });
  const page = await context.newPage();
  try {
    if (shot.start) {
      await page.goto(await shot.start(demo));
    } else {
      await page.goto(`${demo.url}/?customer=globex`);
      await shown(page.getByRole('searchbox'));
    }
    await shot.reach(page);
    // Let transitions (the skeleton shimmer aside) and the toast settle.
    await page.waitForTimeout(300);
    const file = join(outDir, `${shot.name}-${width}-${scheme}.png`);
    await page.screenshot({ path: file, fullPage: shot.fullPage ?? true, animations: 'disabled' });
    return file;
  } finally {
    await context.close();
  }
}

type Api = <T>(path: string, init?: RequestInit) => Promise<T>;

/** Globex's admin on the demo's API, as the page would call it. */
async function globexApi(base: string): Promise<Api> {
  const { token } = (await (await fetch(`${base}/demo/token?customer=globex`)).json()) as { token: string };
  return async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const res = await fetch(`${base}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
    if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${await res.text()}`);
    return (res.status === 204 ? undefined : await res.json()) as T;
  };
}

/** The integrations seeded (below): the shots of runs need them, and the catalog's "Connected as …" card. */
const SEEDED = ['webhook-forwarder', 'ledgerly-billing-alerts', 'gridsheet-export'];

/** Each screenshot starts from the same state: setups a previous one started are deleted (the wizard resumes them otherwise). */
async function resetSetups(api: Api): Promise<void> {
  const { instances } = await api<{ instances: { id: string; integrationKey: string }[] }>('/instances');
  for (const i of instances.filter((i) => !SEEDED.includes(i.integrationKey))) await api(`/instances/${i.id}`, { method: 'DELETE' });
}

/** Globex gets an active webhook forwarder with one run, for the execution log's screenshots. */
async function seedRun(base: string, api: Api): Promise<void> {
  const created = await api<{ id: string; version: number }>('/instances', { method: 'POST', body: JSON.stringify({ integrationKey: 'webhook-forwarder' }) });
  await api(`/instances/${created.id}/config`, {
    method: 'PUT',
    body: JSON.stringify({ config: { targetUrl: `${base}/demo/inbox`, retries: 0 }, version: created.version }),
  });
  const { webhooks = [] } = await api<{ webhooks?: { flow: string; url: string; hmac?: boolean }[] }>(`/instances/${created.id}/activate`, { method: 'POST' });
  for (const hook of webhooks) {
    const secret = hook.hmac ? (await api<{ secret: string }>(`/instances/${created.id}/webhooks/${hook.flow}/secret`, { method: 'POST' })).secret : undefined;
    const body = JSON.stringify({ type: 'contact.created', contact: { name: 'Ada Lovelace' } });
    await fetch(`${base}/demo/send-webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: hook.url, body, secret }),
    });
  }
}

/** Globex gets an active Ledgerly alert with one signed run, for the customer-facing webhook and a run's summary. */
async function seedLedgerly(base: string, api: Api): Promise<void> {
  const created = await api<{ id: string; version: number }>('/instances', {
    method: 'POST',
    body: JSON.stringify({ integrationKey: 'ledgerly-billing-alerts' }),
  });
  await api(`/instances/${created.id}/connections/ledgerly`, { method: 'PUT', body: JSON.stringify({ values: { apiKey: 'demo_7c41e9a0' } }) });
  await api(`/instances/${created.id}/config`, {
    method: 'PUT',
    body: JSON.stringify({ config: { recipients: 'billing@globex.example' }, version: created.version }),
  });
  const { webhooks = [] } = await api<{ webhooks?: { flow: string; url: string }[] }>(`/instances/${created.id}/activate`, { method: 'POST' });
  for (const hook of webhooks) {
    const { secret } = await api<{ secret: string }>(`/instances/${created.id}/webhooks/${hook.flow}/secret`, { method: 'POST' });
    const body = JSON.stringify({ type: 'payment.failed', amount: 1800, customerName: 'Initrode' });
    await fetch(`${base}/demo/send-webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: hook.url, body, secret }),
    });
  }
}

/** Globex starts a Gridsheet export with its key saved: the card says who is connected (the demo's identify). */
async function seedGridsheet(api: Api): Promise<void> {
  const created = await api<{ id: string }>('/instances', { method: 'POST', body: JSON.stringify({ integrationKey: 'gridsheet-export' }) });
  await api(`/instances/${created.id}/connections/gridsheet`, { method: 'PUT', body: JSON.stringify({ values: { apiKey: 'demo_9f3c2a1b' } }) });
}

async function main(): Promise<void> {
  const root = packageRoot();
  const bundle = ensureBundle(root);
  if (!bundle.path) throw new Error(bundle.skip);
  mkdirSync(outDir, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'plugboard-screens-'));
  const demo = await startDemo({ port: 0, dataDir, logLevel: 'silent', bundlePath: bundle.path });
  const api = await globexApi(demo.url);
  await fetch(`${demo.url}/demo/token?customer=initech`).then(async (r) => {
    const { token } = (await r.json()) as { token: string };
    await fetch(`${demo.url}/api/v1/integrations`, { headers: { authorization: `Bearer ${token}` } }); // Initech is seen: a second customer
  });
  await seedRun(demo.url, api);
  await seedLedgerly(demo.url, api);
  await seedGridsheet(api);
  const browser = await launchChromium();
  let failed = 0;
  try {
    for (const shot of SHOTS.filter((s) => !only || only.includes(s.name))) {
      for (const width of WIDTHS) {
        for (const scheme of SCHEMES) {
          try {
            await resetSetups(api);
            console.log(await capture(browser, demo, shot, width, scheme));
          } catch (error) {
            failed++;
            console.error(`${shot.name} ${width} ${scheme}: ${(error as Error).message.split('\n')[0]}`);
          }
        }
      }
    }
  } finally {
    await browser.close();
    await demo.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (failed > 0) {
    console.error(`${failed} screenshot(s) failed`);
    process.exitCode = 1;
  }
}

await main();
