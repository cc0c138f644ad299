/**
 * `<plug-vendor-console>` is for the vendor's staff, never for its customers: an entry of its own
 * (`plugboard-console.js`) that the script-tag bundle loads only when asked, or when the tag is in
 * the document.
 */
const TAG = 'plug-vendor-console';

let loading: Promise<unknown> | undefined;

/** Loads and defines `<plug-vendor-console>` once; a failed load may be retried. */
export function loadVendorConsole(): Promise<unknown> {
  loading ??= import('./vendor-console.js').catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

/** Loads the console when its tag is in the document once the page has parsed (a console page has it in its HTML). */
export function defineVendorConsoleWhenPresent(): void {
  const look = () => {
    if (document.querySelector(TAG)) void loadVendorConsole().catch(() => undefined);
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', look, { once: true });
  else look();
}
