import { Task, TaskStatus, initialState } from '@lit/task';
import { html, nothing, type PropertyDeclarations, type PropertyValues } from 'lit';
import { PlugApiElement } from '../base/api-element.js';
import { connectionEn } from '../connect-button/connection-strings.js';
import { addEnglish } from '../i18n.js';
import { renderIcon } from '../integration-card/icon.js';
import { badgeStyles } from '../instance-status/status-badge.js';
import { buttonStyles } from '../marketplace/marketplace.styles.js';
import { tokens } from '../themes/tokens.js';
import { instanceActivityStyles } from './instance-activity.styles.js';
import { instanceHistoryStyles } from './instance-history.styles.js';
import { dialogStyles } from './integration-dialog.styles.js';
import { closingSave, type LoadedIntegration, type PlugIntegrationSetup } from './integration-setup.js';
import { setupStyles } from './integration-setup.styles.js';
import { dialogEn } from './dialog-strings.js';
import { toastStyles } from './setup-toast.styles.js';

// The connections step shows connection statuses too.
addEnglish({ ...dialogEn, ...connectionEn });

const FOCUSABLE =
  'button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"]), plug-config-form:not([disabled])';

/** Focusable elements in tab order, looking into the open shadow roots of nested elements (the runs list). */
function deepFocusables(root: ParentNode): HTMLElement[] {
  const out: HTMLElement[] = [];
  for (const el of root.querySelectorAll<HTMLElement>('*')) {
    if (el.matches(FOCUSABLE)) out.push(el);
    if (el.shadowRoot) out.push(...deepFocusables(el.shadowRoot));
  }
  return out;
}

/**
 * @customElement plug-integration-dialog
 * @summary One integration: what it does and needs, then the setup wizard (connections, one
 * step per config page), and the instance's actions: save, activate, pause/resume, delete.
 * Nothing typed is lost: "Next" saves the page as a draft, so does closing on a page edited since,
 * and the wizard reopens where the customer stopped (the step left in this tab, else the first
 * with something missing).
 * A modal dialog (focus trapped, Escape closes) or, with `mode="inline"`, a panel in the page (Escape with focus inside closes it too).
 *
 * @event {CustomEvent<InstanceEventDetail>} plug-instance-created - The customer's first save (credentials, a sign-in, "Next" or "Save") created the instance; "Set up" alone creates nothing.
 * @event {CustomEvent<InstanceEventDetail>} plug-config-saved - The configuration was saved: by "Save", or as a draft as the customer leaves a page ("Next", or closing on a page edited since).
 * @event {CustomEvent<InstanceEventDetail>} plug-instance-activated - The instance was activated (or resumed).
 * @event {CustomEvent<InstanceEventDetail>} plug-instance-paused - The instance was paused.
 * @event {CustomEvent<InstanceDeletedDetail>} plug-instance-deleted - The instance was deleted.
 * @event {CustomEvent<ConnectEventDetail>} plug-connect - A connection's status changed: API-key credentials saved, or a sign-in or Disconnect through a connect button (its event, bubbling out).
 * @event {CustomEvent<ConnectErrorDetail>} plug-connect-error - From a connect button: a sign-in failed (`popup_blocked`, `popup_closed`, `denied`, `server`).
 * @event {CustomEvent<ErrorEventDetail>} plug-error - A request failed.
 * @event {CustomEvent<{integrationKey: string}>} plug-dialog-close - The dialog or panel was closed.
 *
 * @csspart dialog - The native `<dialog>` (modal mode).
 * @csspart panel - The content box (both modes).
 * @csspart button - Every button; also `connect-button` for OAuth connections.
 * @csspart form - Each `<plug-config-form>`; its `field`, `label`, `input`, `help`, `error`, `chip` parts are forwarded.
 * @csspart badge - The status badge.
 * @csspart icon - The integration's icon.
 * @csspart progress - The wizard's stepper (each step's name; the current one has `aria-current="step"`).
 * @csspart toast - The confirmation of a save, an activation, a pause or a delete: a polite live region, shown for a few seconds.
 * @csspart update - "Update available": the newer version, its changelog and, when the customer may, the Update button.
 *
 * @cssproperty --plug-dialog-width - Width of the modal (default 40rem).
 * @cssproperty --plug-dialog-background - Background (default `--plug-color-surface`).
 * @cssproperty --plug-dialog-radius - Corner radius (default `--plug-radius-l`).
 * @cssproperty --plug-toast-background - The toast's background (default `--plug-color-text`).
 * @cssproperty --plug-toast-color - The toast's text (default `--plug-color-surface`).
 * @cssproperty --plug-toast-radius - The toast's corners (default `--plug-radius-m`).
 * @cssproperty --plug-toast-offset - The toast's distance from the bottom of the viewport (default `--plug-space-l`; 5.5rem below 600 px, so it floats above the full-screen sheet's footer).
 */
export class PlugIntegrationDialog extends PlugApiElement {
  // The chrome (dialog, panel, header, focus, open/close) and the load of the integration; the
  // content is the internal <plug-integration-setup>, rendered into this shadow root (see
  // integration-setup.ts), so its styles are listed here.
  static override styles = [tokens, buttonStyles, badgeStyles, dialogStyles, setupStyles, instanceActivityStyles, instanceHistoryStyles, toastStyles];
  // `static properties`, not decorators: see PlugApiElement.
  static override properties: PropertyDeclarations = {
    integrationKey: { attribute: 'integration-key' },
    open: { type: Boolean, reflect: true },
    mode: { reflect: true },
  };

