import '../integration-card/define.js';
import '../integration-dialog/define.js';
import { PlugMarketplace } from './marketplace.js';

PlugMarketplace.define('plug-marketplace');

declare global {
  interface HTMLElementTagNameMap {
    'plug-marketplace': PlugMarketplace;
  }
}

export { PlugMarketplace };
