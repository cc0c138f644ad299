import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import '../../src/elements/integration-dialog/define.js';
import type { PlugIntegrationDialog } from '../../src/elements/integration-dialog/integration-dialog.js';
import type { AuditEntry, AuditList, Instance } from '../../src/protocol/index.js';
import { button, form, root, shown, step, text, type } from './dialog-driver.js';
import { API, FakeApi, fakeJwt, instance, json, problem, slack, slackDetail } from './fake-api.js';
import { deepActiveElement, sendKeys } from './focus.js';

/** The name of the step the stepper marks as current (aria-current="step"). */
const currentStep = (el: PlugIntegrationDialog) => root(el).querySelector('.progress [aria-current="step"] .step-title')?.textContent?.trim();

describe('<plug-integration-dialog>', () => {
  let fake: FakeApi;
  let current: Instance;
  beforeEach(() => {
    current = instance();
    fake = new FakeApi()
      .on('GET', '/integrations/slack', slackDetail)
      .on('GET', '/instances/inst-1', () => json(current))
      .on('POST', '/instances', () => json(current, 201));
  });
  afterEach(() => fake.restore());

  async function openDialog(mode = 'modal') {
    const el = await fixture<PlugIntegrationDialog>(
      html`<plug-integration-dialog api=${API} token="t" integration-key="slack" mode=${mode} open></plug-integration-dialog>`,
    );
    await shown(el, 'What it needs');
    return el;
  }

  it('shows the overview: description, paragraphs, what it needs', async () => {
    const el = await openDialog();
    expect(text(el)).to.contain('Post deal updates to a Slack channel.');
    expect([...root(el).querySelectorAll('p.muted')].map((p) => p.textContent!.trim())).to.include.members([
      'Sends a message when a deal changes.',
      'Pick a channel and a template.',
    ]);
    expect(text(el)).to.contain('Slack bot token (API key)');
    expect(text(el)).to.contain('Configure: Channel');
    expect(root(el).querySelector('dialog')!.open).to.equal(true);
    await expect(el).to.be.accessible();
  });

  it('keeps the keyboard where it was: a button disabled while its request runs gets the focus back, or the top of the dialog when it was replaced', async () => {
    const slow = (respond: () => Response) => () => new Promise<Response>((resolve) => setTimeout(() => resolve(respond()), 100));
    fake.on(
      'PUT',
      '/instances/inst-1/connections/slack',
      slow(() => {
        current = instance({ connections: [{ name: 'slack', kind: 'apiKey', status: 'connected' }], config: { channel: '#general', template: 't' } });
        return json(current);
      }),
    );
    fake.on(
      'POST',
      '/instances/inst-1/activate',
      slow(() => json((current = { ...current, status: 'active' }))),
    );
    const el = await openDialog();
    button(el, 'Set up').click();
    await step(el, 'Connections');
    await type(el, 'token', 'xoxb-1');
    button(el, 'Save credentials').focus();
    await sendKeys({ press: 'Enter' });
    await shown(el, 'Replace credentials');
    await waitUntil(() => deepActiveElement() !== document.body, 'the focus fell to <body>');
    expect(deepActiveElement()).to.equal(button(el, 'Replace credentials'));

    button(el, 'Overview').click();
    await shown(el, 'Activate');
    button(el, 'Activate').focus();
    await sendKeys({ press: 'Enter' });
    await shown(el, 'Pause');
    await waitUntil(() => deepActiveElement() !== document.body, 'the focus fell to <body>');
    // Activate is gone (Pause took its place): the focus goes to the top of the dialog, as after a save.
    expect(deepActiveElement()).to.equal(button(el, 'Close'));
  });

  it('walks the wizard: credentials (creating the instance), pages with back/next (saving drafts), 422 errors on fields, save', async () => {
    let refuse = false;
    fake.on('PUT', '/instances/inst-1/config', (req) => {
      if (refuse) {
        refuse = false;
        return problem(422, {
          type: 'https://plugboard.dev/problems/validation',
          title: 'Invalid configuration',
          errors: [{ path: 'config.channel', message: 'No channel named #general' }],
        });
      }
      current = instance({ ...current, config: (req.body as { config: Record<string, unknown> }).config, version: current.version + 1 });
      return json(current);
    });
    const configPuts = () => fake.calls.filter((c) => c.method === 'PUT' && c.path.endsWith('/config'));
    const el = await openDialog();
    button(el, 'Set up').click();

    await step(el, 'Connections');
    // The stepper names the steps and marks the current one; no second "Step 1 of 3" line repeats it.
    expect(currentStep(el)).to.equal('Connections');
    expect(root(el).querySelectorAll('.progress li').length).to.equal(3);
    expect(text(el)).not.to.match(/Step \d+ of \d+/);
    await expect(el).to.be.accessible();
    fake.on('PUT', '/instances/inst-1/connections/slack', (req) => {
      current = instance({ connections: [{ name: 'slack', kind: 'apiKey', status: 'connected' }] });
      return (req.body as { values: { token: string } }).values.token === 'xoxb-1' ? json(current) : problem(422);
    });
    await type(el, 'token', 'xoxb-1');
    const created = oneEvent(el, 'plug-instance-created');
    button(el, 'Save credentials').click();
    expect((await created).detail.instance.id).to.equal('inst-1');
    const create = fake.calls.find((c) => c.method === 'POST')!;
    expect(create.body).to.deep.equal({ integrationKey: 'slack' });
    expect(create.headers.get('idempotency-key')).to.match(/^[0-9a-f-]{36}$/);
    await shown(el, 'Connected');
    // The typed key leaves the page once stored: the field is empty and says it is set.
    await form(el).updateComplete;
    expect(form(el).shadowRoot!.querySelector<HTMLInputElement>('[data-field="token"]')!.value).to.equal('');
    expect(form(el).value).to.deep.equal({});
    expect(form(el).shadowRoot!.textContent).to.contain('Set');
    button(el, 'Next').click();

    await step(el, 'Channel');
    expect(currentStep(el)).to.equal('Channel');
    expect(text(el)).not.to.match(/Step \d+ of \d+/);
    button(el, 'Next').click(); // channel is required: the form stops us
    await el.updateComplete;
    expect(root(el).querySelector('#step-heading')!.textContent!.trim()).to.equal('Channel');
    await type(el, 'channel', '#general');
    button(el, 'Next').click();
    await step(el, 'Message');
    button(el, 'Back').click();
    await step(el, 'Channel');
    expect(form(el).value).to.deep.equal({ channel: '#general' });
    button(el, 'Next').click();
    await step(el, 'Message');
    await type(el, 'template', 'Deal {name} moved');
    // Each "Next" saved its page as a draft (the second time with the Message page's default, picked up by "Back").
    expect(configPuts().map((c) => c.body)).to.deep.equal([
      { config: { channel: '#general' }, version: 1 },
      { config: { channel: '#general', notifyOwner: false }, version: 2 },
    ]);

    refuse = true;
    button(el, 'Save').click();
    await step(el, 'Channel'); // back to the page holding the bad field
    await form(el).updateComplete;
    expect(form(el).shadowRoot!.textContent).to.contain('No channel named #general');
    expect(text(el)).to.contain('One field needs attention.');
    await expect(el).to.be.accessible();
    const body = configPuts()[2]!;
    expect(body.body).to.deep.equal({ config: { channel: '#general', template: 'Deal {name} moved', notifyOwner: false }, version: 3 });
    expect(body.headers.get('if-match')).to.equal('"3"');

    await type(el, 'channel', '#deals');
    button(el, 'Next').click();
    await step(el, 'Message');
    const saved = oneEvent(el, 'plug-config-saved');
    button(el, 'Save').click();
    const event = await saved;
    expect(event.detail.instance.config).to.deep.equal({ channel: '#deals', template: 'Deal {name} moved', notifyOwner: false });
    expect(event.bubbles && event.composed).to.equal(true);
    await shown(el, 'What it needs');
  });

  it('activation shows the server blockers, then activates, pauses and resumes with events', async () => {
    current = instance({ config: { channel: '#a' } });
    fake.on('GET', '/integrations/slack', { ...slackDetail, instance: { id: 'inst-1', status: 'draft', updatedAt: current.updatedAt } });
    const el = await openDialog();
    let ready = false;
    fake.on('POST', '/instances/inst-1/activate', () => {
      if (!ready) {
        return problem(409, {
          type: 'https://plugboard.dev/problems/not-ready',
          title: 'Not ready to activate',
          errors: [{ path: 'connections.slack', message: 'Connect Slack bot token' }],
        });
      }
      current = instance({ status: 'active' });
      return json(current);
    });
    fake.on('POST', '/instances/inst-1/pause', () => json((current = instance({ status: 'paused' }))));

    button(el, 'Activate').click();
    await shown(el, 'Connect Slack bot token');
    expect(text(el)).to.contain('Before activating:');
    await expect(el).to.be.accessible();

    ready = true;
    const activated = oneEvent(el, 'plug-instance-activated');
    button(el, 'Activate').click();
    expect((await activated).detail.instance.status).to.equal('active');
    await shown(el, 'Pause');
    expect(text(el)).to.not.contain('Connect Slack bot token');

    const paused = oneEvent(el, 'plug-instance-paused');
    button(el, 'Pause').click();
    expect((await paused).detail.instance.status).to.equal('paused');
    await shown(el, 'Resume');
    const resumed = oneEvent(el, 'plug-instance-activated');
    button(el, 'Resume').click();
    expect((await resumed).detail.instance.status).to.equal('active');
  });

  it('deletes only after confirmation', async () => {
    fake.on('GET', '/integrations/slack', { ...slackDetail, instance: { id: 'inst-1', status: 'draft', updatedAt: current.updatedAt } });
    fake.on('DELETE', '/instances/inst-1', () => new Response(null, { status: 204 }));
    const el = await openDialog();
    button(el, 'Delete').click();
    await shown(el, 'This cannot be undone.');
    expect(deepActiveElement()!.textContent!.trim()).to.equal('Keep it');
    await expect(el).to.be.accessible();
    button(el, 'Keep it').click();
    await shown(el, 'What it needs');
    expect(fake.count('DELETE', '/instances/inst-1')).to.equal(0);

    button(el, 'Delete').click();
    await shown(el, 'This cannot be undone.');
    const deleted = oneEvent(el, 'plug-instance-deleted');
    root(el).querySelector<HTMLButtonElement>('.danger.primary')!.click();
    expect((await deleted).detail).to.deep.equal({ instanceId: 'inst-1', integrationKey: 'slack' });
    await shown(el, 'Set up');
  });

  it('a 409 version conflict offers a reload that reads the instance again', async () => {
    fake.on('GET', '/integrations/slack', { ...slackDetail, connections: [], instance: { id: 'inst-1', status: 'draft', updatedAt: current.updatedAt } });
    fake.on('PUT', '/instances/inst-1/config', problem(409, { type: 'https://plugboard.dev/problems/version-mismatch', title: 'Version mismatch' }));
    const el = await openDialog();
    button(el, 'Continue setup').click();
    await step(el, 'Channel');
    await type(el, 'channel', '#x');
    button(el, 'Next').click(); // the draft save meets someone else's change
    await shown(el, 'Someone else changed this configuration.');
    current = instance({ config: { channel: '#theirs', template: 'x' }, version: 5 });
    const reads = fake.count('GET', '/instances/inst-1');
    button(el, 'Reload').click();
    await waitUntil(() => !root(el).querySelector('[role="alert"]'));
    expect(fake.count('GET', '/instances/inst-1')).to.equal(reads + 1);
    await step(el, 'Channel');
    expect(form(el).value).to.include({ channel: '#theirs' });
  });

  it('retries a save once with a fresh token after a 401', async () => {
    const tokens = [fakeJwt({ exp: Math.floor(Date.now() / 1000) + 600, n: 1 }), fakeJwt({ exp: Math.floor(Date.now() / 1000) + 600, n: 2 })];
    let issued = 0;
    fake.on('GET', '/integrations/slack', {
      ...slackDetail,
      connections: [],
      configPages: [slackDetail.configPages[0]!],
      instance: { id: 'inst-1', status: 'draft', updatedAt: current.updatedAt },
    });
    fake.on('PUT', '/instances/inst-1/config', (req) =>
      req.headers.get('authorization') === `Bearer ${tokens[1]}` ? json(instance({ config: { channel: '#c' }, version: 2 })) : problem(401),
    );
    const el = await fixture<PlugIntegrationDialog>(
      html`<plug-integration-dialog api=${API} .getToken=${() => tokens[Math.min(issued++, 1)]!} integration-key="slack" open></plug-integration-dialog>`,
    );
    await shown(el, 'What it needs');
    button(el, 'Continue setup').click();
    await step(el, 'Channel');
    await type(el, 'channel', '#c');
    const saved = oneEvent(el, 'plug-config-saved');
    button(el, 'Save').click();
    expect((await saved).detail.instance.version).to.equal(2);
    expect(issued).to.equal(2);
    expect(fake.count('PUT', '/instances/inst-1/config')).to.equal(2);
  });

  it('fires its events from the dialog element, also for a request that ends after a close', async () => {
    let answer!: () => void;
    fake.on('POST', '/instances', () => new Promise<Response>((resolve) => (answer = () => resolve(json(current, 201)))));
    const el = await openDialog();
    const seen: { target: EventTarget | null; from: EventTarget | undefined }[] = [];
    const record = (e: Event) => seen.push({ target: e.target, from: e.composedPath()[0] });
    document.addEventListener('plug-instance-created', record);
    fake.on('PUT', '/instances/inst-1/connections/slack', () => json(current));
    try {
      button(el, 'Set up').click();
      await step(el, 'Connections');
      await type(el, 'token', 'xoxb-1');
      button(el, 'Save credentials').click(); // the first save creates the instance
      await waitUntil(() => fake.count('POST', '/instances') === 1);
      el.close();
      await el.updateComplete;
      answer();
      await waitUntil(() => seen.length === 1, 'no plug-instance-created after the close');
      // (booleans, not nodes: a failing assertion on a DOM node stalls the runner's serializer)
      expect(seen[0]!.target === el, 'target is the dialog').to.equal(true);
      expect(seen[0]!.from === el, 'fired from the dialog itself').to.equal(true);
    } finally {
      document.removeEventListener('plug-instance-created', record);
    }
  });

  it('Escape closes the modal and fires plug-dialog-close; Tab stays inside', async () => {
    const el = await openDialog();
    await waitUntil(() => deepActiveElement()?.textContent?.trim() === 'Close');
    for (let i = 0; i < 4; i++) {
      await sendKeys({ press: 'Tab' });
      expect(root(el).contains(deepActiveElement())).to.equal(true);
    }
    const closed = oneEvent(el, 'plug-dialog-close');
    await sendKeys({ press: 'Escape' });
    expect((await closed).detail.integrationKey).to.equal('slack');
    expect(el.open).to.equal(false);
    expect(root(el).querySelector('dialog')).to.equal(null);
  });

  it('renders inline as a panel, keyboard-operable with Enter', async () => {
    const el = await openDialog('inline');
    expect(root(el).querySelector('dialog')).to.equal(null);
    expect(root(el).querySelector('[part="dialog"]')!.tagName).to.equal('SECTION');
    await expect(el).to.be.accessible();
    button(el, 'Set up').focus();
    await sendKeys({ press: 'Enter' });
    await step(el, 'Connections');
    expect(deepActiveElement()!.id).to.equal('step-heading');
  });

  it('Escape with focus inside the inline panel closes it and fires plug-dialog-close', async () => {
    const el = await openDialog('inline');
    button(el, 'Set up').focus();
    const closed = oneEvent(el, 'plug-dialog-close');
    await sendKeys({ press: 'Escape' });
    expect((await closed).detail.integrationKey).to.equal('slack');
    expect(el.open).to.equal(false);
    expect(root(el).querySelector('[part="dialog"]')).to.equal(null);
  });

  describe('History', () => {
    const entry = (id: string, action: string, actor: AuditEntry['actor'], details: AuditEntry['details'] = {}): AuditEntry => ({
      id,
      at: '2025-01-02T09:30:00Z',
      actor,
      action,
      target: 'instance:inst-1',
      details,
    });
    const newest: AuditList = {
      events: [
        entry('aud_3', 'instance.paused', { type: 'vendor' }, { by: 'vendor' }),
        entry('aud_2', 'connection.set', { type: 'user', id: 'bob' }, { connection: 'slack' }),
      ],
      nextCursor: 'older-page',
    };
    const older: AuditList = { events: [entry('aud_1', 'instance.created', { type: 'user', id: 'ada', name: 'Ada Admin' })], nextCursor: null };

    async function withInstance() {
      fake.on('GET', '/integrations/slack', { ...slackDetail, instance: { id: 'inst-1', status: 'draft', updatedAt: current.updatedAt } });
      const el = await openDialog();
      await waitUntil(() => root(el).querySelector('#history-toggle'), `no History button: ${text(el)}`);
      return { el, toggle: root(el).querySelector<HTMLButtonElement>('#history-toggle')! };
    }

    it('opens with the keyboard, shows who did what newest first, and pages back', async () => {
      fake.on('GET', '/instances/inst-1/audit', (req) => json(req.search.get('cursor') === 'older-page' ? older : newest));
      const { el, toggle } = await withInstance();
      expect(toggle.getAttribute('aria-expanded')).to.equal('false');
      expect(fake.count('GET', '/instances/inst-1/audit')).to.equal(0); // read on demand only
      toggle.focus();
      await sendKeys({ press: 'Enter' });
      await shown(el, 'Vendor: Paused');
      expect(toggle.getAttribute('aria-expanded')).to.equal('true');
      expect(text(el)).to.contain('bob: Credentials saved (Slack bot token)');
      const times = [...root(el).querySelectorAll('.history-entry time')].map((t) => t.getAttribute('datetime'));
      expect(times).to.deep.equal(['2025-01-02T09:30:00Z', '2025-01-02T09:30:00Z']);
      await expect(el).to.be.accessible();

      button(el, 'Load older changes').focus();
      await sendKeys({ press: 'Enter' });
      await shown(el, 'Ada Admin: Set up');
      expect([...root(el).querySelectorAll('.history-entry span')].map((span) => span.textContent!.trim())).to.deep.equal([
        'Vendor: Paused',
        'bob: Credentials saved (Slack bot token)',
        'Ada Admin: Set up',
      ]);
      expect(fake.calls.filter((c) => c.path === '/instances/inst-1/audit').map((c) => c.search.get('cursor'))).to.deep.equal([null, 'older-page']);
      expect([...root(el).querySelectorAll('button')].some((b) => b.textContent!.trim() === 'Load older changes')).to.equal(false);

      await sendKeys({ press: 'Tab' }); // the pager left: focus stays in the dialog
      toggle.focus();
      await sendKeys({ press: ' ' });
      expect(toggle.getAttribute('aria-expanded')).to.equal('false');
      expect(root(el).querySelector<HTMLElement>('#history-panel')!.hidden).to.equal(true);
    });

    it("names the vendor's staff member who acted, in the customer's words", async () => {
      // A vendor token carries the staff member's name: the customer reads who at the vendor did it.
      fake.on('GET', '/instances/inst-1/audit', {
        events: [
          entry('aud_5', 'instance.activated', { type: 'vendor', name: 'Acme support (jane@acme.example)' }, { by: 'vendor' }),
          entry('aud_4', 'instance.paused', { type: 'vendor' }, { by: 'vendor' }),
        ],
        nextCursor: null,
      } satisfies AuditList);
      const { el, toggle } = await withInstance();
      toggle.click();
      await shown(el, 'Acme support (jane@acme.example): Activated');
      expect([...root(el).querySelectorAll('.history-entry span')].map((span) => span.textContent!.trim())).to.deep.equal([
        'Acme support (jane@acme.example): Activated',
        'Vendor: Paused', // no name on the token
      ]);
      await expect(el).to.be.accessible();
    });

    it('reads version changes, re-runs and actions it does not know in customer words, never internal names', async () => {
      fake.on('GET', '/instances/inst-1/audit', {
        events: [
          entry('aud_9', 'instance.rolled_back', { type: 'vendor', name: 'Jane' }, { from: '2.0.0', version: '1.0.0' }),
          entry('aud_8', 'instance.upgraded', { type: 'vendor', name: 'Jane' }, { from: '1.0.0', version: '2.0.0' }),
          entry('aud_7', 'execution.rerun', { type: 'vendor', name: 'Jane' }, {}),
          entry('aud_6', 'something.new_internal', { type: 'system' }, {}),
        ],
        nextCursor: null,
      } satisfies AuditList);
      const { el, toggle } = await withInstance();
      toggle.click();
      await shown(el, 'Jane: Returned to version 1.0.0');
      expect([...root(el).querySelectorAll('.history-entry span')].map((span) => span.textContent!.trim())).to.deep.equal([
        'Jane: Returned to version 1.0.0',
        'Jane: Updated to version 2.0.0',
        'Jane: Run started again',
        'Automatic: Changed',
      ]);
      expect(text(el)).not.to.match(/something\.new_internal|instance\.|execution\./);
    });

    it('shows loading, then an error with a retry, then the empty state', async () => {
      let answer: (r: Response) => void = () => {};
      fake.on('GET', '/instances/inst-1/audit', () => new Promise<Response>((resolve) => (answer = resolve)));
      const { el, toggle } = await withInstance();
      toggle.click();
      await waitUntil(() => root(el).querySelector('#history-panel [role="status"]')?.textContent?.includes('Loading history…'), 'no loading state');
      answer(problem(500, { type: 'https://plugboard.dev/problems/internal', title: 'Internal server error' }));
      await shown(el, 'The history could not be loaded.');
      expect(root(el).querySelector('#history-panel [role="alert"]')).to.not.equal(null);
      await expect(el).to.be.accessible();
      fake.on('GET', '/instances/inst-1/audit', { events: [], nextCursor: null });
      button(el, 'Try again').click();
      await shown(el, 'No changes recorded yet.');
      expect(text(el)).to.not.contain('The history could not be loaded.');
    });

    it('tells a member that only an admin can see it', async () => {
      fake.on('GET', '/instances/inst-1/audit', problem(403, { type: 'https://plugboard.dev/problems/forbidden', title: 'Not allowed' }));
      const { el, toggle } = await withInstance();
      toggle.click();
      await shown(el, 'Only an admin can see the history.');
      expect(root(el).querySelector('#history-panel [role="alert"]')).to.equal(null);
      await expect(el).to.be.accessible();
    });
  });

  it('renders hostile integration text as text', async () => {
    const w = window as unknown as { pwned2?: number };
    fake.on('GET', '/integrations/slack', {
      ...slackDetail,
      name: '<img src=x onerror="window.pwned2=1">',
      overview: '<script>window.pwned2=2</script>',
      icon: 'javascript:window.pwned2=3',
    });
    const el = await openDialog();
    expect(root(el).querySelector('h2')!.textContent).to.equal('<img src=x onerror="window.pwned2=1">');
    expect(root(el).querySelectorAll('img, script')).to.have.length(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(w.pwned2).to.equal(undefined);
    expect(slack.key).to.equal('slack');
  });
});
