import { css } from 'lit';

/** The confirmations toast; the host restyles it through `::part(toast)` and `--plug-toast-*`. */
export const toastStyles = css`
  .toast {
    position: fixed;
    z-index: 2;
    inset-block-end: var(--plug-toast-offset, var(--_space-l));
    inset-inline-start: 50%;
    max-width: min(24rem, calc(100vw - 2 * var(--_space-m)));
    box-sizing: border-box;
    padding: var(--_space-s) var(--_space-m);
    border-radius: var(--plug-toast-radius, var(--_radius-m));
    background: var(--plug-toast-background, var(--_color-text));
    color: var(--plug-toast-color, var(--_color-surface));
    box-shadow: 0 8px 24px rgb(15 23 42 / 0.25);
    font-size: var(--_font-size-s);
    font-weight: var(--_font-weight-strong);
    transform: translateX(-50%);
    /* It floats over the sheet's controls and holds none itself: taps go to what is under it. */
    pointer-events: none;
    transition:
      opacity 0.2s,
      translate 0.2s;
  }
  .toast:not([data-shown]) {
    opacity: 0;
    translate: 0 0.5rem;
  }
  /* Below 600 px the dialog is a full-screen sheet whose Back/Save footer sits at the bottom: the
     toast floats above that footer, not on its buttons. */
  @media (max-width: 599.98px) {
    .toast {
      inset-block-end: var(--plug-toast-offset, 5.5rem);
    }
  }
  @media (prefers-reduced-motion: reduce) {
    .toast {
      transition: none;
    }
  }
`;
