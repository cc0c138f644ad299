import { Task, initialState } from '@lit/task';
import { html, nothing, type PropertyValues } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import { ApiError, type PlugClient } from '../../client/index.js';
import {
  ProblemType,
  type ConfigPage,
  type ConnectionSpec,
  type FieldError,
  type Instance,
  type IntegrationDetail,
} from '../../protocol/index.js';
import { PlugApiElement } from '../base/api-element.js';
import type { PlugConfigForm } from '../config-form/config-form.js';
import { renderIcon } from '../integration-card/icon.js';
import { badgeLabelKey, badgeStyles, renderStatusBadge } from '../instance-status/status-badge.js';
import { buttonStyles } from '../marketplace/marketplace.styles.js';
import { tokens } from '../themes/tokens.js';
import { dialogStyles } from './integration-dialog.styles.js';
import { renderOAuthConnection } from './oauth-connection.js';
import { InstanceActivity, instanceActivityStyles } from './instance-activity.js';

type Step = { kind: 'connections'; title: string } | { kind: 'page'; title: string; page: ConfigPage; index: number };
type View = 'overview' | 'wizard' | 'confirm-delete';

const NO_VALUES: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;
const FORM_PARTS = 'field,label,input,help,error,chip';

const FOCUSABLE = 'button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"]), plug-config-form:not([disabled])';

/** Focusable elements in tab order, looking into the open shadow roots of nested elements (the runs list). */
function deepFocusables(root: ParentNode): HTMLElement[] {
  const out: HTMLElement[] = [];
  for (const el of root.querySelectorAll<HTMLElement>('*')) {
    if (el.matches(FOCUSABLE)) out.push(el);
    if (el.shadowRoot) out.push(...deepFocusables(el.shadowRoot));
  }
  return out;
}

/** Field names of a config page, from its JSON Schema. */
function fieldsOf(schema: Record<string, unknown> | undefined): string[] {
  const props = schema?.properties;
  return props && typeof props === 'object' ? Object.keys(props) : [];
}

/** `config.channel` → `channel`; `values.token` → `token` (the form speaks in its own field names). */
function relative(errors: FieldError[], prefix: string): FieldError[] {
  return errors.map((e) => ({ ...e, path: e.path.startsWith(`${prefix}.`) ? e.path.slice(prefix.length + 1) : e.path }));
}

/**
 * @customElement plug-integration-dialog
 * @summary One integration: what it does and needs, then the setup wizard (connections, one
 * step per config page), and the instance's actions: save, activate, pause/resume, delete.
 * A modal dialog (focus trapped, Escape closes) or, with `mode="inline"`, a panel in the page (Escape with focus inside closes it too).
 *
 * @event {CustomEvent<InstanceEventDetail>} plug-instance-created - Setup started: an instance exists.
 * @event {CustomEvent<InstanceEventDetail>} plug-config-saved - The configuration was saved.
 * @event {CustomEvent<InstanceEventDetail>} plug-instance-activated - The instance was activated (or resumed).
 * @event {CustomEvent<InstanceEventDetail>} plug-instance-paused - The instance was paused.
 * @event {CustomEvent<InstanceDeletedDetail>} plug-instance-deleted - The instance was deleted.
 * @event {CustomEvent<ErrorEventDetail>} plug-error - A request failed.
 * @event {CustomEvent<{integrationKey: string}>} plug-dialog-close - The dialog or panel was closed.
 *
 * @csspart dialog - The native `<dialog>` (modal mode).
 * @csspart panel - The content box (both modes).
 * @csspart button - Every button; also `connect-button` for OAuth connections.
 * @csspart form - Each `<plug-config-form>`; its `field`, `label`, `input`, `help`, `error`, `chip` parts are forwarded.
 * @csspart badge - The status badge.
 * @csspart icon - The integration's icon.
 * @csspart progress - The wizard's progress bar.
 *
 * @cssproperty --plug-dialog-width - Width of the modal (default 40rem).
 * @cssproperty --plug-dialog-background - Background (default `--plug-color-surface`).
 * @cssproperty --plug-dialog-radius - Corner radius (default `--plug-radius-l`).
 */
