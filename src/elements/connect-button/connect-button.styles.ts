import { css } from 'lit';

export const connectButtonStyles = css`
  :host {
    display: block;
    --_gap: var(--plug-connect-gap, var(--_space-s));
  }
  .row {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    justify-content: space-between;
    gap: var(--_gap);
  }
  .status {
    display: inline-flex;
    align-items: center;
    gap: var(--_space-s);
    font-size: var(--_font-size-s);
  }
  .label {
    font-weight: var(--_font-weight-strong);
  }
  .badge {
    color: var(--_color-text-muted);
  }
  .status[data-status='connected'] .badge {
    color: var(--_color-success);
  }
  .status[data-status='expired'] .badge {
    color: var(--_color-warning);
  }
  .status[data-status='needs_attention'] .badge {
    color: var(--_color-danger);
  }
  .actions {
    display: inline-flex;
    flex-wrap: wrap;
    gap: var(--_space-s);
  }
  .message,
  .reason {
    margin: var(--_space-xs) 0 0;
    font-size: var(--_font-size-s);
    color: var(--_color-text-muted);
  }
  .message:empty {
    display: none;
  }
  .message.error,
  .reason {
    color: var(--_color-danger);
  }
`;
