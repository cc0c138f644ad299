import { html, nothing, type PropertyDeclarations } from 'lit';
import type { IntegrationSummary } from '../../protocol/index.js';
import { PlugElement } from '../base/plug-element.js';
import { connectionStatusText, format, type Translations } from '../i18n.js';
import { badgeLabelKey, badgeStyles, renderStatusBadge } from '../instance-status/status-badge.js';
import { tokens } from '../themes/tokens.js';
import { renderIcon } from './icon.js';
import { cardStyles } from './integration-card.styles.js';

/** A heading level a host asked for, kept to what a heading under the page's `h1` can be (2–6). */
export function clampLevel(level: number | null | undefined, fallback = 3): number {
  return Math.min(6, Math.max(2, Math.round(level ?? fallback) || fallback));
}

/** `aria-level` of an `<h{native}>` placed at `level` of the host page's outline: none when they agree. */
export function ariaLevel(level: number, native: number): number | typeof nothing {
  return level === native ? nothing : level;
}

/**
 * @customElement plug-integration-card
 * @summary One integration of the catalog: icon, name, category, description and status badge.
 *
 * @event {CustomEvent<{integration: IntegrationSummary}>} plug-integration-open - The customer opened the card. Cancelable.
 * @event {CustomEvent<{integration: IntegrationSummary}>} plug-upgrade-request - The customer asked for an integration its plan lacks (`entitled: false`). Cancelable: cancel it to stop `upgrade-href`'s navigation.
 *
 * @csspart card - The card's box.
 * @csspart icon - The icon (an image, or a letter tile).
 * @csspart open - The button on the name that opens the integration.
 * @csspart badge - The status badge (also `badge-available`, `badge-draft`, `badge-active`, `badge-paused`, `badge-error`).
 * @csspart upgrade - The call to action of an integration on a higher plan (a link with `upgrade-href`, else a button).
 * @csspart badge-higher-plan - The badge of an integration on a higher plan.
 * @csspart account - "Connected as …": the accounts the instance's connections are connected as, when the integration names them.
 *
 * @cssproperty --plug-card-background - Card background (default `--plug-color-surface`).
 * @cssproperty --plug-card-border-color - Card border (default `--plug-color-border`).
 * @cssproperty --plug-card-radius - Corner radius (default `--plug-radius-l`).
 * @cssproperty --plug-card-padding - Inner space (default `--plug-space-m`).
 */
export class PlugIntegrationCard extends PlugElement {
  static override styles = [tokens, badgeStyles, cardStyles];
  static override shadowRootOptions: ShadowRootInit = { ...PlugElement.shadowRootOptions, delegatesFocus: true };
  // No decorators in the eager core (see PlugApiElement).
  static override properties: PropertyDeclarations = {
    integration: { attribute: false },
    translations: { attribute: false },
    headingLevel: { type: Number, attribute: 'heading-level' },
    upgradeHref: { attribute: 'upgrade-href' },
    theme: { reflect: true },
  };

  /** The catalog entry to show. */
  declare integration: IntegrationSummary | undefined;

  /** Replacement strings (keys in `i18n.ts`). */
  declare translations: Translations | undefined;

  /**
   * Level of the card's heading in the host page's outline (2–6; default 3, under the
   * marketplace's `h2`). `<plug-marketplace heading-level>` sets it on its cards.
   */
  declare headingLevel: number;

  /** Where the call to action of an integration on a higher plan leads (the host's plans or upgrade page); without it the card shows a button that only fires `plug-upgrade-request`. */
  declare upgradeHref: string | undefined;

  /** `light` or `dark` forces one; `auto` follows the visitor's system (`prefers-color-scheme`); unset follows the host page's `color-scheme`. */
  declare theme: 'light' | 'dark' | 'auto' | undefined;

  constructor() {
    super();
    this.headingLevel = 3;
  }

  #open(): void {
    if (!this.integration) return;
    this.emit('plug-integration-open', { detail: { integration: this.integration }, cancelable: true });
  }

  #upgrade(event: Event): void {
    if (!this.integration) return;
    const go = this.emit('plug-upgrade-request', { detail: { integration: this.integration }, cancelable: true });
    if (!go) event.preventDefault();
  }

  /** An integration the customer's plan lacks: no way to set it up here, a badge saying so, and the host's call to action. */
  #renderLocked(i: IntegrationSummary) {
    const label = format(this.translations, 'card.upgrade');
    const cta = this.upgradeHref
      ? html`<a part="upgrade" class="upgrade" href=${this.upgradeHref} aria-describedby="name" @click=${this.#upgrade}>${label}</a>`
      : html`<button part="upgrade" class="upgrade" type="button" aria-describedby="name" @click=${this.#upgrade}>${label}</button>`;
    return html`
      <article part="card" class="card locked">
        <div class="head">
          ${renderIcon(i.icon, i.name)}
          <div>
            <h3 id="name" aria-level=${ariaLevel(clampLevel(this.headingLevel), 3)}>${i.name}</h3>
            <p class="category">${i.category}</p>
          </div>
        </div>
        <p class="description">${i.description}</p>
        <div class="status">
          <span part="badge badge-higher-plan" class="badge" data-status="higher-plan">${format(this.translations, 'card.higherPlan')}</span>
          ${cta}
        </div>
      </article>
    `;
  }

  override render() {
    const i = this.integration;
    if (!i) return html``;
    // An instance it already has stays manageable even if the plan no longer includes it.
    if (i.entitled === false && !i.instance) return this.#renderLocked(i);
    const status = i.instance?.status ?? 'available';
    const accounts = i.instance?.accountNames ?? [];
    return html`
      <article part="card" class="card">
        <div class="head">
          ${renderIcon(i.icon, i.name)}
          <div>
            <h3 aria-level=${ariaLevel(clampLevel(this.headingLevel), 3)}>
              <button part="open" class="open" type="button" aria-describedby="description status" @click=${this.#open}>
                ${i.name}
              </button>
            </h3>
            <p class="category">${i.category}</p>
          </div>
        </div>
        <p class="description" id="description">${i.description}</p>
        <div id="status" class="status">
          ${renderStatusBadge(status, format(this.translations, badgeLabelKey(status)))}
          ${
            accounts.length
              ? html`<span part="account" class="account">${connectionStatusText((key, vars) => format(this.translations, key, vars), 'connected', accounts.join(', '))}</span>`
              : nothing
          }
        </div>
      </article>
    `;
  }
}