export class PlugIntegrationDialog extends PlugApiElement {
  static override styles = [tokens, buttonStyles, badgeStyles, dialogStyles, instanceActivityStyles];

  /** Focus to restore when the dialog closes. */
  #returnFocus: HTMLElement | null = null;
  /** Idempotency key of the create in flight, reused if the customer clicks again. */
  #createKey: string | undefined;
  /** Webhook URLs and runs of a running instance (see instance-activity.ts). */
  #activity = new InstanceActivity(this);

  @query('dialog') private accessor dialogEl: HTMLDialogElement | null = null;

  @state() private accessor instance: Instance | undefined;
  @state() private accessor view: View = 'overview';
  @state() private accessor step = 0;
  /** The configuration being edited: the stored config, then the wizard's edits. */
  @state() private accessor draft: Record<string, unknown> = {};
  @state() private accessor fieldErrors: FieldError[] = [];
  @state() private accessor credentialErrors: Record<string, FieldError[]> = {};
  @state() private accessor blockers: FieldError[] = [];
  @state() private accessor alert = '';
  @state() private accessor conflict = false;
  @state() private accessor busy = false;
  @state() private accessor announcement = '';

  /** Key of the integration to show. */
  @property({ attribute: 'integration-key' }) accessor integrationKey: string | undefined;

  /** Shown while true. The element sets it back to false when the customer closes it. */
  @property({ type: Boolean, reflect: true }) accessor open = false;

  /** `modal` (default): a dialog over the page; `inline`: a panel in the page's flow. */
  @property({ reflect: true }) accessor mode: 'modal' | 'inline' = 'modal';

  #detail = new Task(this, {
    task: async ([client, key, open], { signal }) => {
      if (!client || !key || !open) return initialState;
      try {
        const detail = await client.integration(key, signal);
        this.#setInstance(detail.instance ? await client.instance(detail.instance.id, signal) : undefined);
        return detail;
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
    if (changed.has('integrationKey') && changed.get('integrationKey') !== undefined) this.#reset();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.dialogEl?.open) this.dialogEl.close();
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

  #reset(): void {
    this.view = 'overview';
    this.step = 0;
    this.fieldErrors = [];
    this.credentialErrors = {};
    this.blockers = [];
    this.alert = '';
    this.conflict = false;
  }

  #setInstance(instance: Instance | undefined): void {
    this.instance = instance;
    this.draft = { ...(instance?.config ?? {}) };
  }

