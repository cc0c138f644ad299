import { Task, TaskStatus, initialState } from '@lit/task';
import { html, nothing, type PropertyDeclarations, type PropertyValues } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { ConnectEventDetail, IntegrationSummary } from '../../protocol/index.js';
import { PlugApiElement } from '../base/api-element.js';
import { holdDetailLoadUntil, loadDetailElements } from '../detail-loader.js';
import { collatorFor, prepareIntl } from '../i18n.js';
import { ariaLevel, clampLevel } from '../integration-card/integration-card.js';
import type { InstanceDeletedDetail, InstanceEventDetail } from '../events.js';
import { tokens } from '../themes/tokens.js';
import { buttonStyles, marketplaceStyles, skeletonStyles } from './marketplace.styles.js';

interface Entry {
  summary: IntegrationSummary;
  /**
   * Lower-cased name, description and category, built at the first search that needs it (not
   * between the catalog's response and its first paint), then kept so a keystroke only compares
   * strings. `toLowerCase`, not `toLocaleLowerCase`, which costs far more a call in Chromium; the
   * query is lower-cased the same way.
   */
  haystack?: string;
}

type InstanceSummary = IntegrationSummary['instance'];

/**
 * Cards rendered at first (and after each change of the filters): a 1280 × 720 screen's worth
 * (4 rows of 4), so the catalog's response turns into a first screenful with no more cards to
 * build and lay out than it shows; the end of the grid is near the viewport by then, so the next
 * batch follows in the next frame.
 */
const FIRST = 16;

/** Cards added each time the end of the grid comes near the viewport: few enough that adding a batch stays a short task. */
const BATCH = 24;

/**
 * @customElement plug-marketplace
 * @summary The integration marketplace: a searchable grid of the vendor's integrations with the
 * customer's status, and the detail/setup of one integration in a dialog or inline panel.
 * Needs one API request (`GET /integrations`) before the grid shows.
 *
 * @event {CustomEvent<{integration: IntegrationSummary}>} plug-integration-open - A card was opened. Cancel it to show your own view.
 * @event {CustomEvent<InstanceEventDetail>} plug-instance-created - From the dialog: an instance was created.
 * @event {CustomEvent<InstanceEventDetail>} plug-config-saved - From the dialog: configuration saved.
 * @event {CustomEvent<InstanceEventDetail>} plug-instance-activated - From the dialog: instance activated.
 * @event {CustomEvent<InstanceEventDetail>} plug-instance-paused - From the dialog: instance paused.
 * @event {CustomEvent<InstanceDeletedDetail>} plug-instance-deleted - From the dialog: instance deleted.
 * @event {CustomEvent<ConnectEventDetail>} plug-connect - From the dialog: a connection's status changed (credentials saved, a sign-in, Disconnect); the card then says who is connected.
 * @event {CustomEvent<ConnectErrorDetail>} plug-connect-error - From the dialog's connect button: connecting failed (`popup_blocked`, `popup_closed`, `denied`, `server`).
 * @event {CustomEvent<{integrationKey: string}>} plug-dialog-close - The dialog or inline panel was closed.
 * @event {CustomEvent<{integration: IntegrationSummary}>} plug-upgrade-request - With `show-unentitled`: the customer asked for an integration its plan lacks. Cancelable.
 * @event {CustomEvent<ErrorEventDetail>} plug-error - The catalog (or an action) failed.
 *
 * @csspart toolbar - The row with the title, search, category filter and toggle.
 * @csspart search - The search input.
 * @csspart category - The category select.
 * @csspart toggle - The "active only" label and checkbox.
 * @csspart grid - The list of cards.
 * @csspart card - Each card (forwarded from `<plug-integration-card>`), also `icon`, `open`, `badge`.
 * @csspart message - Loading, empty and error messages.
 * @csspart button - Buttons (retry).
 * @csspart dialog - The integration dialog (forwarded), also its `panel`, `field`, `progress`, `toast` parts.
 *
 * @cssproperty --plug-marketplace-card-min-width - Narrowest card before the grid wraps (default 16rem).
 * @cssproperty --plug-marketplace-gap - Space between cards (default `--plug-space-m`).
 * @cssproperty --plug-color-primary - Brand color (every `--plug-color-*`, `--plug-space-*`, `--plug-radius-*`, `--plug-font-*` token applies).
 */
