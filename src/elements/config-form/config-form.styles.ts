import { css } from 'lit';

export const styles = css`
  :host {
    --_gap: var(--plug-config-form-gap, var(--_space-m));
    --_input-background: var(--plug-config-form-input-background, var(--_color-surface));
    --_input-border-color: var(--plug-config-form-input-border-color, var(--_color-border));
    display: block;
    font-size: var(--_font-size);
  }
  .fields {
    display: flex;
    flex-direction: column;
    gap: var(--_gap);
  }
  .field {
    display: flex;
    flex-direction: column;
    gap: var(--_space-xs);
    min-width: 0;
  }
  fieldset.field {
    margin: 0;
    padding: 0;
    border: 0;
  }
  .label {
    font-weight: var(--_font-weight-strong);
    padding: 0;
  }
  .required {
    color: var(--_color-danger);
    margin-inline-start: 0.2em;
  }
  input:not([type='checkbox'], [type='radio']),
  textarea,
  select {
    box-sizing: border-box;
    width: 100%;
    font: inherit;
    color: var(--_color-text);
    background: var(--_input-background);
    border: 1px solid var(--_input-border-color);
    border-radius: var(--_radius-s);
    padding: var(--_space-s);
  }
  textarea {
    resize: vertical;
  }
  textarea.code {
    font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
    font-size: var(--_font-size-s);
  }
  input:disabled,
  textarea:disabled,
  select:disabled,
  button:disabled {
    opacity: 0.6;
    cursor: not-allowed;
  }
  [aria-invalid='true']:not([type='checkbox'], [type='radio']) {
    border-color: var(--_color-danger);
  }
  input[type='checkbox'],
  input[type='radio'] {
    accent-color: var(--_color-primary);
    width: 1.1em;
    height: 1.1em;
    margin: 0;
  }
  .choice {
    display: flex;
    align-items: center;
    gap: var(--_space-s);
    padding-block: var(--_space-xs);
  }
  .switch {
    display: grid;
    grid-template-columns: auto 1fr;
    align-items: center;
    column-gap: var(--_space-s);
  }
  .switch > .help,
  .switch > .error {
    grid-column: 1 / -1;
  }
  input[role='switch'] {
    appearance: none;
    position: relative;
    width: 2.25em;
    height: 1.25em;
    border-radius: 999px;
    background: var(--_color-border);
    cursor: pointer;
    transition: background 0.15s;
  }
  input[role='switch']::after {
    content: '';
    position: absolute;
    top: 0.15em;
    left: 0.15em;
    width: 0.95em;
    height: 0.95em;
    border-radius: 50%;
    background: var(--_color-surface);
    transition: transform 0.15s;
  }
  input[role='switch']:checked {
    background: var(--_color-primary);
  }
  input[role='switch']:checked::after {
    transform: translateX(1em);
  }
  .help {
    color: var(--_color-text-muted);
    font-size: var(--_font-size-s);
  }
  .error {
    color: var(--_color-danger);
    font-size: var(--_font-size-s);
  }
  .error:empty {
    margin-top: calc(-1 * var(--_space-xs));
  }
  .form-errors {
    color: var(--_color-danger);
    border: 1px solid var(--_color-danger);
    border-radius: var(--_radius-s);
    padding: var(--_space-s) var(--_space-m);
    margin-block-end: var(--_gap);
  }
  .form-errors p,
  .form-errors ul {
    margin: 0;
  }
  .combo {
    position: relative;
  }
  /* The picker reads as a select: a chevron at the end (drawn, so no image for a CSP to block). */
  .combo::after {
    content: '';
    position: absolute;
    inset-inline-end: 0.85rem;
    top: 50%;
    width: 0.45rem;
    height: 0.45rem;
    border-inline-end: 2px solid var(--_color-text-muted);
    border-block-end: 2px solid var(--_color-text-muted);
    transform: translateY(-70%) rotate(45deg);
    pointer-events: none;
  }
  .combo [role='combobox'] {
    padding-inline-end: 2.25rem;
  }
  .combo:has(.clear) [role='combobox'] {
    padding-inline-end: 4.5rem;
  }
  .combo .clear {
    position: absolute;
    inset-inline-end: 2rem;
    top: 50%;
    transform: translateY(-50%);
  }
  button {
    font: inherit;
    color: var(--_color-text);
    background: var(--_color-surface-raised);
    border: 1px solid var(--_color-border);
    border-radius: var(--_radius-s);
    padding: 0 var(--_space-s);
    cursor: pointer;
  }
  /* A finger: every control at least 44 px (WCAG 2.5.5). */
  @media (pointer: coarse), (max-width: 600px) {
    input:not([type='checkbox'], [type='radio']),
    select,
    button,
    .choice,
    [role='option'] {
      min-height: 44px;
    }
    [role='option'] {
      display: flex;
      align-items: center;
    }
    /* A switch is tapped on its label too: the label fills a 44 px row. */
    .switch > .label {
      display: flex;
      align-items: center;
      min-height: 44px;
    }
    button {
      min-width: 44px;
    }
  }
  .retry {
    align-self: flex-start;
  }
  .listbox {
    position: absolute;
    z-index: 10;
    inset-inline: 0;
    top: calc(100% + 2px);
    margin: 0;
    padding: var(--_space-xs) 0;
    list-style: none;
    max-height: 16rem;
    overflow-y: auto;
    background: var(--_color-surface);
    border: 1px solid var(--_color-border);
    border-radius: var(--_radius-s);
    box-shadow: var(--_shadow);
  }
  [role='option'] {
    padding: var(--_space-xs) var(--_space-s);
    cursor: pointer;
  }
  [role='option']:hover,
  [role='option'].active {
    background: var(--_color-surface-raised);
    outline: 2px solid var(--_color-focus);
    outline-offset: -2px;
  }
  [role='option'][aria-selected='true'] {
    font-weight: var(--_font-weight-strong);
  }
  [role='option'][aria-selected='true']::before {
    content: '✓ ';
  }
  .chips {
    display: flex;
    flex-wrap: wrap;
    gap: var(--_space-xs);
    margin: 0;
    padding: 0;
    list-style: none;
  }
  .chip {
    display: inline-flex;
    align-items: center;
    gap: var(--_space-xs);
    padding: 0 0 0 var(--_space-s);
    border: 1px solid var(--_color-border);
    border-radius: var(--_radius-m);
    background: var(--_color-surface-raised);
  }
  .chip button {
    border: 0;
    background: transparent;
  }
  .picker-status {
    color: var(--_color-text-muted);
    font-size: var(--_font-size-s);
  }
  /* A mapping: rows of "target ← source" in two columns under one header; stacked when narrow. */
  .mapping {
    container-type: inline-size;
  }
  .mapping-head,
  .mapping-row {
    display: grid;
    grid-template-columns: minmax(0, 1fr) auto minmax(0, 1fr) max(2.75rem, var(--_target));
    column-gap: var(--_space-s);
    align-items: center;
  }
  .mapping-head {
    color: var(--_color-text-muted);
    font-size: var(--_font-size-s);
  }
  .mapping-row > .mapping-error {
    grid-column: 1 / -1;
  }
  .mapping-error:empty {
    display: none;
  }
  .mapping-arrow {
    color: var(--_color-text-muted);
  }
  /* rem follows the host's root size (Acme's is 15 px): never under the 44 px touch target. */
  .mapping-remove {
    min-height: max(2.75rem, var(--_target));
    min-width: max(2.75rem, var(--_target));
  }
  .mapping-actions {
    display: flex;
    flex-wrap: wrap;
    gap: var(--_space-s);
  }
  .mapping-add,
  .mapping-actions .retry {
    min-height: max(2.75rem, var(--_target));
  }
  .mapping-none {
    margin: 0;
  }
  @container (max-width: 30rem) {
    .mapping-head {
      display: none;
    }
    /* Each row a small card: both fields under their own visible labels, remove at the top end. */
    .mapping-row {
      grid-template-columns: minmax(0, 1fr) max(2.75rem, var(--_target));
      row-gap: var(--_space-xs);
      padding: var(--_space-s);
      border: 1px solid var(--_color-border);
      border-radius: var(--_radius-s);
    }
    .mapping-cell {
      grid-column: 1;
    }
    .mapping-row > :nth-child(1) {
      grid-row: 1;
    }
    .mapping-row > .mapping-remove,
    .mapping-row > .mapping-remove-space {
      grid-column: 2;
      grid-row: 1;
      align-self: end;
    }
    .mapping-arrow {
      display: none;
    }
    /* Over the visually-hidden rule below: narrow rows show their labels. */
    .mapping-row .mapping-label {
      position: static;
      width: auto;
      height: auto;
      overflow: visible;
      clip-path: none;
      white-space: normal;
      display: block;
      font-size: var(--_font-size-s);
      color: var(--_color-text-muted);
    }
  }
  /* Wide, the header names a mapping's columns once and each select's label is for screen readers. */
  .visually-hidden,
  .mapping-label {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }
`;
