import '../config-form/define.js';
import { PlugIntegrationDialog } from './integration-dialog.js';
import { PlugIntegrationSetup } from './integration-setup.js';

// The dialog's content first: the dialog makes one as soon as it opens.
PlugIntegrationSetup.define('plug-integration-setup');
PlugIntegrationDialog.define('plug-integration-dialog');

declare global {
  interface HTMLElementTagNameMap {
    'plug-integration-dialog': PlugIntegrationDialog;
    /** Internal: the content of `<plug-integration-dialog>`. */
    'plug-integration-setup': PlugIntegrationSetup;
  }
}

export { PlugIntegrationDialog };
