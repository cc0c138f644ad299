import { css } from 'lit';

/**
 * What `<plug-integration-setup>` draws: overview, wizard, connections, confirmations. It renders
 * into the dialog's shadow root, so these are part of the dialog's styles.
 */
export const setupStyles = css`
  h3,
  h4 {
    margin: 0;
    font-size: var(--_font-size);
  }
  p {
    margin: 0;
  }
  .muted {
    color: var(--_color-text-muted);
    font-size: var(--_font-size-s);
  }
  section {
    display: flex;
    flex-direction: column;
    gap: var(--_space-s);
  }
  ul.needs {
    margin: 0;
    padding-inline-start: var(--_space-l);
  }
  .connection {
    display: flex;
    flex-direction: column;
    gap: var(--_space-s);
    padding: var(--_space-m);
    border: 1px solid var(--_color-border);
    border-radius: var(--_radius-m);
  }
  .connection-head {
    display: flex;
    justify-content: space-between;
    gap: var(--_space-s);
    align-items: center;
  }
  /* The stepper: a bar per step with its name under it; done and current steps in the brand color. */
  .progress {
    display: flex;
    gap: var(--_space-s);
    margin: 0;
    padding: 0;
    list-style: none;
    counter-reset: step;
  }
  .progress li {
    display: flex;
    flex: 1;
    min-width: 0;
    gap: var(--_space-xs);
    align-items: baseline;
    padding-block-start: var(--_space-s);
    border-block-start: 4px solid var(--_color-border);
    color: var(--_color-text-muted);
    font-size: var(--_font-size-s);
  }
  .progress li[data-done] {
    border-block-start-color: var(--_color-primary);
  }
  .progress li[aria-current='step'] {
    color: var(--_color-text);
    font-weight: var(--_font-weight-strong);
  }
  .step-number::after {
    content: '.';
  }
  .step-title {
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
  }
  /* A phone: only the current step's name fits; the others keep their bar (and stay in the list). */
  @media (max-width: 600px) {
    .progress li[aria-current='step'] {
      flex: 3;
    }
    .progress li:not([aria-current='step']) .step-number::after {
      content: none;
    }
    .progress li:not([aria-current='step']) .step-title {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip-path: inset(50%);
    }
  }
  .actions {
    display: flex;
    flex-wrap: wrap;
    gap: var(--_space-s);
    justify-content: flex-end;
  }
  .actions .spacer {
    flex: 1;
  }
  /* A phone: the actions share the row (a thumb reaches them), the primary one last. */
  @media (max-width: 600px) {
    .actions > .button {
      flex: 1 1 auto;
    }
    .actions .spacer {
      display: none;
    }
  }
  .alert {
    padding: var(--_space-s) var(--_space-m);
    border: 1px solid var(--_color-danger);
    border-radius: var(--_radius-m);
    color: var(--_color-danger);
  }
  .alert ul {
    margin: var(--_space-xs) 0 0;
    padding-inline-start: var(--_space-l);
  }
  .notice {
    padding: var(--_space-s) var(--_space-m);
    border: 1px solid var(--_color-warning);
    border-radius: var(--_radius-m);
    color: var(--_color-warning);
  }
  .update {
    padding: var(--_space-s) var(--_space-m);
    border: 1px solid var(--_color-primary);
    border-radius: var(--_radius-m);
  }
  .changelog {
    display: grid;
    grid-template-columns: max-content 1fr;
    gap: var(--_space-xs) var(--_space-m);
    margin: 0;
  }
  .changelog dt {
    font-weight: 600;
  }
  .changelog dd {
    margin: 0;
  }
`;
