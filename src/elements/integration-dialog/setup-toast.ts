import { html, type ReactiveController, type ReactiveControllerHost, type TemplateResult } from 'lit';

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
