// Two versions of one integration whose config pages, connections, data sources and flows differ,
// for test/node/versions-own.test.ts: executors import this module, which holds both.
import { apiKey, defineIntegration, field, oauth2, webhook } from '../../server/src/sdk/index.js';

// The stand-in provider's URL: set by the test once its server listens.
const providerUrl = () => process.env.VERSIONS_PROVIDER_URL;

export const crmV1 = defineIntegration({
  key: 'crm',
  name: 'CRM',
  description: 'Versioned.',
  category: 'test',
  version: '1.0.0',
  configPages: [{ title: 'Setup', fields: { label: field.text({ label: 'Label' }) } }],
  connections: {
    legacy: apiKey({
      label: 'Legacy key',
      fields: { key: field.secret({ label: 'Key' }) },
      proxy: { baseUrl: providerUrl, headers: (values) => ({ 'x-key': values.key! }) },
    }),
  },
  dataSources: { lists: async () => [{ value: 'v1-list', label: 'A list of version 1' }] },
  flows: {
    which: { trigger: webhook({ hmac: false }), run: () => ({ code: '1.0.0' }) },
    legacy: { trigger: webhook({ hmac: false }), run: () => ({ code: '1.0.0', flow: 'legacy' }) },
  },
});

// Renames the page, adds a required field, replaces the connection (and adds an OAuth one) and the data source, drops `legacy` and adds `fresh`.
export const crmV2 = defineIntegration({
  key: 'crm',
  name: 'CRM',
  description: 'Versioned.',
  category: 'test',
  version: '2.0.0',
  changelog: { '2.0.0': 'Regions.' },
  configPages: [{ title: 'Account', fields: { label: field.text({ label: 'Label' }), region: field.text({ label: 'Region' }) } }],
  connections: {
    modern: apiKey({
      label: 'Modern key',
      fields: { key: field.secret({ label: 'Key' }) },
      proxy: { baseUrl: providerUrl, headers: (values) => ({ 'x-key': values.key! }) },
    }),
    sso: oauth2({
      label: 'Single sign-on',
      authorizationUrl: 'http://127.0.0.1:1/authorize',
      tokenUrl: 'http://127.0.0.1:1/token',
      clientId: 'crm',
      clientSecret: 'crm-test-secret',
      scopes: ['crm'],
    }),
  },
  dataSources: { folders: async () => [{ value: 'v2-folder', label: 'A folder of version 2' }] },
  flows: {
    which: { trigger: webhook({ hmac: false }), run: () => ({ code: '2.0.0' }) },
    fresh: { trigger: webhook({ hmac: false }), run: () => ({ code: '2.0.0', flow: 'fresh' }) },
  },
});

export default [crmV2, crmV1];
