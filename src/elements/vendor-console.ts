/**
 * The vendor console's entry, `dist/plugboard-console.js` (the staff's pages, never a customer's):
 * everything `plugboard.js` defines and exports, which it imports, plus `<plug-vendor-console>`.
 * `loadVendorConsole()` in plugboard.js imports this file on demand.
 */
import './vendor-console/define.js';

export * from './index.js';
export { PlugVendorConsole } from './vendor-console/define.js';
