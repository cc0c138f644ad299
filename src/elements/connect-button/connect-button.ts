import { html, nothing, type PropertyDeclarations } from 'lit';
import type { AuthorizeBody, AuthorizeResponse, ConnectErrorDetail, ConnectEventDetail, ConnectionStatus, Instance } from '../../protocol/index.js';
import { oauthCallbackMessageOf } from '../../protocol/shapes.js';
import { PlugApiElement } from '../base/api-element.js';
import { addEnglish, connectionStatusText } from '../i18n.js';
import { buttonStyles } from '../marketplace/marketplace.styles.js';
import { tokens } from '../themes/tokens.js';
import { connectButtonStyles } from './connect-button.styles.js';
import { connectionEn } from './connection-strings.js';

addEnglish(connectionEn);

/** How often a waiting button checks whether the sign-in window was closed. */
const POPUP_POLL_MS = 400;

type Phase = 'idle' | 'connecting' | 'disconnecting';

/** Redirect-mode returns already reported on this page (a dialog re-rendering must not report twice). */
const reportedReturns = new Set<string>();

/**
 * Fills the blank popup at once with "Connecting to <provider>…" (it is same-origin until it
 * navigates), so the customer doesn't stare at an empty window while the flow is asked for.
 * Built with the DOM and CSSOM, which a strict CSP on the host page allows.
 */
function showWaitingPage(popup: Window, title: string, text: string): void {
  try {
    const doc = popup.document;
    doc.title = title;
    const main = doc.createElement('main');
    const heading = doc.createElement('h1');
    heading.textContent = title;
    heading.style.fontSize = '1.25rem';
    const note = doc.createElement('p');
    note.textContent = text;
    note.style.color = '#475569';
    main.append(heading, note);
    Object.assign(main.style, { maxWidth: '30rem', margin: '3rem auto', padding: '0 1rem', lineHeight: '1.5' });
    Object.assign(doc.body.style, { margin: '0', font: '16px system-ui, sans-serif', color: '#0f172a', background: '#fff' });
    doc.body.replaceChildren(main);
  } catch {
    // A popup that is no longer ours to write (another origin): it shows its own page.
  }
}

/**
 * @customElement plug-connect-button
 * @summary Connects one OAuth connection of an instance: opens the provider's sign-in in a
 * popup (synchronously on the click, so mobile Safari allows it), waits for the callback page's
 * message (only from the callback's origin, only with the expected state), and shows the
 * connection's status with Reconnect and Disconnect. Works alone (`api` + `token`/`getToken`,
 * or an `authorize` callback) or inside `<plug-integration-dialog>`.
 *
 * @event {CustomEvent<ConnectEventDetail>} plug-connect - The connection's status changed through this button (connected, or `missing` after Disconnect).
 * @event {CustomEvent<ConnectErrorDetail>} plug-connect-error - Connecting failed: `popup_blocked`, `popup_closed`, `denied`, `server`.
 *
 * @csspart status - The status line.
 * @csspart button - Every button; also `connect-button`, `disconnect-button`, `cancel-button`.
 * @csspart message - Progress and error messages.
 *
 * @cssproperty --plug-connect-gap - Space between the status and the buttons.
 */
export class PlugConnectButton extends PlugApiElement {
  static override styles = [tokens, buttonStyles, connectButtonStyles];
  // `static properties`, not decorators: see PlugApiElement.
  static override properties: PropertyDeclarations = {
    phase: { state: true },
    message: { state: true },
    instanceId: { attribute: 'instance-id' },
    connection: {},
    label: {},
    status: { reflect: true },
    reason: {},
    account: {},
    authorize: { attribute: false },
    callbackOrigin: { attribute: 'callback-origin' },
    popupWidth: { type: Number, attribute: 'popup-width' },
    popupHeight: { type: Number, attribute: 'popup-height' },
    fallback: {},
    returnUrl: { attribute: 'return-url' },
    disabled: { type: Boolean, reflect: true },
    compact: { type: Boolean, reflect: true },
  };

  #popup: Window | null = null;
  #popupName = '_blank';
  #pollTimer: ReturnType<typeof setInterval> | undefined;
  #expected: { state: string; origin: string } | undefined;
  #startedAt = 0;
  /** Focus was inside when the phase changed: move it to the button that is usable now. */
  #refocus = false;

  declare phase: Phase;
  declare message: { text: string; error: boolean } | undefined;

  /** The instance whose connection this button connects. */
  declare instanceId: string | undefined;

