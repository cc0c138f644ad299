import { css } from 'lit';

export const executionLogStyles = css`
  :host {
    --_log-background: var(--plug-log-background, var(--_color-surface-raised));
    --_log-font-family: var(--plug-log-font-family, ui-monospace, SFMono-Regular, Menlo, Consolas, monospace);
    display: block;
  }
  .base {
    /* Narrow by the room it is given (a console row on a phone), not by the window. */
    container-type: inline-size;
    display: flex;
    flex-direction: column;
    gap: var(--_space-s);
  }
  p {
    margin: 0;
  }
  .muted {
    color: var(--_color-text-muted);
    font-size: var(--_font-size-s);
  }
  .toolbar {
    display: flex;
    gap: var(--_space-s);
    align-items: center;
    font-size: var(--_font-size-s);
  }
  select {
    min-height: var(--_target);
    padding: 0 var(--_space-s);
    border: 1px solid var(--_color-border);
    border-radius: var(--_radius-m);
    background: var(--_color-surface);
    color: var(--_color-text);
    font: inherit;
  }
  .list {
    display: flex;
    flex-direction: column;
    margin: 0;
    padding: 0;
    list-style: none;
    border: 1px solid var(--_color-border);
    border-radius: var(--_radius-m);
  }
  .item + .item {
    border-top: 1px solid var(--_color-border);
  }
  .toggle {
    display: flex;
    flex-wrap: wrap;
    gap: var(--_space-xs) var(--_space-s);
    align-items: center;
    width: 100%;
    min-height: var(--_target);
    padding: var(--_space-s) var(--_space-m);
    border: 0;
    background: transparent;
    color: inherit;
    font: inherit;
    text-align: start;
    cursor: pointer;
  }
  .chevron {
    width: 0.5em;
    height: 0.5em;
    border-right: 2px solid currentColor;
    border-bottom: 2px solid currentColor;
    transform: rotate(-45deg);
    transition: transform 0.15s;
  }
  .toggle[aria-expanded='true'] .chevron {
    transform: rotate(45deg);
  }
  .flow {
    font-weight: var(--_font-weight-strong);
    overflow-wrap: anywhere;
  }
  .meta {
    display: flex;
    flex-wrap: wrap;
    gap: var(--_space-s);
    margin-inline-start: auto;
    color: var(--_color-text-muted);
    font-size: var(--_font-size-s);
  }
  .badge[data-status='succeeded'] {
    --_badge-color: var(--_color-success);
  }
  .badge[data-status='failed'],
  .badge[data-status='timed_out'] {
    --_badge-color: var(--_color-danger);
  }
  .badge[data-status='running'],
  .badge[data-status='queued'] {
    --_badge-color: var(--_color-primary);
  }
  .log {
    display: flex;
    flex-direction: column;
    gap: var(--_space-s);
    margin: 0 var(--_space-m) var(--_space-m);
    padding: var(--_space-s) var(--_space-m);
    border-radius: var(--_radius-s);
    background: var(--_log-background);
  }
  .lines {
    margin: 0;
    padding: 0;
    list-style: none;
    font-family: var(--_log-font-family);
    font-size: var(--_font-size-s);
  }
  .line {
    display: flex;
    gap: var(--_space-s);
    align-items: baseline;
  }
  .level {
    flex: 0 0 3.5em;
    text-transform: uppercase;
    color: var(--_color-text-muted);
  }
  .line[data-level='warn'] .level {
    color: var(--_color-warning);
  }
  .line[data-level='error'] .level,
  .error-text {
    color: var(--_color-danger);
  }
  .line time {
    flex: none;
    color: var(--_color-text-muted);
  }
  .message {
    white-space: pre-wrap;
    overflow-wrap: anywhere;
  }
  .truncated {
    font-size: var(--_font-size-s);
    font-style: italic;
    color: var(--_color-warning);
  }
  .details summary {
    display: flex;
    align-items: center;
    gap: var(--_space-xs);
    min-height: var(--_target);
    list-style: none;
    cursor: pointer;
  }
  .details summary::-webkit-details-marker {
    display: none;
  }
  /* Flex drops the marker: the run's own chevron instead. */
  .details summary::before {
    content: '';
    width: 0.45em;
    height: 0.45em;
    border-right: 2px solid currentColor;
    border-bottom: 2px solid currentColor;
    transform: rotate(-45deg);
  }
  .details[open] summary::before {
    transform: rotate(45deg);
  }
  /* The raw result wraps inside the run: on a phone it is read, not clipped off the sheet's edge. */
  .details pre {
    margin: 0;
    white-space: pre-wrap;
    overflow-wrap: anywhere;
    font-family: var(--_log-font-family);
    font-size: var(--_font-size-s);
  }
  .alert {
    padding: var(--_space-s) var(--_space-m);
    border: 1px solid var(--_color-danger);
    border-radius: var(--_radius-m);
    color: var(--_color-danger);
  }
  /* Narrow: a line's message gets the whole width below its level and time, and the log the run's. */
  @container (max-width: 30rem) {
    .log {
      margin-inline: 0;
      padding-inline: var(--_space-s);
    }
    .line {
      flex-wrap: wrap;
      gap: 0 var(--_space-s);
    }
    .line + .line {
      margin-block-start: var(--_space-xs);
    }
    .message {
      flex-basis: 100%;
    }
  }
  .button[aria-disabled='true'] {
    opacity: 0.55;
    cursor: progress;
  }
`;
