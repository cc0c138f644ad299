import { html, nothing, type PropertyDeclarations, type PropertyValues, type TemplateResult } from 'lit';
import { ApiError, type PlugClient } from '../../client/index.js';
import type { ConnectionSpec, FieldError, Instance, IntegrationDetail } from '../../protocol/index.js';
import { ProblemType } from '../../protocol/problem-types.js';
import { PlugApiElement } from '../base/api-element.js';
import { OptionsUnavailable, type PlugConfigForm } from '../config-form/config-form.js';
import type { StringKey } from '../i18n.js';
import { badgeLabelKey, renderStatusBadge } from '../instance-status/status-badge.js';
import { renderDeleteConfirmation } from './delete-confirmation.js';
import { InstanceActivity } from './instance-activity.js';
import { InstanceHistory } from './instance-history.js';
import { NO_VALUES, renderConnections } from './setup-connections.js';
import { renderOverview } from './setup-overview.js';
import { fieldsOf, type SetupSection } from './setup-section.js';
import { SetupToast } from './setup-toast.js';
import { onPage, relative, rememberStep, renderWizard, resumeStep, sameConfig, withPage, wizardSteps, type Step } from './setup-wizard.js';

type View = 'overview' | 'wizard' | 'confirm-delete';

/** Drafts being saved as a dialog closed, by integration: a dialog opened meanwhile loads after them. */
const closingSaves = new Map<string, Promise<void>>();

/** Resolves once a draft saved as the dialog of `integrationKey` closed is stored (at once when none is). */
export function closingSave(integrationKey: string): Promise<void> {
  return closingSaves.get(integrationKey) ?? Promise.resolve();
}

/** What the dialog loads before the setup can show anything. */
export interface LoadedIntegration {
  detail: IntegrationDetail;
  /** The customer's instance of it, read in full; undefined before setup starts. */
  instance: Instance | undefined;
}

/** @internal What the setup needs from the dialog around it. */
export interface SetupChrome {
  /** The public element: the setup's events are fired from it, as if it fired them. */
  readonly element: HTMLElement;
  /** Back on the overview after a save or a delete: focus goes to the top of the dialog. */
  focusTop(): void;
  /** `busy` changed: the dialog marks its panel. */
  busyChanged(): void;
}

/**
 * @internal `<plug-integration-setup>`: the content of `<plug-integration-dialog>`, the same in
 * the modal and the inline panel. The overview, the setup wizard (connections, one step per
 * config page) and the instance's actions (save, activate, pause/resume, delete), with their
 * requests, errors and announcements. The dialog keeps the chrome around it and loads the
 * integration.
 *
 * It renders into its own light DOM, which is the dialog's shadow root: the dialog's ids
 * (`aria-labelledby`), `::part()` names and styles reach it as before, and the focus trap sees
 * its controls. Its public events are fired from the dialog element (see `SetupChrome`).
 */
export class PlugIntegrationSetup extends PlugApiElement {
  // `static properties`, not decorators: see PlugApiElement.
  static override properties: PropertyDeclarations = {
    instance: { state: true },
    view: { state: true },
    step: { state: true },
    draft: { state: true },
    fieldErrors: { state: true },
    credentialErrors: { state: true },
    blockers: { state: true },
    alert: { state: true },
    conflict: { state: true },
    announcement: { state: true },
    busy: { state: true },
    loaded: { attribute: false },
  };
  /** Idempotency key of the create in flight, reused if the customer clicks again. */
  #createKey: string | undefined;
  /** The create in flight: a credential save and an OAuth start at once make one instance. */
  #creating: Promise<Instance> | undefined;
  /** The visible config page was edited since it was shown or saved. */
  #pageEdited = false;
  /** Webhook URLs and runs of a running instance (see instance-activity.ts). */
  #activity = new InstanceActivity(this);
  /** Who changed the instance, what and when (see instance-history.ts). */
  #history = new InstanceHistory(this);
  /** Confirmations of saves and activations, seen and heard (see setup-toast.ts). */
  #toast = new SetupToast(this);
  #t = (key: StringKey, vars?: Record<string, string | number>): string => this.t(key, vars);
  // Set by the dialog before each render; not reactive (read when a render or an action needs them).
  integrationKey: string | undefined;
  /** The dialog's language: `closest('[lang]')` would stop at the dialog's shadow root. */
  language: string | undefined;
  chrome: SetupChrome | undefined;

