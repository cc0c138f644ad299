import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import '../../src/elements/execution-log/define.js';
import '../../src/elements/provider/define.js';
import '../../src/elements/integration-dialog/define.js';
import type { PlugExecutionLog } from '../../src/elements/execution-log/execution-log.js';
import type { PlugIntegrationDialog } from '../../src/elements/integration-dialog/integration-dialog.js';
import type { ExecutionDetail, ExecutionList, ExecutionSummary } from '../../src/protocol/index.js';
import { setViewport } from '@web/test-runner-commands';
import { API, FakeApi, instance, json, problem, slackDetail, type Recorded } from './fake-api.js';
import { deepActiveElement, sendKeys } from './focus.js';

const LIST = '/instances/inst-1/executions';
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

function run(over: Partial<ExecutionSummary> & { id: string }): ExecutionSummary {
  return {
    instanceId: 'inst-1',
    flow: 'forward',
    status: 'succeeded',
    trigger: 'webhook',
    attempt: 1,
    queuedAt: minutesAgo(5),
    startedAt: minutesAgo(5),
    endedAt: minutesAgo(5),
    durationMs: 120,
    error: null,
    resultSummary: null,
    ...over,
  };
}

function detail(summary: ExecutionSummary, over: Partial<ExecutionDetail> = {}): ExecutionDetail {
  return {
    ...summary,
    logs: [
      { seq: 1, at: summary.startedAt ?? summary.queuedAt, level: 'info', message: 'Received contact.created' },
      { seq: 2, at: summary.startedAt ?? summary.queuedAt, level: 'warn', message: 'Target answered slowly' },
    ],
    logsTruncated: false,
    ...over,
  };
}

const ok = run({ id: 'ex-3', flow: 'forward', queuedAt: minutesAgo(2), startedAt: minutesAgo(2), durationMs: 1500 });
const failed = run({
  id: 'ex-2',
  flow: 'notify',
  status: 'failed',
  trigger: 'schedule',
  queuedAt: minutesAgo(10),
  startedAt: minutesAgo(10),
  durationMs: 40,
  error: 'Chatwave answered 503',
  attempt: 2,
});
const old = run({ id: 'ex-1', flow: 'forward', queuedAt: minutesAgo(60), startedAt: minutesAgo(60) });

const page = (executions: ExecutionSummary[], nextCursor: string | null = null): ExecutionList => ({ executions, nextCursor });

const root = (el: PlugExecutionLog) => el.shadowRoot!;
const items = (el: PlugExecutionLog) => [...root(el).querySelectorAll<HTMLLIElement>('[part~="item"]')];
const toggle = (el: PlugExecutionLog, id: string) => root(el).querySelector<HTMLButtonElement>(`li[data-id="${id}"] > button`)!;
const select = (el: PlugExecutionLog) => root(el).querySelector<HTMLSelectElement>('select')!;
const listCalls = (fake: FakeApi) => fake.calls.filter((c) => c.method === 'GET' && c.path === LIST);
const buttonNamed = (el: PlugExecutionLog, name: string) =>
  [...root(el).querySelectorAll<HTMLButtonElement>('button')].find((b) => b.textContent!.trim() === name);

async function mount(fake: FakeApi, attrs: { pollInterval?: number } = {}): Promise<PlugExecutionLog> {
  const el = await fixture<PlugExecutionLog>(
    html`<plug-execution-log api=${API} token="t" instance-id="inst-1" poll-interval=${attrs.pollInterval ?? 0}></plug-execution-log>`,
  );
  await waitUntil(() => items(el).length > 0 || root(el).querySelector('[role="alert"], p.muted:not([aria-busy])'), 'never left loading');
  return el;
}

