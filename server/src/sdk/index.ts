export { field, type FieldOptions, type Choice, type MappingRow } from './fields.js';
export {
  apiKey,
  oauth2,
  clientCredentials,
  readSetting,
  type Setting,
  type ConnectionDefinition,
  type ApiKeyConnection,
  type OAuth2Connection,
  type OAuth2PresetOptions,
  type ClientCredentialsConnection,
  type ConnectionCredentials,
  type ApiKeyProxy,
  type OAuthProxy,
  type ApiKeyCredentials,
  type OAuthTokenCredentials,
  type ConnectionCheckInput,
  type ConnectionTestResult,
  type Identify,
} from './connections.js';
export { providers, ProviderPresetSchema, type ProviderPreset, type ProviderName, type TenantField } from './providers.js';
export {
  webhook,
  schedule,
  RetryableError,
  type Trigger,
  type WebhookTrigger,
  type WebhookOptions,
  type ScheduleOptions,
  type TriggerWords,
  type WebhookVerifier,
  type WebhookVerifierInput,
  type ScheduleTrigger,
  type FlowContext,
  type FlowDefinition,
  type FlowLogger,
  type FlowFetch,
  type FlowFetchInit,
  type FlowState,
  FlowStateLimitError,
  FLOW_STATE_LIMITS,
} from './flows.js';
export { sync, type SyncChanges, type SyncListInput, type SyncOptions, type SyncPage } from './sync.js';
export type { RateLimit, RateWindow } from './rate-limit.js';
export {
  defineIntegration,
  type Integration,
  type IntegrationDefinition,
  type MigrateInput,
  type ConfigPageDefinition,
  type DataSource,
  type DataSourceInput,
} from './integration.js';
