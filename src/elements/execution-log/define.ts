import { PlugExecutionLog } from './execution-log.js';

PlugExecutionLog.define('plug-execution-log');

declare global {
  interface HTMLElementTagNameMap {
    'plug-execution-log': PlugExecutionLog;
  }
}

export { PlugExecutionLog };
