/**
 * Strings. English is built in; a host replaces any of them through an element's (or the
 * provider's) `translations` property. `{name}` placeholders are filled by `format()`.
 * Each element declares its keys here so a translator finds every string in one place.
 *
 * Counts: a string with a `{count}` is its plural `other` form; `key.one`, `key.two`, `key.few`
 * and `key.many` are the other forms of `Intl.PluralRules` for the language, and `key.zero` is
 * the text for none ("No integrations"). A translation gives the forms its language needs.
 */
export const en = {
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
  'marketplace.emptyCatalog': 'No integrations are available yet.',
  'marketplace.error': 'The integrations could not be loaded.',
  'marketplace.retry': 'Try again',
  'marketplace.count': '{count} integrations',
  'marketplace.count.one': '{count} integration',
  'marketplace.count.zero': 'No integrations',
  // status badges
  'status.available': 'Available',
  'status.draft': 'Draft',
  'status.active': 'Active',
  'status.paused': 'Paused',
  'status.error': 'Needs attention',
  'status.loading': 'Loading status…',
  'status.unknown': 'Status unavailable',
  // dialog / wizard
  'dialog.close': 'Close',
  'dialog.overview': 'Overview',
  'dialog.needs': 'What it needs',
  'dialog.does': 'What it does',
  'dialog.everyMinutes': 'every {count} minutes',
  'dialog.everyMinutes.one': 'every minute',
  'dialog.connections': 'Connections',
  'dialog.configure': 'Configure',
  'dialog.start': 'Set up',
  'dialog.step': 'Step {current} of {total}',
  'dialog.back': 'Back',
  'dialog.next': 'Next',
  'dialog.save': 'Save',
  'dialog.saved': 'Saved',
  'dialog.draftSaved': 'Saved as a draft.',
  'dialog.continue': 'Continue setup',
  'dialog.activate': 'Activate',
  'dialog.activated': 'Activated',
  'dialog.pause': 'Pause',
  'dialog.paused': 'Paused',
  'dialog.resume': 'Resume',
  'dialog.delete': 'Delete',
  'dialog.deleteConfirm': 'Delete this integration? Its configuration and connections are removed. This cannot be undone.',
  'dialog.deleteCancel': 'Keep it',
  'dialog.deleted': 'Deleted',
  'dialog.blockers': 'Before activating:',
  'dialog.conflict': 'Someone else changed this configuration. Reload to see their version.',
  'dialog.reload': 'Reload',
  'dialog.loading': 'Loading…',
  'dialog.loadError': 'This integration could not be loaded.',
  'dialog.retry': 'Try again',
  'dialog.fieldErrors': '{count} fields need attention.',
  'dialog.fieldErrors.one': 'One field needs attention.',
  'dialog.updated': 'Last changed {date}',
  'dialog.progress': 'Setup progress',
  'dialog.nothingNeeded': 'Nothing to connect or configure.',
  'dialog.kind.apiKey': 'API key',
  'dialog.kind.oauth2': 'Sign in',
  'dialog.kind.clientCredentials': 'Service account',
  // connections
  'connection.connected': 'Connected',
  'connection.missing': 'Not connected',
  'connection.expired': 'Expired',
  'connection.needs_attention': 'Needs attention',
  'connection.save': 'Save credentials',
  'connection.saved': 'Credentials saved.',
  'connection.replace': 'Replace credentials',
  'connection.connect': 'Connect',
  'connection.reconnect': 'Reconnect',
  'connection.disconnect': 'Disconnect',
  'connection.connecting': 'Waiting for the sign-in window…',
  'connection.popupTitle': 'Connecting to {provider}…',
  'connection.popupWait': 'The sign-in page opens in a moment.',
  'connection.popupBlocked': 'The sign-in window was blocked. Allow pop-ups for this site and try again.',
  'connection.popupClosed': 'The sign-in window was closed before finishing.',
  'connection.cancel': 'Cancel',
  'connection.redirecting': 'Opening the sign-in page…',
  'connection.connectedNow': 'Connected.',
  'connection.disconnected': 'Disconnected.',
  'connection.failed': 'The connection was not completed.',
  // config form
  'form.secretSet': 'Set — type to replace',
  'form.required': 'Required',
  'form.optional': 'Optional',
  'form.pickerSearch': 'Search',
  'form.pickerLoading': 'Loading options…',
  'form.pickerEmpty': 'No options',
  'form.pickerError': 'Options could not be loaded.',
  'form.pickerDepends': 'Fill in {fields} first.',
  'form.invalidJson': 'Enter valid JSON.',
  'form.yes': 'Yes',
  'form.no': 'No',
  'form.choose': 'Choose…',
  'form.missing': 'Fill in this field.',
  'form.pickAtLeast': 'Choose at least {count}.',
  'form.pickAtMost': 'Choose at most {count}.',
  'form.pattern': 'Use the expected format.',
  'form.patternExample': 'Use this format: {example}.',
  'form.invalid': 'Check this value.',
  'form.url': 'Enter a web address, like https://example.com.',
  'form.email': 'Enter an email address, like name@example.com.',
  'form.number': 'Enter a number.',
  'form.integer': 'Enter a whole number.',
  'form.min': 'Enter {min} or more.',
  'form.max': 'Enter {max} or less.',
  'form.minLength': 'Use at least {count} characters.',
  'form.minLength.one': 'Use at least {count} character.',
  'form.maxLength': 'Use at most {count} characters.',
  'form.maxLength.one': 'Use at most {count} character.',
  'form.pickerCount': '{count} options',
  'form.pickerCount.one': '{count} option',
  'form.pickerCount.zero': 'No options',
  'form.pickerRetry': 'Try again',
  'form.pickerRemove': 'Remove {label}',
  'form.pickerClear': 'Clear {label}',
  'form.pickerSelected': '{label}: selected',
  'form.errors': 'Fix these problems:',
  'form.unsupported': 'This setting can’t be edited here yet. Its current value is kept.',
  // execution log
  'executions.label': 'Runs',
  'executions.filter': 'Status',
  'executions.filterAll': 'All runs',
  'executions.status.queued': 'Queued',
  'executions.status.running': 'Running',
  'executions.status.succeeded': 'Succeeded',
  'executions.status.failed': 'Failed',
  'executions.status.timed_out': 'Timed out',
  'executions.trigger.webhook': 'Webhook',
  'executions.trigger.schedule': 'Schedule',
  'executions.trigger.manual': 'Manual',
  'executions.trigger.invoke': 'API call',
  'executions.loading': 'Loading runs…',
  'executions.empty': 'No runs yet. Runs appear here when a webhook or schedule starts a flow.',
  'executions.emptyFiltered': 'No runs with this status.',
  'executions.error': 'The runs could not be loaded.',
  'executions.retry': 'Try again',
  'executions.loadOlder': 'Load older runs',
  'executions.loadingOlder': 'Loading older runs…',
  'executions.refreshFailed': 'Live updates failed; retrying.',
  'executions.new': '{count} new runs',
  'executions.new.one': '{count} new run',
  'executions.finished': '{flow}: {status}',
  'executions.attempt': 'attempt {attempt}',
  'executions.started': 'Started {time}',
  'executions.queuedAt': 'Queued {time}',
  'executions.duration': 'took {duration}',
  'executions.logs': 'Log of {flow}',
  'executions.logsLoading': 'Loading log…',
  'executions.logsError': 'The log could not be loaded.',
  'executions.logsEmpty': 'No log lines.',
  'executions.truncated': 'Log truncated: later lines were not kept.',
  'executions.errorText': 'Error: {error}',
  'executions.details': 'Details',
  'executions.level.info': 'info',
  'executions.level.warn': 'warn',
  'executions.level.error': 'error',
  // webhooks (integration dialog)
  'webhooks.title': 'Webhook URLs',
  'webhooks.url': 'Webhook URL for {flow}',
  'webhooks.urlPlain': 'Webhook URL',
  'webhooks.copy': 'Copy',
  'webhooks.copied': 'Copied.',
  'webhooks.copyFailed': 'Copying failed: select the URL and copy it yourself.',
  'webhooks.signed':
    "Requests must be signed with this flow's signing secret: Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature), unless the integration names its provider's own.",
  'webhooks.newSecret': 'New signing secret',
  'webhooks.secret': 'Signing secret for {flow}',
  'webhooks.secretPlain': 'Signing secret',
  'webhooks.secretOnce': 'Shown only now: copy it. Making a new one replaces it.',
  'webhooks.runs': 'Runs',
  // instance history (integration dialog)
  'history.title': 'History',
  'history.loading': 'Loading history…',
  'history.empty': 'No changes recorded yet.',
  'history.error': 'The history could not be loaded.',
  'history.retry': 'Try again',
  'history.forbidden': 'Only an admin can see the history.',
  'history.loadOlder': 'Load older changes',
  'history.loadingOlder': 'Loading older changes…',
  'history.entry': '{who}: {what}',
  'history.vendor': 'Vendor',
  'history.system': 'Automatic',
  'history.someone': 'Someone',
  'history.created': 'Set up',
  'history.configSaved': 'Configuration saved',
  'history.activated': 'Activated',
  'history.paused': 'Paused',
  'history.failing': 'Stopped after repeated failures',
  'history.recovered': 'Running again',
  'history.credentialsSaved': 'Credentials saved',
  'history.connected': 'Connected',
  'history.disconnected': 'Disconnected',
  'history.needsAttention': 'Connection needs attention',
  'history.secretRotated': 'New signing secret',
  'history.dataSourceCalled': 'Options loaded with unsaved values',
  // generic
  'error.generic': 'Something went wrong. Try again.',
  'error.network': 'The server could not be reached.',
  'error.unauthorized': 'Your session has expired. Reload the page to sign in again.',
  'error.forbidden': 'You do not have permission to do this.',
};

export type StringKey = keyof typeof en;
/** A plural form of a string that has a `{count}` (see above). */
export type PluralFormKey = `${StringKey}.${'zero' | 'one' | 'two' | 'few' | 'many'}`;
export type Translations = Partial<Record<StringKey | PluralFormKey, string>>;

const pluralRules = new Map<string, Intl.PluralRules>();

/** The forms to try for `count`, most specific first (`zero` only for none); the key itself is `other`. */
function pluralForms(count: number, locale: string | undefined): string[] {
  const id = locale ?? '';
  let rules = pluralRules.get(id);
  if (!rules) {
    try {
      rules = new Intl.PluralRules(locale);
    } catch {
      rules = new Intl.PluralRules();
    }
    pluralRules.set(id, rules);
  }
  const form = rules.select(count);
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
  const text = lookup(translations as Record<string, string> | undefined, key, forms) ?? lookup(en, key, forms)!;
  if (!vars) return text;
  const filled: Record<string, string | number> = typeof count === 'number' ? { ...vars, count: new Intl.NumberFormat(locale).format(count) } : vars;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in filled ? String(filled[name]) : m));
}
