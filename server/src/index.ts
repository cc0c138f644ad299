// Public API of the server package (`plugboard/server`).
export { createApp, createRouteContext, type AppDeps, type RouteContext, type BaseEnv, type CustomerEnv, type VendorEnv } from './app.js';
export { startServer, verifierFromConfig, type StartServerOptions, type RunningServer } from './server.js';
export { loadConfig, missingForProduction, ConfigError, CONFIG_VARIABLES, type Config, type JwtConfig } from './config.js';
export {
  createTokenVerifier,
  customerAuth,
  vendorAuth,
  parseVerificationKeys,
  KeyConfigError,
  ALLOWED_ALGORITHMS,
  type TokenVerifier,
  type TokenVerifierOptions,
  type AuthVariables,
  type CustomerVariables,
  type VendorVariables,
} from './auth.js';
export { createLogger, type Logger, type LoggerOptions } from './logger.js';
export { HttpProblem, validationProblem, notFound } from './problem.js';
export { loadIntegrations, indexIntegrations, IntegrationsError, type IntegrationIndex } from './integrations.js';
export { connectionAad, instanceSecretsAad, openConnections, openInstanceSecrets, type StoredOAuthTokens } from './credentials.js';
export { instanceView, activationBlockers } from './instance-view.js';
export { createCipher, generateEncryptionKey, parseEncryptionKeys, type Cipher } from './secrets.js';
export { openStore, type OpenStoreOptions } from './store/index.js';
export type * from './store/types.js';
export { allMigrations } from './migrations.js';
export { startRuntime, runtimeSettings, executorEnv, RuntimeSettingsError, type StartedRuntime, type RuntimeSettings, type Runtime } from './runtime/index.js';
