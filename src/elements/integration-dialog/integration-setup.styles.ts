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
  .progress {
    display: flex;
    gap: var(--_space-xs);
    margin: 0;
    padding: 0;
    list-style: none;
  }
  .progress li {
    flex: 1;
    height: 4px;
    border-radius: 2px;
    background: var(--_color-border);
  }
  .progress li[data-done] {
    background: var(--_color-primary);
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
`;
