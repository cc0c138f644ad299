// The audit-trail relays (lifecycle alerts, lifecycle webhooks) poll the same way: a pass, then
// the next one `intervalMs` after it ended (never two at once), a failed pass reported, not fatal.

export interface RelayLoop {
  /** True from `stop()` until the next `start()`: a long pass checks it to end early. */
  readonly stopped: boolean;
  start(intervalMs?: number): void;
  /** Stops polling and waits for a pass under way; `interrupt` cuts short what that pass waits on. */
  stop(interrupt?: () => void): Promise<void>;
}

export function createRelayLoop(pass: () => Promise<unknown>, onError: (error: unknown) => void): RelayLoop {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;

  const loop = (intervalMs: number) => {
    if (stopped) return;
    running = pass()
      .catch(onError)
      .finally(() => {
        if (!stopped) timer = setTimeout(() => loop(intervalMs), intervalMs);
      });
  };

  return {
    get stopped() {
      return stopped;
    },
    start(intervalMs = 1000) {
      stopped = false;
      loop(intervalMs);
    },
    async stop(interrupt) {
      stopped = true;
      clearTimeout(timer);
      interrupt?.();
      await running;
    },
  };
}
