import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import '../../src/elements/connect-button/define.js';
import type { PlugConnectButton } from '../../src/elements/connect-button/connect-button.js';
import type { AuthorizeBody, AuthorizeResponse, ConnectErrorDetail, ConnectEventDetail, Instance } from '../../src/protocol/index.js';
import { API, FakeApi, fakeJwt, json } from './fake-api.js';
import { deepActiveElement } from './focus.js';

const POPUP_PAGE = new URL('/test/browser/fixtures/oauth-popup.html', location.href);
/** Same files, another origin: what an attacker's page posting into our window looks like. */
const FOREIGN_ORIGIN = `${location.protocol}//${location.hostname === 'localhost' ? '127.0.0.1' : 'localhost'}:${location.port}`;

function popupUrl(params: Record<string, string>, origin = location.origin): string {
  const url = new URL(POPUP_PAGE.pathname, origin);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.href;
}

function authorizeWith(url: (state: string) => string, calls: AuthorizeBody[] = []) {
  let n = 0;
  return async (body: AuthorizeBody): Promise<AuthorizeResponse> => {
    calls.push(body);
    const state = `state-${++n}-${Math.random().toString(36).slice(2)}`;
    return { authorizationUrl: url(state), state, expiresAt: new Date(Date.now() + 600_000).toISOString(), callbackOrigin: location.origin };
  };
}

/** Resolves when the fixture popup page has run (it posts `fixture:done` after its message). */
function popupRan(): Promise<void> {
  return new Promise((resolve) => {
    const on = (e: MessageEvent) => {
      if ((e.data as { type?: string } | null)?.type === 'fixture:done') {
        window.removeEventListener('message', on);
        resolve();
      }
    };
    window.addEventListener('message', on);
  });
}

function shadow(el: PlugConnectButton) {
  const root = el.shadowRoot!;
  return {
    connect: root.querySelector<HTMLButtonElement>('[part~="connect-button"]')!,
    disconnect: root.querySelector<HTMLButtonElement>('[part~="disconnect-button"]'),
    cancel: root.querySelector<HTMLButtonElement>('[part~="cancel-button"]'),
    status: root.querySelector('[part="status"]')!.textContent!.replace(/\s+/g, ' ').trim(),
    alert: root.querySelector('[role="alert"]')!.textContent!.trim(),
    live: root.querySelector('[role="status"]')!.textContent!.trim(),
  };
}

function instanceWith(status: 'connected' | 'missing'): Instance {
  const at = new Date().toISOString();
  return {
    id: 'ins_1',
    integrationKey: 'chat',
    status: 'draft',
    config: {},
    secretsSet: [],
    version: 1,
    connections: [{ name: 'chat', kind: 'oauth2', status, error: null, expiresAt: null, updatedAt: at }],
    blockers: [],
    createdAt: at,
    updatedAt: at,
  };
}

