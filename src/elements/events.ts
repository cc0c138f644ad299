import type { ErrorEventDetail, InstanceDeletedDetail, InstanceEventDetail, IntegrationSummary } from '../protocol/index.js';

/** `plug-integration-open`: a card asks to show an integration. Cancelable: a host may route elsewhere. */
export interface IntegrationOpenDetail {
  integration: IntegrationSummary;
}

/** `plug-upgrade-request` has the same detail: the customer asked for an integration its plan lacks. Cancelable: cancel to keep `upgrade-href` from navigating. */

/** `plug-dialog-close`: the integration dialog (or inline panel) was closed. */
export interface DialogCloseDetail {
  integrationKey: string;
}

export type { ErrorEventDetail, InstanceDeletedDetail, InstanceEventDetail };

declare global {
  interface GlobalEventHandlersEventMap {
    'plug-instance-created': CustomEvent<InstanceEventDetail>;
    'plug-config-saved': CustomEvent<InstanceEventDetail>;
    'plug-instance-activated': CustomEvent<InstanceEventDetail>;
    'plug-instance-paused': CustomEvent<InstanceEventDetail>;
    'plug-instance-deleted': CustomEvent<InstanceDeletedDetail>;
    'plug-error': CustomEvent<ErrorEventDetail>;
    'plug-integration-open': CustomEvent<IntegrationOpenDetail>;
    'plug-dialog-close': CustomEvent<DialogCloseDetail>;
    'plug-upgrade-request': CustomEvent<IntegrationOpenDetail>;
  }
}
