// Public API of the backend package (`@plugboard/server`): what a vendor calls to run Plugboard
// from its own Node process, as `plugboard serve` and `plugboard runner` do. The integration SDK
// is `@plugboard/server/sdk`; the wire types and the browser client come from `plugboard`.
export { startServer, type StartServerOptions, type RunningServer } from './server.js';
export { startRunner } from './runtime/runner-cli.js';
export { loadConfig, missingForProduction, ConfigError, CONFIG_VARIABLES, type Config, type JwtConfig } from './config.js';
export { generateEncryptionKey } from './secrets.js';
export type { Services } from './env.js';
// What start-up can throw, each naming the variable or module to fix.
export { KeyConfigError } from './auth.js';
export { SecretsError } from './secrets.js';
export { IntegrationsError } from './integrations.js';
export { RuntimeSettingsError } from './runtime/index.js';
// The vendor API's typed client, for the vendor's backend (also alone, without the server: `@plugboard/server/vendor-client`).
export { createVendorClient, VendorApiError, type VendorClient, type VendorClientOptions, type VendorToken } from './vendor-client.js';
