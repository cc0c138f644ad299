import { css } from 'lit';

export const vendorConsoleStyles = css`
  :host {
    --_list-width: var(--plug-console-list-width, 20rem);
    display: block;
    font-size: var(--_font-size);
  }
  .console {
    /* Narrow or wide by the room the host gives it, not by the window. */
    container-type: inline-size;
    display: flex;
    flex-direction: column;
    gap: var(--_space-m);
  }
  .header {
    display: flex;
    flex-wrap: wrap;
    gap: var(--_space-s) var(--_space-m);
    align-items: center;
    justify-content: space-between;
    padding-block-end: var(--_space-m);
    border-block-end: 1px solid var(--_color-border);
  }
  h2 {
    margin: 0;
    font-size: var(--_font-size-l);
  }
  h3,
  h4 {
    margin: 0;
  }
  .views {
    display: flex;
    gap: var(--_space-xs);
    margin-inline-end: auto;
  }
  .button.view {
    font-size: var(--_font-size);
  }
  .button.view[aria-current='page'] {
    background: var(--_color-surface-raised);
    border-color: var(--_color-border);
    color: var(--_color-text);
  }
  .filters,
  .bulk {
    display: flex;
    flex-wrap: wrap;
    gap: var(--_space-s) var(--_space-m);
    align-items: end;
  }
  .filters label,
  .bulk label {
    display: flex;
    flex-direction: column;
    gap: var(--_space-xs);
    flex: 1 1 10rem;
    color: var(--_color-text-muted);
    font-size: var(--_font-size-s);
  }
  .alert {
    display: grid;
    grid-template-columns: 11rem 11rem minmax(0, 1fr);
    gap: var(--_space-xs) var(--_space-m);
    align-items: center;
    padding: var(--_space-s) var(--_space-m);
    font-size: var(--_font-size-s);
  }
  .alert + .alert {
    border-block-start: 1px solid var(--_color-border);
  }
  .alert time {
    color: var(--_color-text-muted);
  }
  .alert-type {
    font-weight: var(--_font-weight-strong);
  }
  .alert-type[data-type='execution.failed'],
  .alert-type[data-type='instance.error'] {
    color: var(--_color-danger);
  }
  .alert-type[data-type='instance.recovered'],
  .alert-type[data-type='instance.activated'] {
    color: var(--_color-success);
  }
  .alert-what {
    display: flex;
    flex-wrap: wrap;
    gap: var(--_space-s);
    align-items: center;
  }
  .alert-detail {
    grid-column: 2 / -1;
    display: flex;
    flex-wrap: wrap;
    gap: var(--_space-xs) var(--_space-s);
  }
  .alert-detail:empty {
    display: none;
  }
  .alert-error {
    color: var(--_color-danger);
  }
  .staff {
    display: inline-flex;
    flex-wrap: wrap;
    gap: var(--_space-s);
    align-items: center;
    color: var(--_color-text-muted);
    font-size: var(--_font-size-s);
  }
  .role {
    padding: 0.125rem var(--_space-s);
    border-radius: 999px;
    background: var(--_color-surface-raised);
    border: 1px solid var(--_color-border);
    color: var(--_color-text);
    font-weight: var(--_font-weight-strong);
  }
  .panes {
    display: grid;
    grid-template-columns: minmax(0, var(--_list-width)) minmax(0, 1fr);
    gap: var(--_space-l);
    align-items: start;
  }
  .customers {
    display: flex;
    flex-direction: column;
    gap: var(--_space-s);
    position: sticky;
    top: var(--_space-m);
  }
  .search,
  .link {
    min-height: var(--_target);
    box-sizing: border-box;
    width: 100%;
    padding: 0 var(--_space-s);
    border: 1px solid var(--_color-border);
    border-radius: var(--_radius-m);
    background: var(--_color-surface);
    color: var(--_color-text);
    font: inherit;
  }
  .customer-list,
  .rows,
  .connections {
    margin: 0;
    padding: 0;
    list-style: none;
  }
  .customer-list {
    display: flex;
    flex-direction: column;
    border: 1px solid var(--_color-border);
    border-radius: var(--_radius-l);
    overflow: hidden;
    background: var(--_color-surface);
  }
  .customer-list > li + li {
    border-block-start: 1px solid var(--_color-border);
  }
  .customer {
    display: flex;
    flex-direction: column;
    gap: 0.125rem;
    width: 100%;
    min-height: var(--_target);
    padding: var(--_space-s) var(--_space-m);
    border: 0;
    border-inline-start: 3px solid transparent;
    background: transparent;
    color: var(--_color-text);
    font: inherit;
    text-align: start;
    cursor: pointer;
  }
  .customer:hover {
    background: var(--_color-surface-raised);
  }
  .customer[aria-current='true'] {
    border-inline-start-color: var(--_color-primary);
    background: var(--_color-surface-raised);
  }
  .customer-name {
    font-weight: var(--_font-weight-strong);
  }
  .customer-meta,
  .muted {
    color: var(--_color-text-muted);
    font-size: var(--_font-size-s);
  }
  .mono {
    font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
    font-size: 0.85em;
  }
  .skeleton {
    height: 3.5rem;
  }
  .detail,
  .alerts-view {
    display: flex;
    flex-direction: column;
    gap: var(--_space-m);
    min-width: 0;
  }
  .customer-head {
    display: flex;
    flex-wrap: wrap;
    gap: var(--_space-xs) var(--_space-m);
    align-items: baseline;
  }
  .customer-head h3 {
    font-size: var(--_font-size-l);
  }
  .section-title {
    color: var(--_color-text-muted);
    font-size: var(--_font-size-s);
    text-transform: uppercase;
    letter-spacing: 0.04em;
  }
  .back {
    display: none;
    align-self: flex-start;
    margin-inline-start: calc(-1 * var(--_space-xs));
  }
  .rows {
    display: flex;
    flex-direction: column;
    border: 1px solid var(--_color-border);
    border-radius: var(--_radius-l);
    background: var(--_color-surface);
    box-shadow: var(--_shadow);
  }
  .row {
    display: flex;
    flex-direction: column;
    gap: var(--_space-s);
    padding: var(--_space-m);
  }
  .row + .row {
    border-block-start: 1px solid var(--_color-border);
  }
  .row-main {
    display: grid;
    grid-template-columns: minmax(10rem, 2fr) minmax(7rem, 1fr) minmax(10rem, 2fr);
    gap: var(--_space-s) var(--_space-m);
    align-items: center;
  }
  .row-title {
    display: flex;
    flex-direction: column;
    gap: 0.125rem;
  }
  .row-title h4 {
    font-size: var(--_font-size);
  }
  .row-meta {
    grid-column: 1 / -1;
  }
  .connections {
    display: flex;
    flex-direction: column;
    gap: 0.125rem;
    font-size: var(--_font-size-s);
  }
  .connection {
    display: flex;
    flex-wrap: wrap;
    gap: 0 var(--_space-xs);
    align-items: center;
  }
  /* The connection's label, set apart from its state ("Ledgerly restricted key: Connected"). */
  .connection-label {
    font-weight: 600;
  }
  .connection-label::after {
    content: ':';
  }
  .dot {
    width: 0.5rem;
    height: 0.5rem;
    border-radius: 50%;
    background: var(--_color-text-muted);
    flex: none;
  }
  .connection[data-status='connected'] .dot {
    background: var(--_color-success);
  }
  .connection[data-status='expired'] .dot,
  .connection[data-status='needs_attention'] .dot {
    background: var(--_color-danger);
  }
  .connection[data-status='missing'] .dot {
    background: var(--_color-warning);
  }
  .badge[data-status='none'] {
    border-style: dashed;
  }
  .badge[data-status='none']::before {
    display: none;
  }
  .last-error {
    margin: 0;
    padding: var(--_space-s) var(--_space-m);
    border-inline-start: 3px solid var(--_color-danger);
    border-radius: var(--_radius-s);
    background: var(--_color-surface-raised);
    color: var(--_color-danger);
    font-size: var(--_font-size-s);
  }
  .row-actions,
  .actions {
    display: flex;
    flex-wrap: wrap;
    gap: var(--_space-s);
    align-items: center;
  }
  .confirm {
    flex-basis: 100%;
    padding: var(--_space-s) var(--_space-m);
    border: 1px solid var(--_color-danger);
    border-radius: var(--_radius-m);
  }
  .confirm p {
    flex-basis: 100%;
    margin: 0;
  }
  .button.quiet {
    /* A text button: its label lines up with the text above it. */
    padding-inline: var(--_space-xs);
    border-color: transparent;
    background: transparent;
    color: var(--_color-primary);
  }
  .send-link {
    font-size: var(--_font-size-s);
  }
  .send-link summary {
    cursor: pointer;
    color: var(--_color-primary);
    min-height: var(--_target);
    display: flex;
    align-items: center;
  }
  .send-link p {
    margin: var(--_space-xs) 0;
  }
  .link-row {
    display: flex;
    gap: var(--_space-s);
  }
  .runs {
    display: block;
    padding-block-start: var(--_space-s);
    border-block-start: 1px dashed var(--_color-border);
  }
  .update,
  .version-error {
    display: flex;
    flex-direction: column;
    gap: var(--_space-xs);
    margin: 0;
    padding: var(--_space-s) var(--_space-m);
    border-inline-start: 3px solid var(--_color-primary);
    border-radius: var(--_radius-s);
    background: var(--_color-surface-raised);
    font-size: var(--_font-size-s);
  }
  .version-error {
    border-inline-start-color: var(--_color-danger);
    color: var(--_color-danger);
  }
  .update p,
  .version-error p {
    margin: 0;
  }
  .update-title {
    font-weight: var(--_font-weight-strong);
  }
  .changelog summary {
    display: flex;
    align-items: center;
    min-height: var(--_target);
    color: var(--_color-primary);
    cursor: pointer;
  }
  .changelog ul,
  .version-error ul,
  .job-failures ul {
    margin: 0;
    padding-inline-start: var(--_space-l);
  }
  .changelog li + li {
    margin-block-start: var(--_space-xs);
  }
  .versions-view {
    display: flex;
    flex-direction: column;
    gap: var(--_space-m);
    min-width: 0;
  }
  .versions-view > p {
    margin: 0;
  }
  .version-title {
    display: flex;
    flex-wrap: wrap;
    gap: var(--_space-xs) var(--_space-s);
    align-items: baseline;
  }
  .version-title h3 {
    margin: 0;
    font-size: var(--_font-size);
    overflow-wrap: anywhere;
  }
  .version-title .mono,
  .job-meta {
    font-size: var(--_font-size-s);
  }
  .version-title .icon {
    align-self: center;
    width: 1.5rem;
    height: 1.5rem;
    border-radius: var(--_radius-s);
    object-fit: contain;
    box-shadow: 0 0 0 1px var(--_color-icon-ring);
  }
  .past-job > p {
    margin: 0;
  }
  .job-meta {
    display: flex;
    flex-wrap: wrap;
    gap: var(--_space-xs) var(--_space-m);
  }
  .job-details summary {
    cursor: pointer;
  }
  .versions,
  .job-failures {
    display: flex;
    flex-direction: column;
    gap: var(--_space-xs);
    margin: 0;
    padding: 0;
    list-style: none;
    font-size: var(--_font-size-s);
  }
  .versions > li {
    display: flex;
    flex-wrap: wrap;
    gap: var(--_space-s);
    align-items: center;
  }
  .version-row > p {
    margin: 0;
  }
  .job {
    display: flex;
    flex-direction: column;
    gap: var(--_space-s);
  }
  .job-title {
    margin: 0;
    font-weight: var(--_font-weight-strong);
  }
  .job progress,
  .past-job progress {
    width: 100%;
    height: 0.75rem;
    accent-color: var(--_color-primary);
  }
  .job-failures > li {
    display: flex;
    flex-wrap: wrap;
    gap: var(--_space-xs) var(--_space-s);
    padding: var(--_space-s) var(--_space-m);
    border-inline-start: 3px solid var(--_color-danger);
    border-radius: var(--_radius-s);
    background: var(--_color-surface-raised);
  }
  .job-failures > li > ul {
    flex-basis: 100%;
  }
  .message {
    margin: 0;
    padding: var(--_space-xl) var(--_space-m);
    border: 1px dashed var(--_color-border);
    border-radius: var(--_radius-l);
    color: var(--_color-text-muted);
    text-align: center;
  }
  .message.error {
    border-color: var(--_color-danger);
    color: var(--_color-danger);
  }
  .message p {
    margin: 0 0 var(--_space-m);
  }
  .more {
    align-self: center;
  }
  .notice {
    position: fixed;
    inset-block-end: var(--_space-m);
    inset-inline-end: var(--_space-m);
    max-width: min(28rem, calc(100vw - 2 * var(--_space-m)));
    margin: 0;
    padding: var(--_space-s) var(--_space-m);
    border-radius: var(--_radius-m);
    background: var(--_color-text);
    color: var(--_color-surface);
    box-shadow: var(--_shadow);
    font-size: var(--_font-size-s);
  }
  /* Narrow: one pane at a time; a chosen customer replaces the list, with a way back. */
  @container (max-width: 760px) {
    .panes {
      grid-template-columns: minmax(0, 1fr);
    }
    .customers {
      position: static;
    }
    .console[data-selected='yes'] .customers,
    .console[data-selected='no'] .detail {
      display: none;
    }
    .back {
      display: inline-flex;
    }
    .row-main {
      grid-template-columns: minmax(0, 1fr) auto;
    }
    .row-health {
      grid-column: 1 / -1;
    }
    /* A run's log gets the row's whole width on a phone. */
    .runs {
      margin-inline: calc(-1 * var(--_space-s));
    }
    .alert {
      grid-template-columns: minmax(0, 1fr) auto;
    }
    .alert-what,
    .alert-detail {
      grid-column: 1 / -1;
    }
  }
  /* On a phone the control just used is low on the screen: the toast goes to the top, away from it
     (the viewport's width, not the console's: the toast is fixed to the viewport). */
  @media (max-width: 760px) {
    .notice {
      inset-block: var(--_space-s) auto;
      inset-inline: var(--_space-s);
      max-width: none;
    }
  }
`;
