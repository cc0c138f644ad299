import { PlugIntegrationCard } from './integration-card.js';

PlugIntegrationCard.define('plug-integration-card');

declare global {
  interface HTMLElementTagNameMap {
    'plug-integration-card': PlugIntegrationCard;
  }
}

export { PlugIntegrationCard };