describe('<plug-execution-log>', () => {
  let fake: FakeApi;
  beforeEach(() => {
    fake = new FakeApi()
      .on('GET', LIST, page([ok, failed]))
      .on('GET', '/executions/ex-3', detail(ok))
      .on('GET', '/executions/ex-2', detail(failed, { logs: [{ seq: 1, at: failed.startedAt!, level: 'error', message: 'POST failed: 503' }] }));
  });
  afterEach(() => fake.restore());

  it('lists the runs newest first with status, flow, trigger, time and duration', async () => {
    const el = await mount(fake);
    const rows = items(el);
    expect(rows.map((r) => r.dataset.id)).to.deep.equal(['ex-3', 'ex-2']);
    expect(rows[0]!.querySelector('.flow')!.textContent).to.equal('Forward'); // without the flows' labels: the key in words
    expect(rows[0]!.querySelector('[part~="status"]')!.textContent).to.equal('Succeeded');
    expect(rows[0]!.querySelector('[part~="status"]')!.getAttribute('part')).to.equal('status status-succeeded');
    expect(rows[0]!.textContent).to.include('Webhook');
    expect(rows[0]!.textContent).to.include('2 minutes ago');
    expect(rows[0]!.textContent).to.match(/took 1\.5 sec/);
    expect(rows[0]!.querySelector('time')!.getAttribute('datetime')).to.equal(ok.startedAt);
    expect(rows[1]!.querySelector('[part~="status"]')!.textContent).to.equal('Failed');
    expect(rows[1]!.textContent).to.include('Schedule');
    expect(rows[1]!.textContent).to.include('attempt 2');
    expect(root(el).querySelector('[part="list"]')!.getAttribute('aria-label')).to.equal('Runs');
    expect(listCalls(fake)).to.have.length(1);
    expect(listCalls(fake)[0]!.search.get('status')).to.equal(null);
    await expect(el).to.be.accessible();
  });

  it('sends the status filter with the request and shows the filtered empty state', async () => {
    fake.on('GET', LIST, (req) => json(page(req.search.get('status') === 'failed' ? [failed] : req.search.get('status') === 'running' ? [] : [ok, failed])));
    const el = await mount(fake);
    select(el).value = 'failed';
    select(el).dispatchEvent(new Event('change'));
    await waitUntil(() => items(el).length === 1);
    expect(listCalls(fake).at(-1)!.search.get('status')).to.equal('failed');
    expect(el.status).to.equal('failed');
    expect(items(el)[0]!.dataset.id).to.equal('ex-2');

    el.status = 'running';
    await waitUntil(() => root(el).textContent!.includes('No runs with this status.'));
    expect(listCalls(fake).at(-1)!.search.get('status')).to.equal('running');
    expect(select(el).value).to.equal('running');
    await expect(el).to.be.accessible();
  });

  it('shows an empty state when the instance has not run yet', async () => {
    fake.on('GET', LIST, page([]));
    const el = await mount(fake);
    expect(root(el).textContent).to.include('No runs yet.');
    await expect(el).to.be.accessible();
  });

  it('expands a run to load and show its log lines, and collapses it again', async () => {
    const el = await mount(fake);
    const button = toggle(el, 'ex-3');
    expect(button.getAttribute('aria-expanded')).to.equal('false');
    button.click();
    await waitUntil(() => root(el).querySelectorAll('.line').length === 2);
    expect(button.getAttribute('aria-expanded')).to.equal('true');
    const log = root(el).querySelector<HTMLElement>('[part="log"]')!;
    expect(button.getAttribute('aria-controls')).to.equal(log.id);
    expect(log.getAttribute('aria-label')).to.equal('Log of Forward');
    const lines = [...log.querySelectorAll('.line')];
    expect(lines[0]!.querySelector('.level')!.textContent).to.equal('info');
    expect(lines[0]!.querySelector('.message')!.textContent).to.equal('Received contact.created');
    expect(lines[1]!.getAttribute('data-level')).to.equal('warn');
    expect(lines[1]!.querySelector('time')!.getAttribute('datetime')).to.equal(ok.startedAt);
    expect(log.querySelector('[part="truncated"]')).to.equal(null);
    expect(fake.count('GET', '/executions/ex-3')).to.equal(1);
    await expect(el).to.be.accessible();

    button.click();
    await el.updateComplete;
    expect(button.getAttribute('aria-expanded')).to.equal('false');
    expect(root(el).querySelector('[part="log"]')).to.equal(null);
    button.click(); // open again: the finished run's lines are kept, not read twice
    await el.updateComplete;
    expect(root(el).querySelectorAll('.line')).to.have.length(2);
    expect(fake.count('GET', '/executions/ex-3')).to.equal(1);
  });

  it('keeps the raw result readable on a phone: "Details" is a 44 px target and the JSON wraps inside the run', async () => {
    const result = JSON.stringify({ status: 201, summary: 'Forwarded to localhost:8787', target: `https://hooks.example/${'x'.repeat(120)}` });
    const withResult = run({ id: 'ex-3', resultSummary: result });
    fake.on('GET', LIST, page([withResult])).on('GET', '/executions/ex-3', detail(withResult));
    await setViewport({ width: 375, height: 667 });
    try {
      const el = await mount(fake);
      toggle(el, 'ex-3').click();
      await waitUntil(() => root(el).querySelector('[part="details"]'), 'no Details');
      const details = root(el).querySelector<HTMLDetailsElement>('[part="details"]')!;
      const summary = details.querySelector('summary')!;
      expect(summary.textContent!.trim()).to.equal('Details');
      expect(details.open, 'the raw result stays behind the disclosure').to.equal(false);
      expect(summary.getBoundingClientRect().height).to.be.at.least(44);
      summary.click();
      await waitUntil(() => details.open);
      const pre = details.querySelector('pre')!;
      expect(pre.scrollWidth, 'no line runs past the edge').to.be.at.most(pre.clientWidth);
      expect(pre.getBoundingClientRect().right).to.be.at.most(375);
      expect(pre.textContent, 'indented, one key a line').to.contain('\n  "status": 201,');
      await expect(el).to.be.accessible();
    } finally {
      await setViewport({ width: 800, height: 600 });
    }
  });

  it("shows a failed run's error and marks a truncated log", async () => {
    fake.on('GET', '/executions/ex-2', detail(failed, { logsTruncated: true }));
    const el = await mount(fake);
    toggle(el, 'ex-2').click();
    await waitUntil(() => root(el).querySelector('[part="truncated"]'));
    expect(root(el).querySelector('[part="error"]')!.textContent).to.equal('Error: Chatwave answered 503');
    expect(root(el).querySelector('[part="truncated"]')!.textContent).to.equal('Log truncated: later lines were not kept.');
    await expect(el).to.be.accessible();
  });

  it('renders hostile log text and flow names as text', async () => {
    const evil = '<img src=x onerror="window.__plugPwned=1"><script>window.__plugPwned=2</script>';
    const hostile = run({ id: 'ex-9', flow: '<b>flow</b>', status: 'failed', error: '<img src=y onerror="window.__plugPwned=3">' });
    fake
      .on('GET', LIST, page([hostile]))
      .on('GET', '/executions/ex-9', detail(hostile, { logs: [{ seq: 1, at: hostile.queuedAt, level: 'error', message: evil }] }));
    const el = await mount(fake);
    toggle(el, 'ex-9').click();
    await waitUntil(() => root(el).querySelector('.message'));
    expect(root(el).querySelector('.message')!.textContent).to.equal(evil);
    expect(root(el).querySelector('.flow')!.textContent).to.equal('<b>flow</b>');
    expect(root(el).querySelectorAll('img, script, b')).to.have.length(0);
    await new Promise((r) => setTimeout(r, 50));
    expect((window as { __plugPwned?: number }).__plugPwned).to.equal(undefined);
  });

  it('loads older runs with the cursor and keeps focus in the list when the last page came', async () => {
    fake.on('GET', LIST, (req) => json(req.search.get('cursor') === 'c-older' ? page([old]) : page([ok, failed], 'c-older')));
    const el = await mount(fake);
    const older = buttonNamed(el, 'Load older runs')!;
    older.focus();
    older.click();
    await waitUntil(() => items(el).length === 3);
    expect(listCalls(fake).at(-1)!.search.get('cursor')).to.equal('c-older');
    expect(items(el).map((r) => r.dataset.id)).to.deep.equal(['ex-3', 'ex-2', 'ex-1']);
    expect(buttonNamed(el, 'Load older runs')).to.equal(undefined);
    expect(deepActiveElement()).to.equal(toggle(el, 'ex-1'));
  });

  it('refreshes live: a new run appears on top and is announced politely', async () => {
    let polls = 0;
    const fresh = run({ id: 'ex-4', flow: 'forward', status: 'running', queuedAt: minutesAgo(0), startedAt: minutesAgo(0), endedAt: null, durationMs: null });
    fake.on('GET', LIST, () => json(page(++polls >= 3 ? [fresh, ok, failed] : [ok, failed])));
    const el = await mount(fake, { pollInterval: 40 });
    await waitUntil(() => items(el).length === 3, 'the new run never appeared', { timeout: 5000 });
    expect(items(el)[0]!.dataset.id).to.equal('ex-4');
    expect(items(el)[0]!.querySelector('[part~="status"]')!.textContent).to.equal('Running');
    const live = root(el).querySelector('[aria-live="polite"]')!;
    await waitUntil(() => live.textContent!.trim() === '1 new run');
    // The refresh reads the newest page again: no cursor, the same filter.
    expect(listCalls(fake).every((c) => c.search.get('cursor') === null)).to.equal(true);
  });

  it('re-reads the open log of a running run until it finishes, and announces the finish', async () => {
    const running = run({ id: 'ex-5', status: 'running', endedAt: null, durationMs: null, queuedAt: minutesAgo(0), startedAt: minutesAgo(0) });
    const done = { ...running, status: 'succeeded' as const, durationMs: 300, endedAt: new Date().toISOString() };
    let finished = false;
    fake
      .on('GET', LIST, () => json(page([finished ? done : running])))
      .on('GET', '/executions/ex-5', () =>
        json(
          finished
            ? detail(done, { logs: [...detail(done).logs, { seq: 3, at: done.endedAt, level: 'info', message: 'Forwarded 12 bytes' }] })
            : detail(running),
        ),
      );
    const el = await mount(fake, { pollInterval: 40 });
    toggle(el, 'ex-5').click();
    await waitUntil(() => root(el).querySelectorAll('.line').length === 2);
    finished = true;
    await waitUntil(() => root(el).querySelectorAll('.line').length === 3, 'the open log was not read again', { timeout: 5000 });
    expect(items(el)[0]!.querySelector('[part~="status"]')!.textContent).to.equal('Succeeded');
    const reads = fake.count('GET', '/executions/ex-5');
    await waitUntil(() => listCalls(fake).length > 6, 'polling stopped', { timeout: 5000 });
    expect(fake.count('GET', '/executions/ex-5')).to.equal(reads); // finished: the log is not read again
  });

  it('stops polling when removed from the page', async () => {
    const el = await mount(fake, { pollInterval: 20 });
    await waitUntil(() => listCalls(fake).length >= 3, 'never polled', { timeout: 5000 });
    el.remove();
    const after = listCalls(fake).length;
    await new Promise((r) => setTimeout(r, 200));
    expect(listCalls(fake).length).to.equal(after);
  });

  it('shows an error with a retry that works, and fires plug-error', async () => {
    let fail = true;
    fake.on('GET', LIST, () => (fail ? problem(500, { title: 'Database unavailable' }) : json(page([ok]))));
    const errors: CustomEvent[] = [];
    const listener = (e: CustomEvent) => errors.push(e);
    document.addEventListener('plug-error', listener);
    try {
      const el = await mount(fake);
      const alert = root(el).querySelector('[role="alert"]')!;
      expect(alert.textContent).to.include('The runs could not be loaded.');
      expect(alert.textContent).to.include('Database unavailable');
      expect(errors[0]!.detail).to.include({ action: 'load-executions', message: 'Database unavailable' });
      await expect(el).to.be.accessible();
      fail = false;
      buttonNamed(el, 'Try again')!.click();
      await waitUntil(() => items(el).length === 1);
      expect(root(el).querySelector('[role="alert"]')).to.equal(null);
      expect(deepActiveElement()).to.equal(select(el));
    } finally {
      document.removeEventListener('plug-error', listener);
    }
  });

  it('shows a log that failed to load with its own retry', async () => {
    let fail = true;
    fake.on('GET', '/executions/ex-3', () => (fail ? problem(503, { title: 'Try later' }) : json(detail(ok))));
    const el = await mount(fake);
    toggle(el, 'ex-3').click();
    await waitUntil(() => root(el).querySelector('[part="log"] [role="alert"]'));
    expect(root(el).querySelector('[part="log"] [role="alert"]')!.textContent).to.include('The log could not be loaded.');
    await expect(el).to.be.accessible();
    fail = false;
    buttonNamed(el, 'Try again')!.click();
    await waitUntil(() => root(el).querySelectorAll('.line').length === 2);
  });

  it('works with the keyboard alone: filter, expand, collapse, load older', async () => {
    fake.on('GET', LIST, (req: Recorded) => {
      if (req.search.get('cursor')) return json(page([old]));
      return json(page(req.search.get('status') === 'queued' ? [] : [ok, failed], 'c-older'));
    });
    const before = document.createElement('button');
    before.textContent = 'before';
    document.body.append(before);
    try {
      const el = await mount(fake);
      before.focus();
      await sendKeys({ press: 'Tab' });
      expect(deepActiveElement()).to.equal(select(el));
      await sendKeys({ press: 'ArrowDown' }); // "All runs" → "Queued"
      await waitUntil(() => listCalls(fake).at(-1)!.search.get('status') === 'queued', 'the filter did not follow the keys');
      await waitUntil(() => root(el).textContent!.includes('No runs with this status.'));
      await sendKeys({ press: 'ArrowUp' }); // back to all
      await waitUntil(() => items(el).length === 2);

      await sendKeys({ press: 'Tab' });
      expect(deepActiveElement()).to.equal(toggle(el, 'ex-3'));
      await sendKeys({ press: 'Enter' });
      await waitUntil(() => root(el).querySelectorAll('.line').length === 2);
      expect(toggle(el, 'ex-3').getAttribute('aria-expanded')).to.equal('true');
      await sendKeys({ press: ' ' });
      await el.updateComplete;
      expect(toggle(el, 'ex-3').getAttribute('aria-expanded')).to.equal('false');

      await sendKeys({ press: 'Tab' });
      expect(deepActiveElement()).to.equal(toggle(el, 'ex-2'));
      await sendKeys({ press: 'Tab' });
      expect(deepActiveElement()!.textContent!.trim()).to.equal('Load older runs');
      await sendKeys({ press: 'Enter' });
      await waitUntil(() => items(el).length === 3);
      expect(deepActiveElement()).to.equal(toggle(el, 'ex-1'));
    } finally {
      before.remove();
    }
  });

  it('takes strings from translations, formats with lang, and takes theme tokens', async () => {
    const wrapper = await fixture<HTMLDivElement>(html`<div lang="de">
      <plug-execution-log
        api=${API}
        token="t"
        instance-id="inst-1"
        poll-interval="0"
        .translations=${{ 'executions.status.succeeded': 'Erfolgreich', 'executions.filter': 'Zustand' }}
      ></plug-execution-log>
    </div>`);
    const el = wrapper.querySelector('plug-execution-log')!;
    await waitUntil(() => items(el).length === 2);
    expect(items(el)[0]!.querySelector('[part~="status"]')!.textContent).to.equal('Erfolgreich');
    expect(root(el).querySelector('label')!.textContent).to.equal('Zustand');
    expect(items(el)[0]!.textContent).to.include('1,5'); // German decimal comma
    expect(items(el)[0]!.textContent).to.include('vor 2 Minuten');
    toggle(el, 'ex-3').click();
    await waitUntil(() => root(el).querySelector('[part="log"]'));
    wrapper.style.setProperty('--plug-log-background', 'rgb(1, 2, 3)');
    expect(getComputedStyle(root(el).querySelector('[part="log"]')!).backgroundColor).to.equal('rgb(1, 2, 3)');
  });

  it('gets its client from <plug-provider>', async () => {
    const provider = await fixture(html`<plug-provider api=${API} token="shared">
      <plug-execution-log instance-id="inst-1" poll-interval="0"></plug-execution-log>
    </plug-provider>`);
    const el = provider.querySelector('plug-execution-log')!;
    await waitUntil(() => items(el).length === 2);
    expect(listCalls(fake)[0]!.headers.get('authorization')).to.equal('Bearer shared');
  });
});

