/**
 * The script-tag entry: `<script type="module" src=".../plugboard.js">` defines every
 * element. The marketplace, card, status badge and provider are defined at once; the
 * integration detail (dialog, config form, connect button, execution log) is a second chunk,
 * loaded when the marketplace opens an integration, when one of its tags appears in the
 * document, or when the browser is first idle. `await loadDetailElements()` to have them now.
 * The provider goes first so its context root is on the page before consumers upgrade.
 * `<plug-vendor-console>` (the vendor's staff, never its customers) is an entry of its own,
 * `plugboard-console.js` (`vendor-console.ts`), loaded by `loadVendorConsole()` or when its tag is
 * in the page's HTML.
 */
import './provider/define.js';
import './integration-card/define.js';
import './instance-status/define.js';
import './marketplace/define.js';
import { defineDetailElementsLazily } from './detail-loader.js';
import { prepareIntlWhenIdle } from './i18n.js';
import { defineVendorConsoleWhenPresent } from './vendor-console-loader.js';

defineDetailElementsLazily();
defineVendorConsoleWhenPresent();
prepareIntlWhenIdle();

export { loadDetailElements } from './detail-loader.js';
export { loadVendorConsole } from './vendor-console-loader.js';
export { PlugProvider } from './provider/provider.js';
export { PlugMarketplace } from './marketplace/marketplace.js';
export { PlugIntegrationCard } from './integration-card/integration-card.js';
export { PlugInstanceStatus } from './instance-status/instance-status.js';
export { PlugElement } from './base/plug-element.js';
// Classes of the detail chunk: types here; at run time `customElements.get(tag)` once loaded.
export type { PlugIntegrationDialog } from './integration-dialog/integration-dialog.js';
export type { PlugExecutionLog } from './execution-log/execution-log.js';
export type { PlugConfigForm } from './config-form/config-form.js';
export type { PlugConnectButton } from './connect-button/connect-button.js';
export type { PlugVendorConsole } from './vendor-console/vendor-console.js';
export { en, format, type StringKey, type Translations } from './i18n.js';
export { createClient, ApiError, isApiError, type ClientOptions, type PlugClient } from '../client/index.js';
export type * from './events.js';
