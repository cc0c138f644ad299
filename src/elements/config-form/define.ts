import { PlugConfigForm } from './config-form.js';

PlugConfigForm.define('plug-config-form');

declare global {
  interface HTMLElementTagNameMap {
    'plug-config-form': PlugConfigForm;
  }
}

export { PlugConfigForm };