  /** The connection's name in the integration (e.g. `slack`). */
  declare connection: string | undefined;

  /** The connection's label, shown beside the status and used in the buttons' accessible names. */
  declare label: string | undefined;

  /** Current status; the button updates it after connecting or disconnecting. */
  declare status: ConnectionStatus;

  /** Why the connection needs attention (from the instance's `connections[].error`). */
  declare reason: string | null | undefined;

  /** Who is connected (the instance's `connections[].accountName`): shown as "Connected as …". The button updates it after connecting. */
  declare account: string | null | undefined;

  /**
   * Starts the flow instead of `POST …/authorize` through the API client, e.g. through the
   * vendor's own backend. Receives the request body (`mode`, `returnUrl`).
   */
  declare authorize: ((request: AuthorizeBody) => Promise<AuthorizeResponse>) | undefined;

  /** Origin the callback page is served from, when neither the authorize answer nor `api` tells. */
  declare callbackOrigin: string | undefined;

  /** Popup size in CSS pixels (clamped to the screen). */
  declare popupWidth: number;
  declare popupHeight: number;

  /** When the popup is blocked: `redirect` sends the whole page through the sign-in and back; `message` asks to allow pop-ups. */
  declare fallback: 'redirect' | 'message';

  /** Where redirect mode comes back to (default: this page). Must be on an allowed origin. */
  declare returnUrl: string | undefined;

  declare disabled: boolean;

  /** Hides the status line (for hosts that show the label and status themselves, like the dialog). */
  declare compact: boolean;

  constructor() {
    super();
    this.phase = 'idle';
    this.status = 'missing';
    this.popupWidth = 600;
    this.popupHeight = 720;
    this.fallback = 'redirect';
    this.disabled = false;
    this.compact = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('message', this.#onMessage);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('message', this.#onMessage);
    this.#stopWaiting();
  }

  /** Back from a redirect-mode sign-in (`?plugboard_oauth=ok|error&plugboard_instance=…`): report it once. */
  override firstUpdated(): void {
    const params = new URLSearchParams(location.search);
    const outcome = params.get('plugboard_oauth');
    const state = params.get('state') ?? '';
    if (!outcome || params.get('plugboard_instance') !== this.instanceId || params.get('plugboard_connection') !== this.connection) return;
    if (reportedReturns.has(state)) return;
    reportedReturns.add(state);
    if (outcome === 'ok') void this.#connected();
    else this.#fail('denied', this.t('connection.failed'));
  }

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    super.willUpdate(changed);
    if (changed.has('phase')) this.#refocus = this.shadowRoot?.activeElement != null;
  }

  override updated(changed: Map<PropertyKey, unknown>): void {
    super.updated(changed);
    if (!changed.has('phase') || !this.#refocus || this.phase === 'disconnecting') return;
    this.#refocus = false;
    // Connect is disabled while waiting: keyboard users land on Cancel, and back on Connect after.
    const part = this.phase === 'connecting' ? 'cancel-button' : 'connect-button';
    this.shadowRoot?.querySelector<HTMLButtonElement>(`[part~="${part}"]`)?.focus();
  }

  #popupFeatures(): string {
    const width = Math.min(this.popupWidth, screen.availWidth || this.popupWidth);
    const height = Math.min(this.popupHeight, screen.availHeight || this.popupHeight);
    const left = Math.max(0, Math.round(window.screenX + (window.outerWidth - width) / 2));
    const top = Math.max(0, Math.round(window.screenY + (window.outerHeight - height) / 2));
    return `popup=yes,width=${width},height=${height},left=${left},top=${top},resizable=yes,scrollbars=yes`;
  }

