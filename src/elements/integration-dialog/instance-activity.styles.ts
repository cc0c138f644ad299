import { css } from 'lit';

/** The activity section of an instance (webhook URLs and secrets, its runs). */
export const instanceActivityStyles = css`
  .webhooks {
    display: flex;
    flex-direction: column;
    gap: var(--_space-m);
    margin: 0;
    padding: 0;
    list-style: none;
  }
  .webhook {
    display: flex;
    flex-direction: column;
    gap: var(--_space-xs);
  }
  .copy-row {
    display: flex;
    flex-direction: column;
    gap: var(--_space-xs);
    font-size: var(--_font-size-s);
  }
  .copy-field {
    display: flex;
    gap: var(--_space-s);
  }
  .copy-field input {
    flex: 1;
    min-width: 0;
    min-height: var(--_target);
    box-sizing: border-box;
    padding: 0 var(--_space-s);
    border: 1px solid var(--_color-border);
    border-radius: var(--_radius-m);
    background: var(--_color-surface-raised);
    color: var(--_color-text);
    font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
    font-size: var(--_font-size-s);
  }
`;