export class PlugMarketplace extends PlugApiElement {
  static override styles = [tokens, buttonStyles, skeletonStyles, marketplaceStyles];
  // No decorators in the eager core (see PlugApiElement).
  static override properties: PropertyDeclarations = {
    localStatus: { state: true },
    query: { state: true },
    category: { state: true },
    activeOnly: { state: true },
    openKey: { state: true },
    limit: { state: true },
    detailMode: { attribute: 'detail-mode' },
    heading: {},
    headingLevel: { type: Number, attribute: 'heading-level' },
    showUnentitled: { type: Boolean, attribute: 'show-unentitled' },
    upgradeHref: { attribute: 'upgrade-href' },
  };

  /** Status changes made in this page since the catalog loaded (events from the dialog). */
  declare private localStatus: Record<string, InstanceSummary>;
  declare private query: string;
  declare private category: string;
  declare private activeOnly: boolean;
  declare private openKey: string | undefined;
  /** How many matching cards are in the DOM; a long catalog renders in batches as it scrolls. */
  declare private limit: number;

  /** `dialog` (default): a modal dialog; `inline`: the detail replaces the grid in place. */
  declare detailMode: 'dialog' | 'inline';

  /** Heading above the grid; empty to hide it. Default: the `marketplace.title` string. */
  declare heading: string | undefined;

  /**
   * Level of the marketplace's heading in the host page's outline (default 2). The cards' headings
   * are one level below it, or at it when `heading=""` hides the marketplace's own: a page whose
   * `h1` already names the marketplace sets `heading="" heading-level="2"`.
   */
  declare headingLevel: number;

  /** Also list the integrations the customer's plan lacks, as cards marked "Available on a higher plan" (not activatable). */
  declare showUnentitled: boolean;

  /** Where those cards' call to action leads (the host's plans page); without it they fire `plug-upgrade-request` only. */
  declare upgradeHref: string | undefined;

