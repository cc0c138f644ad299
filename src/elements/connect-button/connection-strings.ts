/**
 * English strings of connections: `<plug-connect-button>` and the dialog's connections step.
 * The element adds them to the English fallback (`addEnglish`); they sit beside its code in the
 * detail chunk, so gzip (a 32 KB window) finds each key there. Hosts replace them through `translations`.
 */
export const connectionEn = {
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
  'connection.connectedNowAs': 'Connected as {account}.',
  'connection.disconnected': 'Disconnected.',
  'connection.failed': 'The connection was not completed.',
};