  #announce(text: string): void {
    // Clear first so the same text twice is announced twice.
    this.announcement = '';
    requestAnimationFrame(() => (this.announcement = text));
  }

  /** Closes the dialog or panel and fires `plug-dialog-close`. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.#reset();
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

  /** Runs a user action: disables the buttons, maps its failure onto the UI and `plug-error`. */
  async #act(action: string, run: (client: PlugClient) => Promise<void>): Promise<void> {
    const client = this.apiClient;
    if (!client || this.busy) return;
    this.busy = true;
    this.alert = '';
    try {
      await run(client);
    } catch (error) {
      this.#fail(action, error);
    } finally {
      this.busy = false;
    }
  }

  #fail(action: string, error: unknown): void {
    if (error instanceof ApiError && error.status === 409 && error.problem.type === ProblemType.versionMismatch) {
      this.conflict = true;
      this.#announce(this.t('dialog.conflict'));
    } else {
      this.alert = this.describeError(error);
      this.#announce(this.alert);
    }
    this.reportError(action, error);
  }

  #start = (): Promise<void> =>
    this.#act('create-instance', async (client) => {
      if (!this.instance) {
        this.#createKey ??= crypto.randomUUID();
        const created = await client.createInstance(this.integrationKey!, this.#createKey);
        this.#createKey = undefined;
        this.#setInstance(created);
        this.emit('plug-instance-created', { detail: { instance: created } });
        this.#announce(this.t('dialog.created'));
      }
      this.view = 'wizard';
      this.step = 0;
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLElement>('h3[tabindex]')?.focus();
    });

  #steps(detail: IntegrationDetail): Step[] {
    const steps: Step[] = [];
    if (detail.connections.length > 0) steps.push({ kind: 'connections', title: this.t('dialog.connections') });
    detail.configPages.forEach((page, index) => steps.push({ kind: 'page', title: page.title, page, index }));
    return steps;
  }

  /** Copies the visible page's values into the draft. Returns false when the form is invalid. */
  #collectPage(report: boolean): boolean {
    const form = this.renderRoot.querySelector<PlugConfigForm>('plug-config-form[data-page]');
    if (!form) return true;
    if (report && !form.reportValidity()) return false;
    const page = fieldsOf(form.schema);
    const next = { ...this.draft };
    for (const name of page) delete next[name];
    this.draft = { ...next, ...form.value };
    return true;
  }

  async #goTo(step: number): Promise<void> {
    this.step = step;
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>('h3[tabindex]')?.focus();
  }

  #next = (): void => {
    if (this.#collectPage(true)) void this.#goTo(this.step + 1);
  };

  #back = (): void => {
    this.#collectPage(false);
    void this.#goTo(this.step - 1);
  };

  #save = (detail: IntegrationDetail): Promise<void> => {
    if (!this.#collectPage(true)) return Promise.resolve();
    return this.#act('save-config', async (client) => {
      const current = this.instance!;
      try {
        const saved = await client.saveConfig(current.id, this.draft, current.version);
        this.#setInstance(saved);
        this.fieldErrors = [];
        this.emit('plug-config-saved', { detail: { instance: saved } });
        this.view = 'overview';
        this.#announce(this.t('dialog.saved'));
        await this.updateComplete;
        this.#focusStart();
      } catch (error) {
        if (error instanceof ApiError && error.status === 422 && error.errors.length > 0) {
          this.#showFieldErrors(detail, relative(error.errors, 'config'));
          this.reportError('save-config', error);
          return;
        }
        throw error;
      }
    });
  };

  /** Puts the server's field errors on the fields and goes to the first page that has one. */
  async #showFieldErrors(detail: IntegrationDetail, errors: FieldError[]): Promise<void> {
    this.fieldErrors = errors;
    const steps = this.#steps(detail);
    const first = steps.findIndex(
      (s) => s.kind === 'page' && errors.some((e) => fieldsOf(s.page.schema).includes(e.path.split('.')[0]!)),
    );
    const unplaced = errors.filter((e) => !steps.some((s) => s.kind === 'page' && fieldsOf(s.page.schema).includes(e.path.split('.')[0]!)));
    this.alert = [this.t('dialog.fieldErrors', { count: errors.length }), ...unplaced.map((e) => e.message)].join(' ');
    this.#announce(this.alert);
    if (first >= 0) {
      this.step = first;
      await this.updateComplete;
      this.renderRoot.querySelector<PlugConfigForm>('plug-config-form[data-page]')?.reportValidity();
    }
  }

  #saveCredentials = (spec: ConnectionSpec): Promise<void> =>
    this.#act('save-credentials', async (client) => {
      const form = this.renderRoot.querySelector<PlugConfigForm>(`plug-config-form[data-connection="${CSS.escape(spec.name)}"]`);
      if (!form?.reportValidity()) return;
      try {
        const updated = await client.putCredentials(this.instance!.id, spec.name, form.value);
        this.instance = { ...updated };
        // The key is stored: take it out of the page (the field now says "Set — type to replace").
        form.value = NO_VALUES;
        this.credentialErrors = { ...this.credentialErrors, [spec.name]: [] };
        this.#announce(this.t('connection.saved'));
      } catch (error) {
        if (error instanceof ApiError && error.status === 422 && error.errors.length > 0) {
          this.credentialErrors = { ...this.credentialErrors, [spec.name]: relative(error.errors, 'values') };
          this.#announce(this.t('dialog.fieldErrors', { count: error.errors.length }));
          this.reportError('save-credentials', error);
          return;
        }
        throw error;
      }
    });

  #activate = (): Promise<void> =>
    this.#act('activate', async (client) => {
      try {
        const activated = await client.activate(this.instance!.id);
        this.#setInstance(activated);
        this.blockers = [];
        this.emit('plug-instance-activated', { detail: { instance: activated } });
        this.#announce(this.t('dialog.activated'));
      } catch (error) {
        if (error instanceof ApiError && (error.status === 409 || error.status === 422) && error.errors.length > 0) {
          this.blockers = error.errors;
          this.#announce(`${this.t('dialog.blockers')} ${error.errors.map((e) => e.message).join(' ')}`);
          this.reportError('activate', error);
          return;
        }
        throw error;
      }
    });

  #pause = (): Promise<void> =>
    this.#act('pause', async (client) => {
      const paused = await client.pause(this.instance!.id);
      this.#setInstance(paused);
      this.emit('plug-instance-paused', { detail: { instance: paused } });
      this.#announce(this.t('dialog.paused'));
    });

  #confirmDelete = async (): Promise<void> => {
    this.view = 'confirm-delete';
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>('.keep')?.focus();
  };

  #delete = (): Promise<void> =>
    this.#act('delete-instance', async (client) => {
      const gone = this.instance!;
      await client.deleteInstance(gone.id);
      this.#setInstance(undefined);
      this.#reset();
      this.emit('plug-instance-deleted', { detail: { instanceId: gone.id, integrationKey: gone.integrationKey } });
      this.#announce(this.t('dialog.deleted'));
      await this.updateComplete;
      this.#focusStart();
    });

  #reload = (): Promise<void> =>
    this.#act('reload-instance', async (client) => {
      this.#setInstance(await client.instance(this.instance!.id));
      this.conflict = false;
      this.fieldErrors = [];
    });

  #loadOptions = (dataSource: string, q: string, config: Record<string, unknown>) => {
    const client = this.apiClient;
    if (!client || !this.instance) return Promise.resolve([]);
    return client.dataSource(this.instance.id, dataSource, q, { ...this.draft, ...config });
  };

  // ---------------------------------------------------------------- render

  #renderOverview(detail: IntegrationDetail) {
    const instance = this.instance;
    const paragraphs = (detail.overview ?? '').split(/\n\s*\n/).filter((p) => p.trim() !== '');
    const canActivate = instance && instance.status !== 'active';
    const pending = [...this.blockers, ...(this.blockers.length === 0 ? (instance?.blockers ?? []) : [])];
    return html`
      <section aria-labelledby="overview-heading">
        <h3 id="overview-heading">${this.t('dialog.overview')}</h3>
        <p>${detail.description}</p>
        ${paragraphs.map((p) => html`<p class="muted">${p}</p>`)}
        ${instance
          ? html`<p class="muted">
              ${this.t('dialog.updated', {
                date: new Intl.DateTimeFormat(this.locale, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(instance.updatedAt)),
              })}
            </p>`
          : nothing}
        ${instance?.status === 'error' && instance.statusReason ? html`<p class="notice">${instance.statusReason}</p>` : nothing}
      </section>
      <section aria-labelledby="needs-heading">
        <h3 id="needs-heading">${this.t('dialog.needs')}</h3>
        ${detail.connections.length + detail.configPages.length === 0
          ? html`<p class="muted">${this.t('dialog.nothingNeeded')}</p>`
          : html`<ul class="needs">
              ${detail.connections.map((c) => {
                const st = instance?.connections.find((s) => s.name === c.name);
                return html`<li>${c.label} (${this.t(`dialog.kind.${c.kind}`)})${st ? html` · ${this.t(`connection.${st.status}`)}` : nothing}</li>`;
              })}
              ${detail.configPages.map((p) => html`<li>${this.t('dialog.configure')}: ${p.title}</li>`)}
            </ul>`}
      </section>
      ${pending.length > 0 && canActivate
        ? html`<div class="notice" role="note">
            ${this.t('dialog.blockers')}
            <ul>
              ${pending.map((b) => html`<li>${b.message}</li>`)}
            </ul>
          </div>`
        : nothing}
      <div class="actions">
        ${instance
          ? html`<button part="button" class="button danger" type="button" ?disabled=${this.busy} @click=${this.#confirmDelete}>
                ${this.t('dialog.delete')}
              </button>
              <span class="spacer"></span>
              ${instance.status === 'active'
                ? html`<button part="button" class="button" type="button" ?disabled=${this.busy} @click=${this.#pause}>${this.t('dialog.pause')}</button>`
                : nothing}
              <button part="button" class="button" type="button" ?disabled=${this.busy} @click=${this.#start}>${this.t('dialog.configure')}</button>
              ${canActivate
                ? html`<button part="button" class="button primary" type="button" ?disabled=${this.busy} @click=${this.#activate}>
                    ${this.t(instance.status === 'paused' ? 'dialog.resume' : 'dialog.activate')}
                  </button>`
                : nothing}`
          : html`<button part="button" class="button primary" type="button" ?disabled=${this.busy} @click=${this.#start}>
              ${this.t('dialog.start')}
            </button>`}
      </div>
      ${/* Webhook URLs and runs, for an instance past draft: instance-activity.ts. */ nothing}
      ${instance && this.apiClient
        ? this.#activity.render({
            client: this.apiClient,
            instance,
            t: (key, vars) => this.t(key, vars),
            translations: this.translations ?? this.contextTranslations,
            theme: this.theme,
            lang: this.locale,
            announce: (text) => this.#announce(text),
            failed: (action, error) => this.#fail(action, error),
          })
        : nothing}
    `;
  }

  #renderConnections(detail: IntegrationDetail) {
    const instance = this.instance!;
    return detail.connections.map((spec) => {
      const st = instance.connections.find((c) => c.name === spec.name);
      const status = st?.status ?? 'missing';
      const errors = this.credentialErrors[spec.name] ?? [];
      return html`<div class="connection" role="group" aria-labelledby="conn-${spec.name}">
        <div class="connection-head">
          <h4 id="conn-${spec.name}">${spec.label}</h4>
          <span class="muted">${this.t(`connection.${status}`)}</span>
        </div>
        ${spec.description ? html`<p class="muted">${spec.description}</p>` : nothing}
        ${st?.error ? html`<p class="notice">${st.error}</p>` : nothing}
        ${spec.kind === 'apiKey'
          ? html`<plug-config-form
                part="form"
                exportparts=${FORM_PARTS}
                data-connection=${spec.name}
                .schema=${spec.schema ?? { type: 'object', properties: {} }}
                .value=${NO_VALUES}
                .secretsSet=${status === 'connected' ? fieldsOf(spec.schema) : []}
                .errors=${errors}
                .translations=${this.translations ?? this.contextTranslations}
                ?disabled=${this.busy}
              ></plug-config-form>
              <div class="actions">
                <button part="button" class="button" type="button" ?disabled=${this.busy} @click=${() => this.#saveCredentials(spec)}>
                  ${this.t(status === 'connected' ? 'connection.replace' : 'connection.save')}
                </button>
              </div>`
          : renderOAuthConnection({
              client: this.apiClient!,
              instance,
              spec,
              state: st,
              disabled: this.busy,
              t: (key, vars) => this.t(key, vars),
              changed: (next) => (this.instance = next),
              failed: (error) => this.#fail('connect', error),
            })}
      </div>`;
    });
  }

  #renderWizard(detail: IntegrationDetail) {
    const steps = this.#steps(detail);
    if (steps.length === 0) return this.#renderOverview(detail);
    const index = Math.min(this.step, steps.length - 1);
    const step = steps[index]!;
    const last = index === steps.length - 1;
    const pageErrors =
      step.kind === 'page' ? this.fieldErrors.filter((e) => fieldsOf(step.page.schema).includes(e.path.split('.')[0]!)) : [];
    return html`
      <ol part="progress" class="progress" aria-label=${this.t('dialog.progress')}>
        ${steps.map(
          (s, i) => html`<li ?data-done=${i <= index} aria-current=${i === index ? 'step' : nothing}>
            <span class="visually-hidden">${s.title}</span>
          </li>`,
        )}
      </ol>
      <p class="muted">${this.t('dialog.step', { current: index + 1, total: steps.length })}</p>
      <section aria-labelledby="step-heading">
        <h3 id="step-heading" tabindex="-1">${step.title}</h3>
        ${step.kind === 'connections'
          ? this.#renderConnections(detail)
          : html`${step.page.description ? html`<p class="muted">${step.page.description}</p>` : nothing}
              <plug-config-form
                part="form"
                exportparts=${FORM_PARTS}
                data-page=${step.index}
                .schema=${step.page.schema}
                .value=${this.draft}
                .secretsSet=${this.instance?.secretsSet ?? []}
                .errors=${pageErrors}
                .loadOptions=${this.#loadOptions}
                .translations=${this.translations ?? this.contextTranslations}
                ?disabled=${this.busy}
              ></plug-config-form>`}
      </section>
      <div class="actions">
        ${index > 0
          ? html`<button part="button" class="button" type="button" ?disabled=${this.busy} @click=${this.#back}>${this.t('dialog.back')}</button>`
          : html`<button part="button" class="button" type="button" ?disabled=${this.busy} @click=${() => (this.view = 'overview')}>
              ${this.t('dialog.overview')}
            </button>`}
        <span class="spacer"></span>
        ${last
          ? html`<button part="button" class="button primary" type="button" ?disabled=${this.busy} @click=${() => this.#save(detail)}>
              ${this.t('dialog.save')}
            </button>`
          : html`<button part="button" class="button primary" type="button" ?disabled=${this.busy} @click=${this.#next}>${this.t('dialog.next')}</button>`}
      </div>
    `;
  }

  #renderConfirmDelete() {
    return html`<div class="notice" role="alert">${this.t('dialog.deleteConfirm')}</div>
      <div class="actions">
        <button part="button" class="button keep" type="button" ?disabled=${this.busy} @click=${() => (this.view = 'overview')}>
          ${this.t('dialog.deleteCancel')}
        </button>
        <button part="button" class="button danger primary" type="button" ?disabled=${this.busy} @click=${this.#delete}>
          ${this.t('dialog.delete')}
        </button>
      </div>`;
  }

  #renderBody() {
    return this.#detail.render({
      initial: () => html`<p class="muted">${this.t('dialog.loading')}</p>`,
      pending: () => html`<p class="muted" aria-busy="true">${this.t('dialog.loading')}</p>`,
      error: (error) => html`<div class="alert" role="alert">
          ${this.t('dialog.loadError')} ${this.describeError(error)}
        </div>
        <div class="actions">
          <button part="button" class="button" type="button" @click=${() => void this.#detail.run()}>${this.t('dialog.retry')}</button>
        </div>`,
      complete: (detail) => {
        const status = this.instance?.status ?? 'available';
        const body =
          this.view === 'confirm-delete' && this.instance
            ? this.#renderConfirmDelete()
            : this.view === 'wizard' && this.instance
              ? this.#renderWizard(detail)
              : this.#renderOverview(detail);
        return html`
          <p class="muted">${detail.category} · ${renderStatusBadge(status, this.t(badgeLabelKey(status)))}</p>
          ${this.conflict
            ? html`<div class="alert" role="alert">
                ${this.t('dialog.conflict')}
                <button part="button" class="button" type="button" @click=${this.#reload}>${this.t('dialog.reload')}</button>
              </div>`
            : nothing}
          ${this.alert ? html`<div class="alert" role="alert">${this.alert}</div>` : nothing}
          ${body}
        `;
      },
    });
  }

  #renderPanel() {
    const detail = this.#detail.value;
    const name = detail?.name ?? this.integrationKey ?? '';
    return html`<div part="panel" class="panel" aria-busy=${this.busy ? 'true' : 'false'}>
      <header>
        ${detail ? renderIcon(detail.icon, detail.name) : nothing}
        <h2 id="title" tabindex="-1">${name}</h2>
        <button part="button" class="button close" type="button" @click=${() => this.close()}>${this.t('dialog.close')}</button>
      </header>
      ${this.#renderBody()}
      <div class="visually-hidden" role="status" aria-live="polite">${this.announcement}</div>
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