  declare private instance: Instance | undefined;
  declare private view: View;
  declare private step: number;
  /** The configuration being edited: the stored config, then the wizard's edits. */
  declare private draft: Record<string, unknown>;
  declare private fieldErrors: FieldError[];
  declare private credentialErrors: Record<string, FieldError[]>;
  declare private blockers: FieldError[];
  declare private alert: string;
  declare private conflict: boolean;
  declare private announcement: string;
  /** A request of the customer's is running: the buttons are disabled. */
  declare busy: boolean;

  /** The loaded integration, or undefined while (re)loading: then only the live region renders. */
  declare loaded: LoadedIntegration | undefined;

  constructor() {
    super();
    this.view = 'overview';
    this.step = 0;
    this.draft = {};
    this.fieldErrors = [];
    this.credentialErrors = {};
    this.blockers = [];
    this.alert = '';
    this.conflict = false;
    this.announcement = '';
    this.busy = false;
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.addEventListener('input', this.#onEdit);
    this.addEventListener('change', this.#onEdit);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.removeEventListener('input', this.#onEdit);
    this.removeEventListener('change', this.#onEdit);
  }

  #onEdit = (event: Event): void => {
    if (event.composedPath().some((node) => node instanceof Element && node.matches('plug-config-form[data-page]'))) this.#pageEdited = true;
  };

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('loaded') && this.loaded) this.#setInstance(this.loaded.instance);
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('busy')) this.chrome?.busyChanged();
  }

  protected override get eventTarget(): EventTarget {
    return this.chrome?.element ?? this;
  }

  protected override get locale(): string | undefined {
    return this.language;
  }

  #setInstance(instance: Instance | undefined): void {
    this.instance = instance;
    this.draft = { ...(instance?.config ?? {}) };
    this.#pageEdited = false;
  }

  #announce(text: string): void {
    // Clear first so the same text twice is announced twice.
    this.announcement = '';
    requestAnimationFrame(() => (this.announcement = text));
  }

  /** A save or an activation went through: the toast says so (and the last problem announced is over). */
  #confirm(text: string): void {
    this.announcement = '';
    this.#toast.show(text);
  }

  #focus(selector: string): void {
    this.renderRoot.querySelector<HTMLElement>(selector)?.focus();
  }

  /** Runs a user action: disables the buttons, maps its failure onto the UI and `plug-error`. */
  async #act(action: string, run: (client: PlugClient) => Promise<void>): Promise<void> {
    const client = this.apiClient;
    if (!client || this.busy) return;
    const focused = deepActiveElement();
    const pressed = focused && this.contains(focused) ? focused : undefined;
    this.busy = true;
    this.alert = '';
    try {
      await run(client);
    } catch (error) {
      this.#fail(action, error);
    } finally {
      this.busy = false;
      void this.#keepFocus(pressed);
    }
  }

  /**
   * Disabling the pressed button while busy drops the focus to <body>: a keyboard user would
   * start again from the top of the page. Unless the action moved it, focus goes back to that
   * button, or, when the action replaced it (Activate becomes Pause), to the end of its row if
   * the row is still there, else to the top of the dialog.
   */
  async #keepFocus(pressed: HTMLElement | undefined): Promise<void> {
    if (!pressed) return;
    const row = pressed.parentElement;
    await this.updateComplete;
    if (deepActiveElement()) return;
    const target =
      pressed.isConnected && !(pressed as HTMLButtonElement).disabled
        ? pressed
        : [...(row?.isConnected ? row.querySelectorAll<HTMLButtonElement>('button:not([disabled])') : [])].at(-1);
    if (target) target.focus();
    else this.chrome?.focusTop();
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

  #steps(detail: IntegrationDetail): Step[] {
    return wizardSteps(detail, this.t('dialog.connections'));
  }

  /**
   * "Set up", "Continue setup", "Configure": opens the wizard where the customer stopped. Creates
   * nothing: the instance is made by the first save (see #ensureInstance).
   */
  #start = async (): Promise<void> => {
    const detail = this.loaded?.detail;
    this.alert = '';
    this.view = 'wizard';
    this.step = detail && this.instance ? resumeStep(this.#steps(detail), this.instance) : 0;
    await this.updateComplete;
    this.#focus('h3[tabindex]');
  };

  /** The instance, created on the first save ("Next", credentials, a sign-in); the draft keeps what was typed. */
  #ensureInstance(client: PlugClient): Promise<Instance> {
    if (this.instance) return Promise.resolve(this.instance);
    this.#creating ??= (async () => {
      this.#createKey ??= crypto.randomUUID();
      const created = await client.createInstance(this.integrationKey!, this.#createKey);
      this.#createKey = undefined;
      this.instance = created;
      rememberStep(created.id, this.step);
      this.emit('plug-instance-created', { detail: { instance: created } });
      return created;
    })().finally(() => (this.#creating = undefined));
    return this.#creating;
  }

  /** Copies the visible page's values into the draft. Returns false when the form is invalid. */
  #collectPage(report: boolean): boolean {
    const form = this.renderRoot.querySelector<PlugConfigForm>('plug-config-form[data-page]');
    if (!form) return true;
    if (report && !form.reportValidity()) return false;
    this.draft = withPage(this.draft, form);
    return true;
  }

  async #goTo(step: number): Promise<void> {
    this.step = step;
    this.#pageEdited = false;
    if (this.instance) rememberStep(this.instance.id, step);
    await this.updateComplete;
    this.#focus('h3[tabindex]');
  }

  /** "Next": a config page is saved as a draft as the customer leaves it, so closing midway loses nothing. */
  #next = (detail: IntegrationDetail): Promise<void> => {
    if (!this.#collectPage(true)) return Promise.resolve();
    const next = this.step + 1;
    if (this.#steps(detail)[this.step]?.kind !== 'page') {
      // Leaving the connections: credentials typed but not yet saved are saved, not dropped.
      const typed = detail.connections.filter((spec) => spec.kind === 'apiKey' && Object.keys(this.#credentialForm(spec)?.value ?? {}).length > 0);
      if (typed.length === 0) return this.#goTo(next);
      return this.#act('save-credentials', async (client) => {
        for (const spec of typed) if (!(await this.#storeCredentials(client, spec))) return;
        await this.#goTo(next);
      });
    }
    return this.#act('save-draft', async (client) => {
      if (this.instance && sameConfig(this.draft, this.instance.config) && !this.#typedSecret(detail)) return this.#goTo(next);
      if (!(await this.#write(client, detail))) return;
      this.#confirm(this.t('dialog.draftSaved'));
      await this.#goTo(next);
    });
  };

  #back = (): void => {
    this.#collectPage(false);
    void this.#goTo(this.step - 1);
  };

  /** A secret typed on some page and not saved yet (the server never sends secrets back, so the draft has it only then). */
  #typedSecret(detail: IntegrationDetail): boolean {
    return detail.configPages.some((page) =>
      fieldsOf(page.schema).some((name) => {
        const prop = (page.schema.properties as Record<string, Record<string, unknown>> | undefined)?.[name];
        return prop?.['x-plug-kind'] === 'secret' && typeof this.draft[name] === 'string' && this.draft[name] !== '';
      }),
    );
  }

  /** Saves the draft (creating the instance first if needed). Undefined when the server refused fields: they are shown. */
  async #write(client: PlugClient, detail: IntegrationDetail): Promise<Instance | undefined> {
    const current = await this.#ensureInstance(client);
    try {
      const saved = await client.saveConfig(current.id, this.draft, current.version);
      this.#setInstance(saved);
      this.fieldErrors = [];
      this.emit('plug-config-saved', { detail: { instance: saved } });
      return saved;
    } catch (error) {
      if (error instanceof ApiError && error.status === 422 && error.errors.length > 0) {
        await this.#showFieldErrors(detail, relative(error.errors, 'config'));
        this.reportError('save-config', error);
        return undefined;
      }
      throw error;
    }
  }

  #save = (detail: IntegrationDetail): Promise<void> => {
    if (!this.#collectPage(true)) return Promise.resolve();
    return this.#act('save-config', async (client) => {
      if (!(await this.#write(client, detail))) return;
      this.view = 'overview';
      this.#confirm(this.t('dialog.saved'));
      await this.updateComplete;
      this.chrome?.focusTop();
    });
  };

  /** Puts the server's field errors on the fields and goes to the first page that has one. */
  async #showFieldErrors(detail: IntegrationDetail, errors: FieldError[]): Promise<void> {
    this.fieldErrors = errors;
    const steps = this.#steps(detail);
    const first = steps.findIndex((s) => errors.some((e) => onPage(s, e)));
    const unplaced = errors.filter((e) => !steps.some((s) => onPage(s, e)));
    this.alert = [this.t('dialog.fieldErrors', { count: errors.length }), ...unplaced.map((e) => e.message)].join(' ');
    this.#announce(this.alert);
    if (first >= 0) {
      this.step = first;
      await this.updateComplete;
      this.renderRoot.querySelector<PlugConfigForm>('plug-config-form[data-page]')?.reportValidity();
    }
  }

  #credentialForm(spec: ConnectionSpec): PlugConfigForm | null {
    return this.renderRoot.querySelector<PlugConfigForm>(`plug-config-form[data-connection="${CSS.escape(spec.name)}"]`);
  }

  /** What an OAuth connection's form holds, for the sign-in; its own messages show when it refuses. */
  #connectionFields(spec: ConnectionSpec): Record<string, string> {
    const form = this.#credentialForm(spec);
    // A refusal the connect button shows as ours under itself, not as "Something went wrong".
    if (form && !form.reportValidity()) throw new ApiError({ type: ProblemType.validation, title: this.t('dialog.fieldErrors', { count: 1 }), status: 422 });
    this.credentialErrors = { ...this.credentialErrors, [spec.name]: [] };
    const values: Record<string, string> = {};
    for (const [name, value] of Object.entries(form?.value ?? {})) if (typeof value === 'string') values[name] = value;
    return values;
  }

  #saveCredentials = (spec: ConnectionSpec): Promise<void> =>
    this.#act('save-credentials', async (client) => {
      await this.#storeCredentials(client, spec);
    });

  /** Stores what was typed for an API-key connection. False when the form or the server refused it (messages on the fields). */
  async #storeCredentials(client: PlugClient, spec: ConnectionSpec): Promise<boolean> {
    const form = this.#credentialForm(spec);
    if (!form?.reportValidity()) return false;
    try {
      const target = await this.#ensureInstance(client);
      const updated = await client.putCredentials(target.id, spec.name, form.value);
      this.instance = { ...updated };
      // As a connect button does for a sign-in: the page (and the marketplace's card) learns who is connected.
      const state = updated.connections.find((c) => c.name === spec.name);
      this.emit('plug-connect', { detail: { instanceId: updated.id, connection: spec.name, status: state?.status ?? 'connected', instance: updated } });
      // The key is stored: take it out of the page (the field now says "Set — type to replace").
      form.value = NO_VALUES;
      this.credentialErrors = { ...this.credentialErrors, [spec.name]: [] };
      this.#confirm(this.t('connection.saved'));
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 422 && error.errors.length > 0) {
        this.credentialErrors = { ...this.credentialErrors, [spec.name]: relative(error.errors, 'values') };
        this.#announce(this.t('dialog.fieldErrors', { count: error.errors.length }));
        this.reportError('save-credentials', error);
        return false;
      }
      throw error;
    }
  }

  #activate = (): Promise<void> =>
    this.#act('activate', async (client) => {
      try {
        const activated = await client.activate(this.instance!.id);
        this.#setInstance(activated);
        this.blockers = [];
        this.emit('plug-instance-activated', { detail: { instance: activated } });
        this.#confirm(this.t('dialog.activated'));
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
      this.#confirm(this.t('dialog.paused'));
    });

  #upgrade = (): Promise<void> =>
    this.#act('upgrade', async (client) => {
      const upgraded = await client.upgrade(this.instance!.id);
      this.#setInstance(upgraded);
      this.#confirm(this.t('dialog.upgraded', { version: upgraded.integrationVersion ?? '' }));
    });

  #confirmDelete = async (): Promise<void> => {
    this.view = 'confirm-delete';
    await this.updateComplete;
    this.#focus('.keep');
  };

  #delete = (): Promise<void> =>
    this.#act('delete-instance', async (client) => {
      const gone = this.instance!;
      await client.deleteInstance(gone.id);
      this.#setInstance(undefined);
      this.reset();
      this.emit('plug-instance-deleted', { detail: { instanceId: gone.id, integrationKey: gone.integrationKey } });
      this.#confirm(this.t('dialog.deleted'));
      await this.updateComplete;
      this.chrome?.focusTop();
    });

  #reload = (): Promise<void> =>
    this.#act('reload-instance', async (client) => {
      this.#setInstance(await client.instance(this.instance!.id));
      this.conflict = false;
      this.fieldErrors = [];
    });

  #loadOptions = async (dataSource: string, q: string, config: Record<string, unknown>) => {
    const client = this.apiClient;
    const instance = this.instance;
    // The lists come from the customer's accounts: with one not connected, say which, not "No options".
    const unconnected = (this.loaded?.detail.connections ?? []).filter(
      (spec) => instance?.connections.find((c) => c.name === spec.name)?.status !== 'connected',
    );
    const unavailable = () => new OptionsUnavailable(this.t('dialog.connectFirst', { connection: unconnected.map((c) => c.label).join(', ') }));
    if (!client || !instance) {
      if (unconnected.length > 0) throw unavailable();
      return [];
    }
    // `config` is what the picker depends on; only values that differ from the saved ones are unsaved
    // (sent with POST, admins only), so a member's picker and an unchanged form stay a plain GET.
    const saved = instance.config;
    const unsaved = Object.fromEntries(
      Object.entries(config).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(Object.hasOwn(saved, k) ? saved[k] : undefined)),
    );
    try {
      return await client.dataSource(instance.id, dataSource, q, unsaved);
    } catch (error) {
      if (unconnected.length > 0) throw unavailable();
      throw error;
    }
  };

  /**
   * The dialog closes: a config page edited since "Next" is saved as a draft, as "Next" would
   * save it, so closing midway loses nothing. A page that fails its checks is left as it is.
   */
  leave(): void {
    const detail = this.loaded?.detail;
    const key = this.integrationKey;
    const form = this.renderRoot.querySelector<PlugConfigForm>('plug-config-form[data-page]');
    if (this.view !== 'wizard' || !this.#pageEdited || !detail || !key || !form?.checkValidity()) return;
    this.#collectPage(false);
    if (this.instance && sameConfig(this.draft, this.instance.config) && !this.#typedSecret(detail)) return;
    // reset() puts the step back to 0 right after: the wizard must reopen on this one.
    const step = this.step;
    const saving = this.#act('save-draft', async (client) => {
      const saved = await this.#write(client, detail);
      if (saved) rememberStep(saved.id, step);
    }).finally(() => {
      if (closingSaves.get(key) === saving) closingSaves.delete(key);
    });
    closingSaves.set(key, saving);
  }

  /** Back to the overview with no messages (the dialog closed, or shows another integration). */
  reset(): void {
    this.view = 'overview';
    this.step = 0;
    this.fieldErrors = [];
    this.credentialErrors = {};
    this.blockers = [];
    this.alert = '';
    this.conflict = false;
  }

  /** The dialog left the page: drop the webhook signing secrets shown so far. */
  forget(): void {
    this.#activity.forget();
  }

  #section(detail: IntegrationDetail): SetupSection {
    return {
      client: this.apiClient!,
      detail,
      instance: this.instance,
      busy: this.busy,
      translations: this.translations ?? this.contextTranslations,
      t: this.#t,
    };
  }

  #renderOverview(section: SetupSection): TemplateResult {
    const { client, instance } = section;
    return renderOverview({
      ...section,
      blockers: this.blockers,
      locale: this.locale,
      history: instance && client ? this.#history.render({ client, instance, detail: section.detail, t: this.#t, locale: this.locale }) : nothing,
      activity:
        instance && client
          ? this.#activity.render({
              ...section,
              instance,
              flows: section.detail.flows,
              theme: this.theme,
              lang: this.locale,
              announce: (text) => this.#announce(text),
              failed: (action, error) => this.#fail(action, error),
            })
          : nothing,
      start: this.#start,
      activate: this.#activate,
      pause: this.#pause,
      upgrade: this.#upgrade,
      confirmDelete: this.#confirmDelete,
    });
  }

  #renderWizard(section: SetupSection): TemplateResult {
    const steps = this.#steps(section.detail);
    if (steps.length === 0) return this.#renderOverview(section);
    return renderWizard({
      ...section,
      steps,
      index: Math.min(this.step, steps.length - 1),
      draft: this.draft,
      fieldErrors: this.fieldErrors,
      loadOptions: this.#loadOptions,
      connections: () =>
        renderConnections({
          ...section,
          credentialErrors: this.credentialErrors,
          ensureInstance: () => this.#ensureInstance(section.client),
          saveCredentials: (spec) => void this.#saveCredentials(spec),
          connectionFields: (spec) => this.#connectionFields(spec),
          connectionFieldErrors: (spec, errors) => {
            this.credentialErrors = { ...this.credentialErrors, [spec.name]: relative(errors, 'fields') };
            this.#announce(this.t('dialog.fieldErrors', { count: errors.length }));
          },
          changed: (next) => (this.instance = next),
          failed: (error) => this.#fail('connect', error),
        }),
      toOverview: () => (this.view = 'overview'),
      back: this.#back,
      next: () => void this.#next(section.detail),
      save: () => void this.#save(section.detail),
    });
  }

  #renderBody(detail: IntegrationDetail): TemplateResult {
    const { instance, view } = this;
    const section = this.#section(detail);
    const status = instance?.status ?? 'available';
    const body =
      view === 'confirm-delete' && instance
        ? renderDeleteConfirmation({ ...section, keep: () => (this.view = 'overview'), remove: this.#delete })
        : view === 'wizard'
          ? this.#renderWizard(section)
          : this.#renderOverview(section);
    return html`
      <p class="muted">${detail.category} · ${renderStatusBadge(status, this.t(badgeLabelKey(status)))}</p>
      ${
        this.conflict
          ? html`<div class="alert" role="alert">
            ${this.t('dialog.conflict')}
            <button part="button" class="button" type="button" @click=${this.#reload}>${this.t('dialog.reload')}</button>
          </div>`
          : nothing
      }
      ${this.alert ? html`<div class="alert" role="alert">${this.alert}</div>` : nothing}
      ${body}
    `;
  }

  override render(): TemplateResult {
    return html`${this.loaded ? this.#renderBody(this.loaded.detail) : nothing}
      <div class="visually-hidden" role="status" aria-live="polite">${this.announcement}</div>
      ${this.#toast.render()}`;
  }
}

/** The focused element, through shadow roots; undefined when focus is on <body> (or nowhere). */
function deepActiveElement(): HTMLElement | undefined {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active instanceof HTMLElement && active !== document.body ? active : undefined;
}
