import { css } from 'lit';

export const instanceStatusStyles = css`
  :host {
    display: inline-block;
    vertical-align: middle;
  }
  .muted {
    color: var(--_color-text-muted);
    font-size: var(--_font-size-s);
  }
`;
