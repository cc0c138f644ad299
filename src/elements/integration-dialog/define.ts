import '../config-form/define.js';
import { PlugIntegrationDialog } from './integration-dialog.js';

PlugIntegrationDialog.define('plug-integration-dialog');

declare global {
  interface HTMLElementTagNameMap {
    'plug-integration-dialog': PlugIntegrationDialog;
  }
}

export { PlugIntegrationDialog };
