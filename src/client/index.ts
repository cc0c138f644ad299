export { createClient, type ClientOptions, type ExecutionQuery, type PlugClient, type WebhookSecret } from './client.js';
export { ApiError, isApiError, NETWORK_ERROR_TYPE } from './api-error.js';
