import { PlugConnectButton } from './connect-button.js';

PlugConnectButton.define('plug-connect-button');

declare global {
  interface HTMLElementTagNameMap {
    'plug-connect-button': PlugConnectButton;
  }
}

export { PlugConnectButton };
