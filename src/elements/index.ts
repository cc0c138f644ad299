/**
 * The script-tag entry: `<script type="module" src=".../plugboard.js">` defines every
 * element. The provider goes first so its context root is on the page before consumers upgrade.
 */
import './provider/define.js';
import './config-form/define.js';
import './connect-button/define.js';
import './integration-card/define.js';
import './instance-status/define.js';
import './execution-log/define.js';
import './integration-dialog/define.js';
import './marketplace/define.js';

export { PlugProvider } from './provider/provider.js';
export { PlugMarketplace } from './marketplace/marketplace.js';
export { PlugIntegrationCard } from './integration-card/integration-card.js';
export { PlugIntegrationDialog } from './integration-dialog/integration-dialog.js';
export { PlugInstanceStatus } from './instance-status/instance-status.js';
export { PlugExecutionLog } from './execution-log/execution-log.js';
export { PlugConfigForm } from './config-form/config-form.js';
export { PlugConnectButton } from './connect-button/connect-button.js';
export { PlugElement } from './base/plug-element.js';
export { en, format, type StringKey, type Translations } from './i18n.js';
export { createClient, ApiError, isApiError, type ClientOptions, type PlugClient } from '../client/index.js';
export type * from './events.js';
