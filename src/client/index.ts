export { createClient, type ClientOptions, type AuditQuery, type ExecutionQuery, type PlugClient } from './client.js';
export type { WebhookSecret } from '../protocol/index.js';
export { ApiError, isApiError, NETWORK_ERROR_TYPE } from './api-error.js';
