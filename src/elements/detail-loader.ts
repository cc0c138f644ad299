/** Tags defined by the detail chunk (`detail.ts`). */
export const DETAIL_TAGS = ['plug-integration-dialog', 'plug-config-form', 'plug-connect-button', 'plug-execution-log'] as const;

let loading: Promise<unknown> | undefined;

/** Loads and defines the detail elements once; resolves when their tags are defined. A failed load may be retried. */
export function loadDetailElements(): Promise<unknown> {
  loading ??= import('./detail.js').catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

/** First renders in progress (a marketplace waiting for its catalog): the idle load waits for them. */
const firstRenders = new Set<Promise<unknown>>();

/**
 * Holds the idle load of the detail chunk until `rendered` settles. The browser is idle while a
 * catalog request is on its way; compiling the chunk then would land between the response and
 * the first paint of the cards.
 */
export function holdDetailLoadUntil(rendered: Promise<unknown>): void {
  // A request that never answers holds it for a few seconds at most.
  const atMost = new Promise((resolve) => setTimeout(resolve, 3000));
  const held = Promise.race([rendered, atMost])
    .catch(() => undefined)
    .finally(() => firstRenders.delete(held));
  firstRenders.add(held);
}

/**
 * Loads the detail chunk as soon as one of its tags appears in the document, or else once the
 * browser is idle and no first render is held, so every tag ends up defined without delaying
 * the first render.
 */
export function defineDetailElementsLazily(): void {
  const selector = DETAIL_TAGS.join(',');
  const load = () => void loadDetailElements().catch(() => undefined);
  if (document.querySelector(selector)) return load();
  const observer = new MutationObserver(() => {
    if (!document.querySelector(selector)) return;
    observer.disconnect();
    load();
  });
  observer.observe(document, { childList: true, subtree: true });
  const whenIdle = (run: () => void) => (typeof requestIdleCallback === 'function' ? requestIdleCallback(run, { timeout: 2000 }) : setTimeout(run, 200));
  const loadWhenIdle = () =>
    whenIdle(() => {
      if (firstRenders.size > 0) return void Promise.allSettled(firstRenders).then(loadWhenIdle);
      observer.disconnect();
      load();
    });
  loadWhenIdle();
}
