import '../integration-card/define.js';
// The dialog comes from the detail chunk, loaded when an integration is first opened.
import type {} from '../integration-dialog/define.js';
import { PlugMarketplace } from './marketplace.js';

PlugMarketplace.define('plug-marketplace');

declare global {
  interface HTMLElementTagNameMap {
    'plug-marketplace': PlugMarketplace;
  }
}

export { PlugMarketplace };