  #catalog = new Task(this, {
    task: async ([client, includeUnentitled], { signal }) => {
      if (!client) return initialState;
      try {
        const catalog = client.catalog(signal, { includeUnentitled });
        // The cards paint before the detail chunk compiles (it loads when the browser is idle).
        holdDetailLoadUntil(catalog.then(() => new Promise((painted) => requestAnimationFrame(() => setTimeout(painted, 0)))));
        // After the request has gone out (a task, not a microtask), while it is on its way.
        const locale = this.locale;
        setTimeout(() => prepareIntl(locale), 0);
        const { integrations } = await catalog;
        return integrations.map((summary): Entry => ({ summary }));
      } catch (error) {
        this.reportError('load-catalog', error);
        throw error;
      }
    },
    args: () => [this.apiClient, this.showUnentitled] as const,
  });

  #more: IntersectionObserver | undefined;

  constructor() {
    super();
    this.localStatus = {};
    this.query = '';
    this.category = '';
    this.activeOnly = false;
    this.limit = FIRST;
    this.detailMode = 'dialog';
    this.headingLevel = 2;
    this.showUnentitled = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.addEventListener('plug-instance-created', this.#onInstance);
    this.addEventListener('plug-config-saved', this.#onInstance);
    this.addEventListener('plug-instance-activated', this.#onInstance);
    this.addEventListener('plug-instance-paused', this.#onInstance);
    this.addEventListener('plug-connect', this.#onInstance);
    this.addEventListener('plug-instance-deleted', this.#onDeleted);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#more?.disconnect();
    this.#more = undefined;
    this.removeEventListener('plug-instance-created', this.#onInstance);
    this.removeEventListener('plug-config-saved', this.#onInstance);
    this.removeEventListener('plug-instance-activated', this.#onInstance);
    this.removeEventListener('plug-instance-paused', this.#onInstance);
    this.removeEventListener('plug-connect', this.#onInstance);
    this.removeEventListener('plug-instance-deleted', this.#onDeleted);
  }

  override willUpdate(changed: PropertyValues): void {
    super.willUpdate(changed);
    // A new search starts again from the first batch.
    if (changed.has('query') || changed.has('category') || changed.has('activeOnly')) {
      this.limit = FIRST;
    }
  }

  override updated(changed: PropertyValues): void {
    super.updated(changed);
    const sentinel = this.renderRoot.querySelector('.more');
    this.#more?.disconnect();
    if (!sentinel) return;
    this.#more ??= new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) this.limit += BATCH;
      },
      { rootMargin: '800px 0px' },
    );
    this.#more.observe(sentinel);
  }

  #onInstance = (event: CustomEvent<InstanceEventDetail | ConnectEventDetail>): void => {
    const { instance } = event.detail;
    if (!instance) return;
    // The card's "Connected as …", as the catalog would name it: connected accounts in connection-name order.
    const accountNames = instance.connections
      .filter((c) => c.status === 'connected' && c.accountName)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((c) => c.accountName!);
    this.localStatus = {
      ...this.localStatus,
      [instance.integrationKey]: { id: instance.id, status: instance.status, updatedAt: instance.updatedAt, ...(accountNames.length ? { accountNames } : {}) },
    };
  };

  #onDeleted = (event: CustomEvent<InstanceDeletedDetail>): void => {
    this.localStatus = { ...this.localStatus, [event.detail.integrationKey]: null };
  };

  #instanceOf(summary: IntegrationSummary): InstanceSummary {
    return summary.key in this.localStatus ? this.localStatus[summary.key]! : summary.instance;
  }

  #onOpen = async (event: CustomEvent<{ integration: IntegrationSummary }>): Promise<void> => {
    // Let the event reach listeners on the host page first: one of them may cancel it.
    await Promise.resolve();
    if (event.defaultPrevented) return;
    try {
      await loadDetailElements();
    } catch (error) {
      this.reportError('open-integration', error);
      return;
    }
    this.openKey = event.detail.integration.key;
  };

  #onClose = async (): Promise<void> => {
    const key = this.openKey;
    this.openKey = undefined;
    await this.updateComplete;
    // Back to the card that opened the detail, so keyboard users keep their place.
    const card = this.renderRoot.querySelector<HTMLElement>(`plug-integration-card[data-key="${CSS.escape(key ?? '')}"]`);
    card?.focus();
  };

  #matches(entry: Entry, needle: string): boolean {
    if (this.category && entry.summary.category !== this.category) return false;
    if (this.activeOnly && this.#instanceOf(entry.summary)?.status !== 'active') return false;
    if (needle === '') return true;
    const { name, description, category } = entry.summary;
    return (entry.haystack ??= `${name}\n${description}\n${category}`.toLowerCase()).includes(needle);
  }

  /** Reloads the catalog (what the error state's retry button does). */
  reload(): void {
    void this.#catalog.run();
  }

  #renderToolbar(entries: Entry[] | undefined, visible: number) {
    const categories = entries ? [...new Set(entries.map((e) => e.summary.category))].sort(collatorFor(this.locale).compare) : [];
    const heading = this.heading ?? this.t('marketplace.title');
    return html`
      <div part="toolbar" class="toolbar">
        ${heading ? html`<h2 id="heading" aria-level=${ariaLevel(clampLevel(this.headingLevel, 2), 2)}>${heading}</h2>` : nothing}
        <input
          part="search"
          class="search"
          type="search"
          aria-label=${this.t('marketplace.search')}
          placeholder=${this.t('marketplace.search')}
          .value=${this.query}
          @input=${(e: Event) => (this.query = (e.target as HTMLInputElement).value)}
        />
        <select
          part="category"
          class="category"
          aria-label=${this.t('marketplace.category')}
          .value=${this.category}
          @change=${(e: Event) => (this.category = (e.target as HTMLSelectElement).value)}
        >
          <option value="">${this.t('marketplace.allCategories')}</option>
          ${categories.map((c) => html`<option value=${c} ?selected=${c === this.category}>${c}</option>`)}
        </select>
        <label part="toggle" class="toggle">
          <input
            type="checkbox"
            .checked=${this.activeOnly}
            @change=${(e: Event) => (this.activeOnly = (e.target as HTMLInputElement).checked)}
          />
          ${this.t('marketplace.activeOnly')}
        </label>
        <span class="count" role="status">${entries ? this.t('marketplace.count', { count: visible }) : ''}</span>
      </div>
    `;
  }

  #renderGrid(entries: Entry[]) {
    const needle = this.query.trim().toLowerCase();
    const matches = entries.filter((entry) => this.#matches(entry, needle));
    const shown = matches.length > this.limit ? matches.slice(0, this.limit) : matches;
    const translations = this.translations ?? this.contextTranslations;
    const cardLevel = clampLevel(clampLevel(this.headingLevel, 2) + (this.heading === '' ? 0 : 1));
    const body =
      entries.length === 0
        ? html`<div part="message" class="message">${this.t('marketplace.emptyCatalog')}</div>`
        : html`
            <ul part="grid" class="grid" aria-labelledby=${this.heading === '' ? nothing : 'heading'} @plug-integration-open=${this.#onOpen}>
              ${repeat(
                shown,
                (entry) => entry.summary.key,
                (entry) => {
                  const instance = this.#instanceOf(entry.summary);
                  const summary = instance === entry.summary.instance ? entry.summary : { ...entry.summary, instance };
                  return html`<li>
                    <plug-integration-card
                      data-key=${entry.summary.key}
                      exportparts="card,icon,open,badge,badge-available,badge-draft,badge-active,badge-paused,badge-error,badge-higher-plan,upgrade"
                      .integration=${summary}
                      .translations=${translations}
                      heading-level=${cardLevel}
                      upgrade-href=${this.upgradeHref ?? nothing}
                      theme=${this.theme ?? nothing}
                    ></plug-integration-card>
                  </li>`;
                },
              )}
            </ul>
            ${shown.length < matches.length ? html`<div class="more"></div>` : nothing}
            ${matches.length === 0 ? html`<div part="message" class="message">${this.#emptyText(needle)}</div>` : nothing}
          `;
    return { body, visible: matches.length };
  }

  /** Why nothing is shown, in the terms of the filters in use (a search, a category, "Active only"). */
  #emptyText(needle: string): string {
    if (needle !== '') return this.t(this.activeOnly ? 'marketplace.emptyActiveSearch' : 'marketplace.empty');
    const category = this.category;
    if (this.activeOnly) return category ? this.t('marketplace.emptyActiveCategory', { category }) : this.t('marketplace.emptyActive');
    return this.t('marketplace.emptyCategory', { category });
  }

  #renderDetail() {
    if (!this.openKey) return nothing;
    return html`<plug-integration-dialog
      exportparts="dialog,panel,button,form,field,label,input,help,error,badge,icon,progress,toast"
      .client=${this.apiClient}
      .translations=${this.translations ?? this.contextTranslations}
      integration-key=${this.openKey}
      mode=${this.detailMode === 'inline' ? 'inline' : 'modal'}
      theme=${this.theme ?? nothing}
      lang=${this.locale ?? nothing}
      open
      @plug-dialog-close=${this.#onClose}
    ></plug-integration-dialog>`;
  }

  override render() {
    const inlineOpen = this.openKey !== undefined && this.detailMode === 'inline';
    const status = this.#catalog.status;
    // While a reload is pending, the catalog loaded before stays on screen.
    const entries = status === TaskStatus.COMPLETE || status === TaskStatus.PENDING ? this.#catalog.value : undefined;
    const grid = entries ? this.#renderGrid(entries) : undefined;
    const body =
      grid?.body ??
      (status === TaskStatus.ERROR
        ? html`<div part="message" class="message error" role="alert">
            <p>${this.t('marketplace.error')} ${this.describeError(this.#catalog.error)}</p>
            <button part="button" class="button" type="button" @click=${() => this.reload()}>${this.t('marketplace.retry')}</button>
          </div>`
        : html`<ul part="grid" class="grid" aria-busy="true" aria-label=${this.t('marketplace.loading')}>
            ${[0, 1, 2, 3, 4, 5].map(() => html`<li class="skeleton"></li>`)}
          </ul>`);
    // One toolbar in every state, updated in place: the catalog's arrival fills in its categories
    // and count instead of building the search box and the filters again (a visitor who started
    // typing while it loaded keeps the focus and the text).
    return html`
      <div ?hidden=${inlineOpen}>${this.#renderToolbar(entries, grid?.visible ?? 0)}${body}</div>
      ${this.#renderDetail()}
      <div class="visually-hidden" role="status" aria-live="polite">
        ${this.#catalog.status === TaskStatus.PENDING ? this.t('marketplace.loading') : ''}
      </div>
    `;
  }
}
