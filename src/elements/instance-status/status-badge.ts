import { css, html, type TemplateResult } from 'lit';
import type { InstanceStatus } from '../../protocol/index.js';
import type { StringKey } from '../i18n.js';

/** What a badge shows: an instance's status, or `available` when the customer has none. */
export type BadgeStatus = InstanceStatus | 'available';

export function badgeLabelKey(status: BadgeStatus): StringKey {
  return `status.${status}`;
}

/** A status badge; parts `badge` and `badge-<status>` let a host restyle one status. */
export function renderStatusBadge(status: BadgeStatus, label: string): TemplateResult {
  return html`<span part="badge badge-${status}" class="badge" data-status=${status}>${label}</span>`;
}

export const badgeStyles = css`
  .badge {
    --_badge-color: var(--plug-badge-color, var(--_color-text-muted));
    display: inline-flex;
    align-items: center;
    gap: var(--_space-xs);
    padding: 0.125rem var(--_space-s);
    border: 1px solid currentColor;
    border-radius: var(--plug-badge-radius, 999px);
    color: var(--_badge-color);
    font-size: var(--_font-size-s);
    font-weight: var(--_font-weight-strong);
    line-height: 1.4;
    white-space: nowrap;
  }
  .badge::before {
    content: '';
    width: 0.5em;
    height: 0.5em;
    border-radius: 50%;
    background: currentColor;
  }
  .badge[data-status='active'] {
    --_badge-color: var(--plug-badge-active-color, var(--_color-success));
  }
  .badge[data-status='paused'],
  .badge[data-status='draft'] {
    --_badge-color: var(--plug-badge-paused-color, var(--_color-warning));
  }
  .badge[data-status='error'] {
    --_badge-color: var(--plug-badge-error-color, var(--_color-danger));
  }
`;
