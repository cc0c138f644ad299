import type { ReactiveController, ReactiveControllerHost } from 'lit';

export interface LiveRefreshOptions {
  /** Milliseconds between polls while the page is visible; 0 or less turns polling off. */
  interval: () => number;
  /** Longest wait between polls while hidden or failing. */
  maxInterval: number;
}

/**
 * Polls while its host is connected. The wait doubles (up to `maxInterval`) while the page is
 * hidden or a poll failed, so a tab left in the background or an unreachable server costs
 * little; the page becoming visible polls at once and goes back to `interval`. Stops when the
 * host is disconnected. One poll at a time: a slow answer delays the next poll, never overlaps it.
 */
export class LiveRefresh implements ReactiveController {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #delay = 0;
  #connected = false;
  #polling = false;

  constructor(
    host: ReactiveControllerHost,
    /** Resolves true when the poll succeeded. */
    private readonly poll: () => Promise<boolean>,
    private readonly options: LiveRefreshOptions,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.#connected = true;
    document.addEventListener('visibilitychange', this.#onVisibility);
    this.restart();
  }

  hostDisconnected(): void {
    this.#connected = false;
    document.removeEventListener('visibilitychange', this.#onVisibility);
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Starts the wait again from `interval` (after a reload, or when the interval changed). */
  restart(): void {
    this.#delay = this.options.interval();
    this.#schedule();
  }

  /** Polls now, then waits `interval` again. */
  now(): void {
    this.#delay = this.options.interval();
    void this.#run();
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#connected || this.options.interval() <= 0 || this.#polling) return;
    this.#timer = setTimeout(() => void this.#run(), this.#delay);
  }

  async #run(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#connected || this.#polling) return;
    this.#polling = true;
    let ok = false;
    try {
      ok = await this.poll();
    } finally {
      this.#polling = false;
    }
    const base = this.options.interval();
    this.#delay = !ok || document.visibilityState === 'hidden' ? Math.min(Math.max(this.#delay, base) * 2, this.options.maxInterval) : base;
    this.#schedule();
  }

  #onVisibility = (): void => {
    if (document.visibilityState === 'visible' && this.options.interval() > 0) this.now();
  };
}
