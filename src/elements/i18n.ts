/**
 * Strings. English is built in; a host replaces any of them through an element's (or the
 * provider's) `translations` property. `{name}` placeholders are filled by `format()`.
 * Split like the script-tag bundle: `en` here holds the eager core's strings (marketplace,
 * card, status badge, generic errors); each detail element's are in its folder's `*-strings.ts`
 * (`detailEn` in `detail-strings.ts` is their union), shipped in the detail chunk beside its
 * code. A new string goes in the file of the element that shows it.
 *
 * Counts: a string with a `{count}` is its plural `other` form; `key.one`, `key.two`, `key.few`
 * and `key.many` are the other forms of `Intl.PluralRules` for the language, and `key.zero` is
 * the text for none ("No integrations"). A translation gives the forms its language needs.
 */
import type { consoleEn } from './console-strings.js';
import type { detailEn } from './detail-strings.js';

export const en = {
  // the card's "Connected as …" (the dialog and connect button use it too)
  'connection.connectedAs': 'Connected as {account}',
  // marketplace
  'marketplace.title': 'Integrations',
  'marketplace.search': 'Search integrations',
  'marketplace.allCategories': 'All categories',
  'marketplace.category': 'Category',
  'marketplace.activeOnly': 'Active only',
  'marketplace.loading': 'Loading integrations…',
  'marketplace.empty': 'No integrations match your search.',
  'marketplace.emptyCategory': 'No integrations in {category} yet.',
  'marketplace.emptyActive': 'No active integrations yet.',
  'marketplace.emptyActiveCategory': 'No active integrations in {category} yet.',
  'marketplace.emptyActiveSearch': 'No active integrations match your search.',
  'marketplace.emptyCatalog': 'No integrations are available yet.',
  'marketplace.error': 'The integrations could not be loaded.',
  'marketplace.retry': 'Try again',
  'marketplace.count': '{count} integrations',
  'marketplace.count.one': '{count} integration',
  'marketplace.count.zero': 'No integrations',
  // status badges
  'status.available': 'Available',
  'card.higherPlan': 'Available on a higher plan',
  'card.upgrade': 'Upgrade',
  'status.draft': 'Draft',
  'status.active': 'Active',
  'status.paused': 'Paused',
  'status.error': 'Needs attention',
  'status.loading': 'Loading status…',
  'status.unknown': 'Status unavailable',
  // generic
  'error.generic': 'Something went wrong. Try again.',
  'error.network': 'The server could not be reached.',
  'error.unauthorized': 'Your session has expired. Reload the page to sign in again.',
  'error.forbidden': 'You do not have permission to do this.',
};

export type StringKey = keyof typeof en | keyof typeof detailEn | keyof typeof consoleEn;
/** A plural form of a string that has a `{count}` (see above). */
export type PluralFormKey = `${StringKey}.${'zero' | 'one' | 'two' | 'few' | 'many'}`;
export type Translations = Partial<Record<StringKey | PluralFormKey, string>>;

/** English for every key loaded so far: `en`, and `detailEn` once the detail elements are (`addEnglish`). */
const english: Record<string, string> = { ...en };

/** Adds strings to the English fallback (the detail elements add theirs when they load). */
export function addEnglish(strings: Record<string, string>): void {
  Object.assign(english, strings);
}

// Intl objects are costly to build (a millisecond or more each on a phone): one per language, kept.
const pluralRules = new Map<string, Intl.PluralRules>();
const numberFormats = new Map<string, Intl.NumberFormat>();
const collators = new Map<string, Intl.Collator>();

function intlFor<T>(cache: Map<string, T>, locale: string | undefined, make: (locale?: string) => T): T {
  const id = locale ?? '';
  let made = cache.get(id);
  if (!made) {
    try {
      made = make(locale);
    } catch {
      made = make(); // a `lang` the browser does not know
    }
    cache.set(id, made);
  }
  return made;
}

/** Compares two strings in the order of `locale` (for sorting names shown to the customer). */
export function collatorFor(locale: string | undefined): Intl.Collator {
  return intlFor(collators, locale, (l) => new Intl.Collator(l));
}

/**
 * Builds the Intl objects `format()` and `collatorFor()` use for `locale`. A page's first Intl
 * object loads the ICU data behind it (tens of ms): call this while a request is on its way, so
 * that cost is not paid between the response and the first paint.
 */
export function prepareIntl(locale: string | undefined): void {
  collatorFor(locale);
  intlFor(pluralRules, locale, (l) => new Intl.PluralRules(l));
  intlFor(numberFormats, locale, (l) => new Intl.NumberFormat(l));
}

/**
 * `prepareIntl()` for the page's language once the browser is idle after the bundle has loaded:
 * a marketplace added later (a single-page app's route, a tab the customer opens) then finds the
 * ICU data loaded. An element in the page's HTML connects at once and prepares its own beside its
 * first request, as before; both build the same cached objects.
 */
export function prepareIntlWhenIdle(): void {
  const prepare = () => prepareIntl(document.documentElement.lang || undefined);
  if (typeof requestIdleCallback === 'function') requestIdleCallback(prepare, { timeout: 2000 });
  else setTimeout(prepare, 200);
}

/** The forms to try for `count`, most specific first (`zero` only for none); the key itself is `other`. */
function pluralForms(count: number, locale: string | undefined): string[] {
  const form = intlFor(pluralRules, locale, (l) => new Intl.PluralRules(l)).select(count);
  return count === 0 ? ['zero', form] : [form];
}

function lookup(source: Record<string, string> | undefined, key: string, forms: string[]): string | undefined {
  for (const form of forms) {
    const text = source?.[`${key}.${form}`];
    if (text !== undefined) return text;
  }
  return source?.[key];
}

/**
 * Looks up `key` in `translations`, falling back to English, and fills `{placeholders}`. A
 * numeric `count` picks the plural form for `locale` and is written with its digits.
 */
export function format(translations: Translations | undefined, key: StringKey, vars?: Record<string, string | number>, locale?: string): string {
  const count = vars?.count;
  const forms = typeof count === 'number' ? pluralForms(count, locale) : [];
  // A translation's own forms first, then its plain string, before any English form.
  const text = lookup(translations as Record<string, string> | undefined, key, forms) ?? lookup(english, key, forms) ?? key;
  if (!vars) return text;
  const filled: Record<string, string | number> =
    typeof count === 'number' ? { ...vars, count: intlFor(numberFormats, locale, (l) => new Intl.NumberFormat(l)).format(count) } : vars;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in filled ? String(filled[name]) : m));
}

/** A connection's status in words: "Connected as {account}" when the integration named the account, else the status alone. */
export function connectionStatusText(
  t: (key: StringKey, vars?: Record<string, string>) => string,
  status: 'missing' | 'connected' | 'expired' | 'needs_attention',
  account: string | null | undefined,
): string {
  return status === 'connected' && account ? t('connection.connectedAs', { account }) : t(`connection.${status}`);
}