  /** Focus to restore when the dialog closes. */
  #returnFocus: HTMLElement | null = null;
  /**
   * The content, made once and kept while the dialog lives: a close takes it out of the page but
   * keeps a request in flight (and its event), the create key and the signing secrets shown.
   */
  #setup: PlugIntegrationSetup | undefined;

  private get dialogEl(): HTMLDialogElement | null {
    return this.shadowRoot?.querySelector('dialog') ?? null;
  }

  /** Key of the integration to show. */
  declare integrationKey: string | undefined;

  /** Shown while true. The element sets it back to false when the customer closes it. */
  declare open: boolean;

  /** `modal` (default): a dialog over the page; `inline`: a panel in the page's flow. */
  declare mode: 'modal' | 'inline';

  constructor() {
    super();
    this.open = false;
    this.mode = 'modal';
  }

  #detail = new Task(this, {
    task: async ([client, key, open], { signal }): Promise<LoadedIntegration | typeof initialState> => {
      if (!client || !key || !open) return initialState;
      try {
        // Reopened while the last close still saves its page: load what that save stored.
        await closingSave(key);
        const detail = await client.integration(key, signal);
        const instance = detail.instance ? await client.instance(detail.instance.id, signal) : undefined;
        return { detail, instance };
      } catch (error) {
        this.reportError('load-integration', error);
        throw error;
      }
    },
    args: () => [this.apiClient, this.integrationKey, this.open] as const,
  });

  override updated(changed: PropertyValues<this>): void {
    super.updated(changed);
    if (changed.has('open') || changed.has('mode')) this.#syncModal();
    if (changed.has('integrationKey') && changed.get('integrationKey') !== undefined) this.#setup?.reset();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.dialogEl?.open) this.dialogEl.close();
    this.#setup?.forget();
  }

  #syncModal(): void {
    const dialog = this.dialogEl;
    if (this.open) {
      const active = document.activeElement;
      this.#returnFocus = active instanceof HTMLElement ? active : null;
      if (dialog && !dialog.open) dialog.showModal();
      this.#focusStart();
    } else if (dialog?.open) {
      dialog.close();
    }
  }

  #focusStart(): void {
    const target = this.renderRoot.querySelector<HTMLElement>(this.mode === 'modal' ? '.close' : 'h2');
    target?.focus();
  }

  /** Closes the dialog or panel and fires `plug-dialog-close`. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.#setup?.leave();
    this.#setup?.reset();
    this.dialogEl?.close();
    this.#returnFocus?.focus();
    this.emit('plug-dialog-close', { detail: { integrationKey: this.integrationKey ?? '' } });
  }

  /** Escape in the inline panel closes it too, as it does the modal; a picker that used Escape stopped it first. */
  #onInlineKeydown = (event: KeyboardEvent): void => {
    if (event.key !== 'Escape' || event.defaultPrevented) return;
    event.preventDefault();
    this.close();
  };

  #onCancel = (event: Event): void => {
    // Escape on the native dialog: close through our own path (state, event, focus).
    event.preventDefault();
    this.close();
  };

  /** Keeps Tab inside the modal: the sentinels at either end send focus round to the other end. */
  #wrapFocus(toEnd: boolean): void {
    const all = this.dialogEl ? deepFocusables(this.dialogEl).filter((el) => !el.classList.contains('sentinel')) : [];
    (toEnd ? all.at(-1) : all[0])?.focus();
  }

  // ---------------------------------------------------------------- render

  /** The setup, with what it needs from here; an element node, so Lit moves it rather than making a new one. */
  #renderSetup(): PlugIntegrationSetup {
    const setup = (this.#setup ??= document.createElement('plug-integration-setup'));
    setup.chrome ??= { element: this, focusTop: () => this.#focusStart(), busyChanged: () => this.requestUpdate() };
    setup.client = this.apiClient;
    setup.translations = this.translations;
    setup.theme = this.theme;
    setup.language = this.locale;
    setup.integrationKey = this.integrationKey;
    setup.loaded = this.#detail.status === TaskStatus.COMPLETE ? this.#detail.value : undefined;
    return setup;
  }

  #renderPanel() {
    const detail = this.#detail.value?.detail;
    const name = detail?.name ?? this.integrationKey ?? '';
    const setup = this.#renderSetup();
    return html`<div part="panel" class="panel" aria-busy=${setup.busy ? 'true' : 'false'}>
      <header>
        ${detail ? renderIcon(detail.icon, detail.name) : nothing}
        <h2 id="title" tabindex="-1">${name}</h2>
        <button part="button" class="button close" type="button" @click=${() => this.close()}>${this.t('dialog.close')}</button>
      </header>
      ${this.#detail.render({
        initial: () => html`<p class="muted">${this.t('dialog.loading')}</p>`,
        pending: () => html`<p class="muted" aria-busy="true">${this.t('dialog.loading')}</p>`,
        error: (error) => html`<div class="alert" role="alert">
            ${this.t('dialog.loadError')} ${this.describeError(error)}
          </div>
          <div class="actions">
            <button part="button" class="button" type="button" @click=${() => void this.#detail.run()}>${this.t('dialog.retry')}</button>
          </div>`,
      })}
      ${setup}
    </div>`;
  }

  override render() {
    if (!this.open) return nothing;
    if (this.mode === 'inline') {
      return html`<section part="dialog" aria-labelledby="title" @keydown=${this.#onInlineKeydown}>${this.#renderPanel()}</section>`;
    }
    return html`<dialog part="dialog" aria-labelledby="title" @cancel=${this.#onCancel}>
      <span class="sentinel" tabindex="0" @focus=${() => this.#wrapFocus(true)}></span>
      ${this.#renderPanel()}
      <span class="sentinel" tabindex="0" @focus=${() => this.#wrapFocus(false)}></span>
    </dialog>`;
  }
}