describe('runs and webhook URLs in <plug-integration-dialog>', () => {
  const hookUrl = 'https://plugboard.test/hooks/whk_8f3a9c2e1b7d4f60a5c3e9d1b2f4a6c8';
  const active = instance({
    status: 'active',
    connections: [{ name: 'slack', kind: 'apiKey', status: 'connected' }],
    webhooks: [
      { flow: 'forward', url: hookUrl, hmac: true, customerFacing: true, label: 'Deal events' },
      { flow: 'ping', url: 'https://plugboard.test/hooks/whk_ping', hmac: false, customerFacing: true, label: 'Pings' },
      { flow: 'internal', url: 'https://plugboard.test/hooks/whk_vendor', hmac: false, customerFacing: false, label: 'Vendor calls' },
    ],
  });
  let fake: FakeApi;
  let current = active;
  let clipboard: PropertyDescriptor | undefined;
  const copied: string[] = [];

  beforeEach(() => {
    current = active;
    copied.length = 0;
    fake = new FakeApi()
      .on('GET', '/integrations/slack', { ...slackDetail, instance: { id: 'inst-1', status: 'active', updatedAt: active.updatedAt } })
      .on('GET', '/instances/inst-1', () => json(current))
      .on('GET', LIST, page([ok, failed]))
      .on('GET', '/executions/ex-3', detail(ok))
      .on('POST', '/instances/inst-1/webhooks/forward/secret', () => json({ flow: 'forward', secret: 'whsec_once_4b1d' }, 201));
    // The real clipboard needs a permission headless Chromium does not grant: record instead.
    clipboard = Object.getOwnPropertyDescriptor(Navigator.prototype, 'clipboard');
    Object.defineProperty(navigator, 'clipboard', {
      configurable: true,
      value: { writeText: (text: string) => (copied.push(text), Promise.resolve()) },
    });
  });
  afterEach(() => {
    fake.restore();
    delete (navigator as { clipboard?: unknown }).clipboard;
    if (clipboard) Object.defineProperty(Navigator.prototype, 'clipboard', clipboard);
  });

  const dialogRoot = (el: PlugIntegrationDialog) => el.shadowRoot!;
  async function openDialog(): Promise<PlugIntegrationDialog> {
    const el = await fixture<PlugIntegrationDialog>(
      html`<plug-integration-dialog api=${API} token="t" integration-key="slack" open></plug-integration-dialog>`,
    );
    await waitUntil(() => dialogRoot(el).querySelector('plug-execution-log'), 'no runs section');
    return el;
  }

  it('shows each webhook URL with a copy button and the runs of the instance', async () => {
    const el = await openDialog();
    const url = dialogRoot(el).querySelector<HTMLInputElement>('input#webhook-url-0')!;
    expect(url.value).to.equal(hookUrl);
    expect(url.readOnly).to.equal(true);
    expect(dialogRoot(el).querySelector('label[for="webhook-url-0"]')!.textContent).to.equal('Webhook URL for Deal events');
    expect(dialogRoot(el).querySelector<HTMLInputElement>('input#webhook-url-1')!.value).to.equal('https://plugboard.test/hooks/whk_ping');
    expect(dialogRoot(el).querySelector('#runs-heading')!.textContent).to.equal('Runs');

    const log = dialogRoot(el).querySelector<PlugExecutionLog>('plug-execution-log')!;
    await waitUntil(() => items(log).length === 2);
    expect(listCalls(fake)[0]!.headers.get('authorization')).to.equal('Bearer t');

    const copy = [...dialogRoot(el).querySelectorAll('button')].find((b) => b.textContent!.includes('Webhook URL for Deal events'))!;
    expect(copy.textContent!.trim().startsWith('Copy')).to.equal(true);
    copy.click();
    await waitUntil(() => copied.length === 1);
    expect(copied[0]).to.equal(hookUrl);
    await waitUntil(() => dialogRoot(el).querySelector('[aria-live="polite"]')!.textContent!.includes('Copied.'));
    await expect(el).to.be.accessible();
  });

  it('Shift+Tab from the first control wraps round to the last run row, inside the runs list', async () => {
    const el = await openDialog();
    const log = dialogRoot(el).querySelector<PlugExecutionLog>('plug-execution-log')!;
    await waitUntil(() => items(log).length === 2);
    const first = [...dialogRoot(el).querySelectorAll<HTMLElement>('dialog button, dialog input')][0]!;
    first.focus();
    await sendKeys({ down: 'Shift' });
    await sendKeys({ press: 'Tab' });
    await sendKeys({ up: 'Shift' });
    const focused = deepActiveElement();
    expect(focused && log.shadowRoot!.contains(focused), `focus went to ${focused?.outerHTML.slice(0, 80)}`).to.equal(true);
  });

  it('makes a signing secret for a signed flow and shows it once, focused', async () => {
    const el = await openDialog();
    const signed = [...dialogRoot(el).querySelectorAll('li.webhook')];
    expect(signed[0]!.textContent).to.include('webhook-signature');
    expect(signed[1]!.textContent).not.to.include('New signing secret'); // the ping flow is unsigned
    const make = [...signed[0]!.querySelectorAll('button')].find((b) => b.textContent!.trim() === 'New signing secret')!;
    make.click();
    await waitUntil(() => dialogRoot(el).querySelector('input[data-secret="forward"]'));
    const secret = dialogRoot(el).querySelector<HTMLInputElement>('input[data-secret="forward"]')!;
    expect(secret.value).to.equal('whsec_once_4b1d');
    expect(deepActiveElement()).to.equal(secret);
    expect(signed[0]!.textContent).to.include('Shown only now');
    expect(fake.count('POST', '/instances/inst-1/webhooks/forward/secret')).to.equal(1);
    await expect(el).to.be.accessible();
  });

  it('shows a refused secret (a member) as the dialog alert', async () => {
    fake.on('POST', '/instances/inst-1/webhooks/forward/secret', problem(403, { title: 'Forbidden' }));
    const el = await openDialog();
    [...dialogRoot(el).querySelectorAll('button')].find((b) => b.textContent!.trim() === 'New signing secret')!.click();
    await waitUntil(() => dialogRoot(el).querySelector('.alert[role="alert"]'));
    expect(dialogRoot(el).querySelector('.alert')!.textContent).to.include('You do not have permission');
    expect(dialogRoot(el).querySelector('input[data-secret]')).to.equal(null);
  });

  it("hands the dialog's theme and language down to the runs", async () => {
    const el = await fixture<PlugIntegrationDialog>(
      html`<plug-integration-dialog api=${API} token="t" integration-key="slack" theme="dark" lang="de" open></plug-integration-dialog>`,
    );
    await waitUntil(() => dialogRoot(el).querySelector('plug-execution-log'));
    const log = dialogRoot(el).querySelector<PlugExecutionLog>('plug-execution-log')!;
    await waitUntil(() => items(log).length === 2);
    expect(log.getAttribute('theme')).to.equal('dark');
    expect(items(log)[0]!.textContent).to.include('vor 2 Minuten');
    // Dark tokens: light text on the dark surface, as in the dialog around it.
    expect(getComputedStyle(items(log)[0]!.querySelector('.flow')!).color).to.equal('rgb(226, 232, 240)');
  });

  it('shows neither for a draft', async () => {
    current = instance({ status: 'draft', webhooks: active.webhooks });
    const el = await fixture<PlugIntegrationDialog>(
      html`<plug-integration-dialog api=${API} token="t" integration-key="slack" open></plug-integration-dialog>`,
    );
    await waitUntil(() => dialogRoot(el).textContent!.includes('What it needs'));
    expect(dialogRoot(el).querySelector('plug-execution-log')).to.equal(null);
    expect(dialogRoot(el).querySelector('#webhook-url-0')).to.equal(null);
    expect(listCalls(fake)).to.have.length(0);
  });
});