describe('<plug-connect-button>', () => {
  const realOpen = window.open;
  afterEach(() => {
    window.open = realOpen;
  });

  it('opens the popup on the click, follows the callback message, and reports connected', async () => {
    const calls: AuthorizeBody[] = [];
    const el = await fixture<PlugConnectButton>(html`<plug-connect-button instance-id="ins_1" connection="chat" label="Chat workspace"></plug-connect-button>`);
    el.authorize = authorizeWith((state) => popupUrl({ state }), calls);
    expect(shadow(el).status).to.equal('Chat workspace Not connected');
    expect(shadow(el).connect.textContent!.trim()).to.equal('Connect');

    const connected = oneEvent(el, 'plug-connect');
    shadow(el).connect.click();
    await el.updateComplete;
    expect(el.phase).to.equal('connecting');
    expect(shadow(el).live).to.equal('Waiting for the sign-in window…');
    const event = (await connected) as CustomEvent<ConnectEventDetail>;
    expect(event.detail).to.deep.equal({ instanceId: 'ins_1', connection: 'chat', status: 'connected' });
    expect(event.bubbles && event.composed).to.equal(true);
    expect(calls).to.deep.equal([{ mode: 'popup' }]);
    await el.updateComplete;
    expect(el.status).to.equal('connected');
    expect(el.getAttribute('status')).to.equal('connected');
    expect(shadow(el).connect.textContent!.trim()).to.equal('Reconnect');
    expect(shadow(el).live).to.equal('Connected.');
  });

  it('ignores a message from a foreign origin, even with the right state', async () => {
    const el = await fixture<PlugConnectButton>(html`<plug-connect-button instance-id="ins_1" connection="chat"></plug-connect-button>`);
    // The foreign page posts the right state to any origin ("*"), and stays open.
    el.authorize = authorizeWith((state) => popupUrl({ state, target: '*', close: '0' }, FOREIGN_ORIGIN));
    let connects = 0;
    el.addEventListener('plug-connect', () => connects++);
    const ran = popupRan();
    shadow(el).connect.click();
    await ran;
    await new Promise((r) => setTimeout(r, 100));
    expect(connects).to.equal(0);
    expect(el.phase).to.equal('connecting');
    expect(el.status).to.equal('missing');
    await el.updateComplete;
    shadow(el).cancel!.click(); // closes the popup
    await el.updateComplete;
    expect(el.phase).to.equal('idle');
  });

  it('ignores a message with another state', async () => {
    const el = await fixture<PlugConnectButton>(html`<plug-connect-button instance-id="ins_1" connection="chat"></plug-connect-button>`);
    el.authorize = authorizeWith(() => popupUrl({ state: 'someone-elses-state', close: '0' }));
    let connects = 0;
    el.addEventListener('plug-connect', () => connects++);
    const ran = popupRan();
    shadow(el).connect.click();
    await ran;
    await new Promise((r) => setTimeout(r, 100));
    expect(connects).to.equal(0);
    expect(el.phase).to.equal('connecting');
    await el.updateComplete;
    shadow(el).cancel!.click();
  });

  it('returns to idle with a message when the popup is closed without an answer', async () => {
    const el = await fixture<PlugConnectButton>(html`<plug-connect-button instance-id="ins_1" connection="chat"></plug-connect-button>`);
    el.authorize = authorizeWith((state) => popupUrl({ state, post: '0' }));
    const failed = oneEvent(el, 'plug-connect-error');
    shadow(el).connect.click();
    const event = (await failed) as CustomEvent<ConnectErrorDetail>;
    expect(event.detail.reason).to.equal('popup_closed');
    await el.updateComplete;
    expect(el.phase).to.equal('idle');
    expect(shadow(el).alert).to.equal('The sign-in window was closed before finishing.');
    expect(shadow(el).connect.disabled).to.equal(false);
  });

  it('shows the provider’s refusal and fires plug-connect-error', async () => {
    const el = await fixture<PlugConnectButton>(html`<plug-connect-button instance-id="ins_1" connection="chat"></plug-connect-button>`);
    el.authorize = authorizeWith((state) => popupUrl({ state, ok: '0', error: 'Access was denied at the provider.' }));
    const failed = oneEvent(el, 'plug-connect-error');
    shadow(el).connect.click();
    const event = (await failed) as CustomEvent<ConnectErrorDetail>;
    expect(event.detail).to.deep.equal({ instanceId: 'ins_1', connection: 'chat', reason: 'denied', message: 'Access was denied at the provider.' });
    await el.updateComplete;
    expect(shadow(el).alert).to.equal('Access was denied at the provider.');
    expect(el.status).to.equal('missing');
  });

  it('shows "Connecting to <provider>…" in the popup at once, before the server answers', async () => {
    let popup: Window | null = null;
    window.open = (...args: Parameters<typeof window.open>) => (popup = realOpen.apply(window, args));
    const el = await fixture<PlugConnectButton>(html`<plug-connect-button instance-id="ins_1" connection="chat" label="Chatwave"></plug-connect-button>`);
    let answer!: (response: AuthorizeResponse) => void;
    el.authorize = () => new Promise<AuthorizeResponse>((resolve) => (answer = resolve));
    shadow(el).connect.click();
    try {
      expect(popup, 'a popup opened').to.not.equal(null);
      // The authorization request is still out: the popup is ours (about:blank) and already says what it waits for.
      expect(answer).to.be.a('function');
      expect(popup!.document.title).to.equal('Connecting to Chatwave…');
      expect(popup!.document.body.textContent).to.contain('Connecting to Chatwave…');
    } finally {
      await el.updateComplete;
      shadow(el).cancel!.click(); // closes the popup
    }
    expect(popup!.closed).to.equal(true);
  });

  it('blocked popup, fallback "message": asks to allow pop-ups', async () => {
    window.open = () => null;
    const calls: AuthorizeBody[] = [];
    const el = await fixture<PlugConnectButton>(html`<plug-connect-button instance-id="ins_1" connection="chat" fallback="message"></plug-connect-button>`);
    el.authorize = authorizeWith(() => 'about:blank', calls);
    const failed = oneEvent(el, 'plug-connect-error');
    shadow(el).connect.click();
    expect(((await failed) as CustomEvent<ConnectErrorDetail>).detail.reason).to.equal('popup_blocked');
    await el.updateComplete;
    expect(shadow(el).alert).to.match(/Allow pop-ups/);
    expect(calls).to.deep.equal([]);
  });

  it('blocked popup, fallback "redirect": sends the page through the sign-in in redirect mode', async () => {
    window.open = () => null;
    const calls: AuthorizeBody[] = [];
    const el = await fixture<PlugConnectButton>(html`<plug-connect-button instance-id="ins_1" connection="chat"></plug-connect-button>`);
    const here = location.href.split('#')[0]!;
    // A same-document URL, so the test page stays while we see where it was sent.
    el.authorize = authorizeWith(() => `${here}#sent-to-provider`, calls);
    shadow(el).connect.click();
    await waitUntil(() => location.hash === '#sent-to-provider', 'the page was sent to the authorization URL');
    expect(calls).to.deep.equal([{ mode: 'redirect', returnUrl: here }]);
    history.replaceState(null, '', here);
  });

  it('back from a redirect-mode sign-in, reports the outcome once', async () => {
    const here = location.href.split('?')[0]!.split('#')[0]!;
    const original = location.href;
    history.replaceState(null, '', `${here}?plugboard_oauth=ok&state=s-redirect&plugboard_instance=ins_r&plugboard_connection=chat`);
    try {
      const el = document.createElement('plug-connect-button');
      el.instanceId = 'ins_r';
      el.connection = 'chat';
      const event = oneEvent(el, 'plug-connect');
      document.body.append(el);
      expect(((await event) as CustomEvent<ConnectEventDetail>).detail.status).to.equal('connected');
      await el.updateComplete;
      expect(shadow(el).live).to.equal('Connected.');
      // A second button for the same connection (a re-rendered dialog) does not report it again.
      let again = 0;
      const twin = document.createElement('plug-connect-button');
      twin.instanceId = 'ins_r';
      twin.connection = 'chat';
      twin.addEventListener('plug-connect', () => again++);
      document.body.append(twin);
      await twin.updateComplete;
      await new Promise((r) => setTimeout(r, 50));
      expect(again).to.equal(0);
      el.remove();
      twin.remove();
    } finally {
      history.replaceState(null, '', original);
    }
  });

  it('through the API: authorize over HTTP, reads the instance after, and disconnects', async () => {
    const api = new FakeApi();
    try {
      api.on('POST', /^\/instances\/ins_1\/connections\/chat\/authorize$/, () =>
        json({
          authorizationUrl: popupUrl({ state: 'api-state' }),
          state: 'api-state',
          expiresAt: new Date(Date.now() + 600_000).toISOString(),
          callbackOrigin: location.origin,
        }),
      );
      let connected = false;
      api.on('GET', /^\/instances\/ins_1$/, () => json(instanceWith(connected ? 'connected' : 'missing')));
      api.on('DELETE', /^\/instances\/ins_1\/connections\/chat$/, () => json(instanceWith('missing')));
      const el = await fixture<PlugConnectButton>(
        html`<plug-connect-button api=${API} token=${fakeJwt({ exp: Math.floor(Date.now() / 1000) + 600 })} instance-id="ins_1" connection="chat"></plug-connect-button>`,
      );
      const event = oneEvent(el, 'plug-connect');
      connected = true;
      shadow(el).connect.click();
      const detail = ((await event) as CustomEvent<ConnectEventDetail>).detail;
      expect(detail.status).to.equal('connected');
      expect(detail.instance?.connections[0]?.status).to.equal('connected');
      const post = api.calls.find((c) => c.method === 'POST')!;
      expect(post.body).to.deep.equal({ mode: 'popup' });

      await el.updateComplete;
      const gone = oneEvent(el, 'plug-connect');
      shadow(el).disconnect!.click();
      expect(((await gone) as CustomEvent<ConnectEventDetail>).detail.status).to.equal('missing');
      await el.updateComplete;
      expect(el.status).to.equal('missing');
      expect(shadow(el).disconnect).to.equal(null);
      expect(shadow(el).live).to.equal('Disconnected.');
    } finally {
      api.restore();
    }
  });

  it('shows expired and needs-attention states with the reason, offering Reconnect', async () => {
    const el = await fixture<PlugConnectButton>(
      html`<plug-connect-button instance-id="ins_1" connection="chat" status="needs_attention" reason="The provider refused the stored authorization (invalid_grant). Reconnect to continue."></plug-connect-button>`,
    );
    expect(shadow(el).status).to.equal('Needs attention');
    expect(el.shadowRoot!.textContent).to.contain('invalid_grant');
    expect(shadow(el).connect.textContent!.trim()).to.equal('Reconnect');
    el.status = 'expired';
    await el.updateComplete;
    expect(shadow(el).status).to.equal('Expired');
  });

  it('works from the keyboard: Tab to Connect, Enter opens the popup, focus follows the usable button', async () => {
    const el = await fixture<PlugConnectButton>(html`<plug-connect-button instance-id="ins_1" connection="chat" label="Chat"></plug-connect-button>`);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const authorize = authorizeWith((state) => popupUrl({ state }));
    el.authorize = async (body) => {
      await held; // keep it waiting so we can see where focus is
      return authorize(body);
    };
    const before = document.createElement('button');
    before.textContent = 'before';
    el.before(before);
    before.focus();
    await sendKeys({ press: 'Tab' });
    expect(deepActiveElement()).to.equal(shadow(el).connect);
    const connected = oneEvent(el, 'plug-connect');
    await sendKeys({ press: 'Enter' });
    await el.updateComplete;
    expect(deepActiveElement()).to.equal(shadow(el).cancel, 'Connect is disabled while waiting; Cancel has focus');
    release();
    await connected;
    await el.updateComplete;
    expect(deepActiveElement()).to.equal(shadow(el).connect, 'back on the (now Reconnect) button');
    before.remove();
  });

  it('passes axe when missing, connected and needing attention', async () => {
    const el = await fixture<PlugConnectButton>(html`<plug-connect-button instance-id="ins_1" connection="chat" label="Chat workspace"></plug-connect-button>`);
    await expect(el).to.be.accessible();
    el.status = 'connected';
    await el.updateComplete;
    await expect(el).to.be.accessible();
    el.status = 'needs_attention';
    el.reason = 'Reconnect to continue.';
    await el.updateComplete;
    await expect(el).to.be.accessible();
  });
});
