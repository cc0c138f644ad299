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

/**
 * Loads the detail chunk as soon as one of its tags appears in the document, or else once the
 * browser is idle, so every tag ends up defined without delaying the first render.
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
  whenIdle(() => {
    observer.disconnect();
    load();
  });
}