  async #requestAuthorization(body: AuthorizeBody): Promise<AuthorizeResponse> {
    if (this.authorize) return this.authorize(body);
    const client = this.apiClient;
    if (!client || !this.instanceId || !this.connection)
      throw new Error('connect-button: set api (or client) with instance-id and connection, or an authorize callback');
    return client.authorize(this.instanceId, this.connection, body);
  }

  /** The origin whose message we accept: explicit, else what the server said, else the API's. */
  #messageOrigin(response: AuthorizeResponse): string | undefined {
    const candidate = this.callbackOrigin ?? response.callbackOrigin ?? this.api;
    if (!candidate) return undefined;
    try {
      return new URL(candidate, location.href).origin;
    } catch {
      return undefined;
    }
  }

  #onConnectClick = (): void => {
    if (this.phase !== 'idle' || this.disabled) return;
    // Open synchronously inside the click: a popup opened after an await is blocked (mobile Safari).
    const name = `plugboard-oauth-${Math.random().toString(36).slice(2)}`;
    const popup = window.open('about:blank', name, this.#popupFeatures());
    if (!popup) {
      void this.#popupBlocked();
      return;
    }
    this.#popup = popup;
    this.#popupName = name;
    showWaitingPage(popup, this.t('connection.popupTitle', { provider: this.label ?? this.connection ?? '' }), this.t('connection.popupWait'));
    this.#startedAt = Date.now();
    this.phase = 'connecting';
    this.message = { text: this.t('connection.connecting'), error: false };
    void this.#startInPopup(popup);
  };

  async #startInPopup(popup: Window): Promise<void> {
    let response: AuthorizeResponse;
    try {
      response = await this.#requestAuthorization({ mode: 'popup' });
    } catch (error) {
      popup.close();
      this.#fail('server', this.describeError(error));
      return;
    }
    const origin = this.#messageOrigin(response);
    if (!origin) {
      popup.close();
      this.#fail('server', this.t('error.generic'));
      return;
    }
    if (popup.closed || this.phase !== 'connecting') return this.#onPopupClosed();
    this.#expected = { state: response.state, origin };
    this.#navigate(response.authorizationUrl, this.#popupName);
    this.#pollTimer = setInterval(() => {
      if (this.#popup?.closed) void this.#onPopupClosed();
    }, POPUP_POLL_MS);
  }

  /**
   * Sends the popup (by name) or this page to Plugboard's start page through a link with its own
   * referrer policy: the start page accepts only a Referer from the origin that asked for the flow,
   * and a host page's `Referrer-Policy: no-referrer` would otherwise drop it.
   */
  #navigate(url: string, target: string): void {
    const link = document.createElement('a');
    link.href = url;
    link.target = target;
    link.referrerPolicy = 'origin';
    link.hidden = true;
    // The click is ours: the host page's click listeners don't need to see it.
    link.addEventListener('click', (event) => event.stopPropagation());
    this.renderRoot.append(link);
    link.click();
    link.remove();
  }

  async #popupBlocked(): Promise<void> {
    if (this.fallback === 'message') {
      this.#fail('popup_blocked', this.t('connection.popupBlocked'));
      return;
    }
    this.phase = 'connecting';
    this.message = { text: this.t('connection.redirecting'), error: false };
    try {
      const response = await this.#requestAuthorization({ mode: 'redirect', returnUrl: this.returnUrl ?? location.href });
      this.#navigate(response.authorizationUrl, '_self');
    } catch (error) {
      this.#fail('server', this.describeError(error));
    }
  }

  #onMessage = (event: MessageEvent): void => {
    const expected = this.#expected;
    if (!expected || this.phase !== 'connecting') return;
    // Only the callback page's origin, only our popup, only our state: anything else is ignored.
    if (event.origin !== expected.origin) return;
    if (this.#popup && event.source !== this.#popup) return;
    const message = oauthCallbackMessageOf(event.data);
    if (!message || message.state !== expected.state) return;
    this.#stopWaiting();
    if (message.ok) void this.#connected();
    else this.#fail('denied', message.error ?? this.t('connection.failed'));
  };

  async #connected(): Promise<void> {
    this.status = 'connected';
    this.reason = null;
    this.phase = 'idle';
    this.message = { text: this.t('connection.connectedNow'), error: false };
    const instance = await this.#readInstance();
    this.#showAccount(instance);
    this.#emitChange(instance);
  }

  /** Takes the account the server named for this connection, and says who is connected. */
  #showAccount(instance: Instance | undefined): void {
    if (!instance) return;
    this.account = instance.connections.find((c) => c.name === this.connection)?.accountName ?? null;
    if (this.account) this.message = { text: this.t('connection.connectedNowAs', { account: this.account }), error: false };
  }

  /** Closed without an answer. The server may still have finished (a page with a strict opener policy cuts the message off): ask it. */
  async #onPopupClosed(): Promise<void> {
    if (this.phase !== 'connecting') return;
    this.#stopWaiting();
    const instance = await this.#readInstance();
    const now = instance?.connections.find((c) => c.name === this.connection);
    // Connected since the click (with two minutes of leeway for a server clock ahead or behind).
    if (now?.status === 'connected' && Date.parse(now.updatedAt ?? '') >= this.#startedAt - 120_000) {
      this.status = 'connected';
      this.phase = 'idle';
      this.message = { text: this.t('connection.connectedNow'), error: false };
      this.#showAccount(instance);
      this.#emitChange(instance);
      return;
    }
    this.#fail('popup_closed', this.t('connection.popupClosed'));
  }

  async #readInstance(): Promise<Instance | undefined> {
    const client = this.apiClient;
    if (!client || !this.instanceId) return undefined;
    try {
      return await client.instance(this.instanceId);
    } catch {
      return undefined;
    }
  }

  #emitChange(instance: Instance | undefined): void {
    if (!this.instanceId || !this.connection) return;
    const detail: ConnectEventDetail = { instanceId: this.instanceId, connection: this.connection, status: this.status, ...(instance ? { instance } : {}) };
    this.emit('plug-connect', { detail });
  }

  #fail(reason: string, text: string): void {
    this.#stopWaiting();
    this.#popup?.close();
    this.#popup = null;
    this.phase = 'idle';
    this.message = { text, error: true };
    const detail: ConnectErrorDetail = { instanceId: this.instanceId ?? '', connection: this.connection ?? '', reason, message: text };
    this.emit('plug-connect-error', { detail });
  }

  #stopWaiting(): void {
    if (this.#pollTimer !== undefined) clearInterval(this.#pollTimer);
    this.#pollTimer = undefined;
    this.#expected = undefined;
  }

  #onCancel = (): void => {
    if (this.phase !== 'connecting') return;
    this.#stopWaiting();
    this.#popup?.close();
    this.#popup = null;
    this.phase = 'idle';
    this.message = undefined;
  };

  #onDisconnect = async (): Promise<void> => {
    const client = this.apiClient;
    if (!client || !this.instanceId || !this.connection || this.phase !== 'idle') return;
    this.phase = 'disconnecting';
    try {
      const instance = await client.deleteConnection(this.instanceId, this.connection);
      this.status = instance.connections.find((c) => c.name === this.connection)?.status ?? 'missing';
      this.reason = null;
      this.account = null;
      this.phase = 'idle';
      this.message = { text: this.t('connection.disconnected'), error: false };
      this.#emitChange(instance);
    } catch (error) {
      this.phase = 'idle';
      this.message = { text: this.describeError(error), error: true };
      this.reportError('disconnect', error);
    }
  };

  /** Starts connecting, as a click on Connect does (call it from a user gesture, or the popup is blocked). */
  connect(): void {
    this.#onConnectClick();
  }

  override render() {
    const connecting = this.phase === 'connecting';
    const busy = this.phase !== 'idle';
    const name = this.label ?? this.connection ?? '';
    const canDisconnect = this.status !== 'missing' && Boolean(this.apiClient && this.instanceId && this.connection);
    return html`
      <div class="row">
        ${
          this.compact
            ? nothing
            : html`<span part="status" class="status" data-status=${this.status}>
              ${this.label ? html`<span class="label">${this.label}</span>` : nothing}
              <span class="badge">${connectionStatusText((key, vars) => this.t(key, vars), this.status, this.account)}</span>
            </span>`
        }
        <span class="actions">
          <button
            part="button connect-button"
            class="button primary"
            type="button"
            ?disabled=${this.disabled || busy}
            aria-label=${name ? `${this.t(this.status === 'missing' ? 'connection.connect' : 'connection.reconnect')} ${name}` : nothing}
            @click=${this.#onConnectClick}
          >
            ${this.t(this.status === 'missing' ? 'connection.connect' : 'connection.reconnect')}
          </button>
          ${
            connecting
              ? html`<button part="button cancel-button" class="button" type="button" @click=${this.#onCancel}>${this.t('connection.cancel')}</button>`
              : nothing
          }
          ${
            canDisconnect && !connecting
              ? html`<button
                part="button disconnect-button"
                class="button danger"
                type="button"
                ?disabled=${this.disabled || busy}
                aria-label=${name ? `${this.t('connection.disconnect')} ${name}` : nothing}
                @click=${this.#onDisconnect}
              >
                ${this.t('connection.disconnect')}
              </button>`
              : nothing
          }
        </span>
      </div>
      ${this.status === 'needs_attention' && this.reason ? html`<p part="message" class="reason">${this.reason}</p>` : nothing}
      <p part="message" class="message" role="status">${this.message && !this.message.error ? this.message.text : ''}</p>
      <p part="message" class="message error" role="alert">${this.message?.error ? this.message.text : ''}</p>
    `;
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'plug-connect': CustomEvent<ConnectEventDetail>;
    'plug-connect-error': CustomEvent<ConnectErrorDetail>;
  }
}
