import type { ConnectionStatus, Instance } from './api.js';
import type { Problem } from './problem.js';

/** Details of the DOM events the elements fire (bubbles + composed). */
export interface InstanceEventDetail {
  instance: Instance;
}
export interface InstanceDeletedDetail {
  instanceId: string;
  integrationKey: string;
}
export interface ConnectEventDetail {
  instanceId: string;
  connection: string;
  status: ConnectionStatus;
  /** The instance after the change, when the element could read it. */
  instance?: Instance;
}
export interface ConnectErrorDetail {
  instanceId: string;
  connection: string;
  /** `popup_blocked`, `popup_closed`, `denied`, `state_mismatch`, `server` */
  reason: string;
  message: string;
}
export interface ErrorEventDetail {
  /** What was being done: `load-catalog`, `save-config`, `activate`, … */
  action: string;
  message: string;
  problem?: Problem;
}
