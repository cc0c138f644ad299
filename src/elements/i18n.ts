/**
 * Strings. English is built in; a host replaces any of them through an element's (or the
 * provider's) `translations` property. `{name}` placeholders are filled by `format()`.
 * Each element declares its keys here so a translator finds every string in one place.
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
  'marketplace.emptyCatalog': 'No integrations are available yet.',
  'marketplace.error': 'The integrations could not be loaded.',
  'marketplace.retry': 'Try again',
  'marketplace.count': '{count} integrations',
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
  'dialog.connections': 'Connections',
  'dialog.configure': 'Configure',
  'dialog.start': 'Set up',
  'dialog.step': 'Step {current} of {total}',
  'dialog.back': 'Back',
  'dialog.next': 'Next',
  'dialog.save': 'Save',
  'dialog.saved': 'Saved',
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
  'dialog.fieldErrors': 'Some fields need attention: {count}.',
  'dialog.created': 'Setup started.',
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
  'connection.popupBlocked': 'The sign-in window was blocked. Allow pop-ups for this site and try again.',
  'connection.popupClosed': 'The sign-in window was closed before finishing.',
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
  'form.pickerCount': '{count} options',
  'form.pickerRetry': 'Try again',
  'form.pickerRemove': 'Remove {label}',
  'form.pickerClear': 'Clear {label}',
  'form.pickerSelected': '{label}: selected',
  'form.errors': 'Fix these problems:',
  // generic
  'error.generic': 'Something went wrong. Try again.',
  'error.network': 'The server could not be reached.',
  'error.unauthorized': 'Your session has expired. Reload the page to sign in again.',
  'error.forbidden': 'You do not have permission to do this.',
};

export type StringKey = keyof typeof en;
export type Translations = Partial<Record<StringKey, string>>;

/** Looks up `key` in `translations`, falling back to English, and fills `{placeholders}`. */
export function format(
  translations: Translations | undefined,
  key: StringKey,
  vars?: Record<string, string | number>,
): string {
  const text = translations?.[key] ?? en[key];
  return vars ? text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m)) : text;
}
