import { css, html, type ReactiveController, type ReactiveControllerHost, type TemplateResult } from 'lit';

/** How long a confirmation stays on screen. */
const SHOWN_MS = 5000;

/**
 * The dialog's confirmations ("Saved", "Activated"…): a toast that is also the polite live region,
 * so screen readers hear what sighted customers see. It is always in the page (a live region that
 * appears with its text is not announced) and empty when nothing is shown. The host restyles it
 * through `::part(toast)` and the `--plug-toast-*` variables.
 */
export class SetupToast implements ReactiveController {
  #text = '';
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  hostDisconnected(): void {
    this.#hide();
  }

  /** Shows `text`; the same text twice is announced twice (the region is emptied first). */
  show(text: string): void {
    clearTimeout(this.#timer);
    this.#text = '';
    this.host.requestUpdate();
    requestAnimationFrame(() => {
      this.#text = text;
      this.host.requestUpdate();
      this.#timer = setTimeout(() => this.#hide(), SHOWN_MS);
    });
  }

  #hide = (): void => {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#text) return;
    this.#text = '';
    this.host.requestUpdate();
  };

  render(): TemplateResult {
    return html`<div part="toast" class="toast" role="status" aria-live="polite" ?data-shown=${this.#text !== ''}>${this.#text}</div>`;
  }
}

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
