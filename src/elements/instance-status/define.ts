import { PlugInstanceStatus } from './instance-status.js';

PlugInstanceStatus.define('plug-instance-status');

declare global {
  interface HTMLElementTagNameMap {
    'plug-instance-status': PlugInstanceStatus;
  }
}

export { PlugInstanceStatus };
