import { Task, initialState } from '@lit/task';
import { html, type PropertyDeclarations } from 'lit';
import type { InstanceStatus } from '../../protocol/index.js';
import { PlugApiElement } from '../base/api-element.js';
import type { InstanceDeletedDetail, InstanceEventDetail } from '../events.js';
import { tokens } from '../themes/tokens.js';
import { instanceStatusStyles } from './instance-status.styles.js';
import { badgeLabelKey, badgeStyles, renderStatusBadge, type BadgeStatus } from './status-badge.js';

const CHANGES = ['plug-instance-created', 'plug-config-saved', 'plug-instance-activated', 'plug-instance-paused'] as const;

/**
 * @customElement plug-instance-status
 * @summary The status of one instance as a small badge, for anywhere in the host app. Reads
 * `GET /instances/:id` once, then follows the instance events other Plugboard elements fire
 * on the page.
 *
 * @event {CustomEvent<ErrorEventDetail>} plug-error - The status could not be read.
 *
 * @csspart badge - The badge (also `badge-draft`, `badge-active`, `badge-paused`, `badge-error`, `badge-available` after a delete).
 *
 * @cssproperty --plug-badge-color - Text and dot color of a badge with no status color.
 * @cssproperty --plug-badge-active-color - Active (default `--plug-color-success`).
 * @cssproperty --plug-badge-paused-color - Paused and draft (default `--plug-color-warning`).
 * @cssproperty --plug-badge-error-color - Needs attention (default `--plug-color-danger`).
 * @cssproperty --plug-badge-radius - Corner radius (default: a pill).
 */
export class PlugInstanceStatus extends PlugApiElement {
  static override styles = [tokens, badgeStyles, instanceStatusStyles];
  // No decorators in the eager core (see PlugApiElement).
  static override properties: PropertyDeclarations = {
    live: { state: true },
    instanceId: { attribute: 'instance-id' },
  };

  /** A status learnt from an event after the read; wins over the read. */
  declare private live: BadgeStatus | undefined;

  /** The instance to show. */
  declare instanceId: string | undefined;

  #status = new Task(this, {
    task: async ([client, id], { signal }): Promise<InstanceStatus | typeof initialState> => {
      if (!client || !id) return initialState;
      try {
        return (await client.instance(id, signal)).status;
      } catch (error) {
        this.reportError('load-instance', error);
        throw error;
      }
    },
    args: () => [this.apiClient, this.instanceId] as const,
  });

  override connectedCallback(): void {
    super.connectedCallback();
    for (const name of CHANGES) document.addEventListener(name, this.#onChange);
    document.addEventListener('plug-instance-deleted', this.#onDeleted);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const name of CHANGES) document.removeEventListener(name, this.#onChange);
    document.removeEventListener('plug-instance-deleted', this.#onDeleted);
  }

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    super.willUpdate(changed);
    if (changed.has('instanceId')) this.live = undefined;
  }

  #onChange = (event: CustomEvent<InstanceEventDetail>): void => {
    if (event.detail.instance.id === this.instanceId) this.live = event.detail.instance.status;
  };

  #onDeleted = (event: CustomEvent<InstanceDeletedDetail>): void => {
    if (event.detail.instanceId === this.instanceId) this.live = 'available';
  };

  /** Reads the status again. */
  refresh(): void {
    this.live = undefined;
    void this.#status.run();
  }

  override render() {
    const badge = (status: BadgeStatus) => renderStatusBadge(status, this.t(badgeLabelKey(status)));
    const loading = () => html`<span class="muted">${this.t('status.loading')}</span>`;
    return html`<span role="status">${
      this.live
        ? badge(this.live)
        : this.#status.render({
            initial: loading,
            pending: loading,
            complete: (status) => badge(status),
            error: () => html`<span class="muted">${this.t('status.unknown')}</span>`,
          })
    }</span>`;
  }
}
