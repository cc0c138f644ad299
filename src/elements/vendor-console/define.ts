import { PlugVendorConsole } from './vendor-console.js';

PlugVendorConsole.define('plug-vendor-console');

declare global {
  interface HTMLElementTagNameMap {
    'plug-vendor-console': PlugVendorConsole;
  }
}

export { PlugVendorConsole };
