// OAuth 2 provider presets: each provider's endpoints and quirks as data, so an integration says
// `oauth2(providers.hubspot, { scopes, clientId, clientSecret })` instead of re-learning them.
//
// Written from each provider's own OAuth documentation (the `docs` link of each entry). We looked
// at grant's MIT-licensed config/oauth.json (npm `grant` 5.4) as a data source: it has endpoints
// and a scope separator but none of the other quirks, and some entries are out of date (Slack's
// v1 endpoints, Xero's OAuth 1), so we keep our own list and cross-checked endpoints against it.
// Nothing here was tried against the live providers (no internet where it was written): each
// quirk *kind* is tested end to end against a local authorization server that behaves that way.
import * as z from 'zod';

/** A connection field the customer fills in before connecting; its value replaces `{name}` in the URLs. */
export interface TenantField {
  label: string;
  description?: string;
  /** Anchored regular expression the value must match: it becomes part of a URL the server calls. */
  pattern: string;
  /** Used when the customer leaves the field empty; without it the field is required. */
  default?: string;
  placeholder?: string;
}

export interface ProviderPreset {
  /** The provider's name, shown as "Connecting to <name>…". */
  name: string;
  /** The provider's OAuth documentation that these values come from. */
  docs: string;
  /** May contain `{field}` placeholders filled from `tenant`. */
  authorizationUrl: string;
  tokenUrl: string;
  /** RFC 7009 revocation endpoint, when the provider has one. */
  revocationUrl?: string;
  /** How scopes are joined in the authorization request (and split in token responses). */
  scopeSeparator: ' ' | ',';
  tokenAuthMethod: 'client_secret_basic' | 'client_secret_post';
  /** Whether the provider accepts PKCE (S256); without it no code challenge is sent. */
  pkce: boolean;
  /** The provider issues a new refresh token on each refresh and invalidates the old one. */
  refreshTokenRotation: boolean;
  /** False: access tokens do not expire (often no `expires_in` and no refresh token). */
  tokensExpire: boolean;
  extraAuthorizationParams?: Record<string, string>;
  extraTokenParams?: Record<string, string>;
  /** Per-customer parts of the URLs (shop, subdomain, region, directory tenant). */
  tenant?: Record<string, TenantField>;
  /** Where the provider's API lives (for the vendor proxy and flows); may contain placeholders too. */
  apiBaseUrl?: string;
  /** Anything else an integration engineer must know. */
  notes?: string;
}

const HTTPS_URL = z.string().regex(/^https:\/\/[^\s]+$/, 'an https URL');
const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9_]*)\}/g;

/** What every preset must satisfy; the tests run every entry through it. */
export const ProviderPresetSchema = z
  .object({
    name: z.string().min(1),
    docs: HTTPS_URL,
    authorizationUrl: HTTPS_URL,
    tokenUrl: HTTPS_URL,
    revocationUrl: HTTPS_URL.optional(),
    scopeSeparator: z.enum([' ', ',']),
    tokenAuthMethod: z.enum(['client_secret_basic', 'client_secret_post']),
    pkce: z.boolean(),
    refreshTokenRotation: z.boolean(),
    tokensExpire: z.boolean(),
    extraAuthorizationParams: z.record(z.string(), z.string()).optional(),
    extraTokenParams: z.record(z.string(), z.string()).optional(),
    tenant: z
      .record(
        z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/),
        z.object({
          label: z.string().min(1),
          description: z.string().optional(),
          pattern: z.string().regex(/^\^.*\$$/, 'an anchored pattern (^…$)'),
          default: z.string().optional(),
          placeholder: z.string().optional(),
        }),
      )
      .optional(),
    apiBaseUrl: HTTPS_URL.optional(),
    notes: z.string().optional(),
  })
  .strict()
  .superRefine((preset, ctx) => {
    // Every placeholder in a URL names a tenant field, and every default matches its own pattern.
    for (const key of ['authorizationUrl', 'tokenUrl', 'revocationUrl', 'apiBaseUrl'] as const) {
      for (const [, name] of (preset[key] ?? '').matchAll(PLACEHOLDER)) {
        if (!preset.tenant || !Object.hasOwn(preset.tenant, name!)) ctx.addIssue({ code: 'custom', path: [key], message: `{${name}} is not a tenant field` });
      }
    }
    for (const [name, field] of Object.entries(preset.tenant ?? {})) {
      if (!validHtmlPattern(field.pattern)) ctx.addIssue({ code: 'custom', path: ['tenant', name, 'pattern'], message: HTML_PATTERN_HINT });
      if (field.default !== undefined && !new RegExp(field.pattern).test(field.default)) {
        ctx.addIssue({ code: 'custom', path: ['tenant', name, 'default'], message: 'does not match its pattern' });
      }
    }
  });

export const HTML_PATTERN_HINT = 'must also compile as a browser form pattern (the "v" flag: escape "-" inside [...] as "\\-")';

/** Browsers check `pattern` with the `v` flag and silently skip a pattern that doesn't compile so. */
export function validHtmlPattern(pattern: string): boolean {
  try {
    new RegExp(pattern, 'v');
    return true;
  } catch {
    return false;
  }
}

/** Names the placeholders of a URL template. */
export function placeholdersOf(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** Fills `{name}` placeholders; values were checked against their patterns before. */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(PLACEHOLDER, (_, name: string) => encodeURIComponent(values[name] ?? ''));
}

const SUBDOMAIN = '^[A-Za-z0-9](?:[A-Za-z0-9\\-]{0,61}[A-Za-z0-9])?$';

function define<const T extends Record<string, ProviderPreset>>(presets: T): T {
  return presets;
}

export const providers = define({
  airtable: {
    name: 'Airtable',
    docs: 'https://airtable.com/developers/web/api/oauth-reference',
    authorizationUrl: 'https://airtable.com/oauth2/v1/authorize',
    tokenUrl: 'https://airtable.com/oauth2/v1/token',
    scopeSeparator: ' ',
    tokenAuthMethod: 'client_secret_basic',
    pkce: true,
    refreshTokenRotation: true,
    tokensExpire: true,
    apiBaseUrl: 'https://api.airtable.com',
    notes: 'PKCE is required. Access tokens last 60 minutes; each refresh token is single use.',
  },
  asana: {
    name: 'Asana',
    docs: 'https://developers.asana.com/docs/oauth',
    authorizationUrl: 'https://app.asana.com/-/oauth_authorize',
    tokenUrl: 'https://app.asana.com/-/oauth_token',
    revocationUrl: 'https://app.asana.com/-/oauth_revoke',
    scopeSeparator: ' ',
    tokenAuthMethod: 'client_secret_post',
    pkce: true,
    refreshTokenRotation: false,
    tokensExpire: true,
    apiBaseUrl: 'https://app.asana.com/api/1.0',
  },
  atlassian: {
    name: 'Atlassian',
    docs: 'https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/',
    authorizationUrl: 'https://auth.atlassian.com/authorize',
    tokenUrl: 'https://auth.atlassian.com/oauth/token',
    scopeSeparator: ' ',
    tokenAuthMethod: 'client_secret_post',
    pkce: false,
    refreshTokenRotation: true,
    tokensExpire: true,
    extraAuthorizationParams: { audience: 'api.atlassian.com', prompt: 'consent' },
    apiBaseUrl: 'https://api.atlassian.com',
    notes:
      'Ask for the offline_access scope to get a refresh token. Calls go to api.atlassian.com/ex/jira/{cloudId}; find the cloud id with /oauth/token/accessible-resources.',
  },
  box: {
    name: 'Box',
    docs: 'https://developer.box.com/guides/authentication/oauth2/',
    authorizationUrl: 'https://account.box.com/api/oauth2/authorize',
    tokenUrl: 'https://api.box.com/oauth2/token',
    revocationUrl: 'https://api.box.com/oauth2/revoke',
    scopeSeparator: ' ',
    tokenAuthMethod: 'client_secret_post',
    pkce: false,
    refreshTokenRotation: true,
    tokensExpire: true,
    apiBaseUrl: 'https://api.box.com/2.0',
    notes: 'Access tokens last 60 minutes; each refresh returns a new refresh token and the old one stops working.',
  },
  calendly: {
    name: 'Calendly',
    docs: 'https://developer.calendly.com/create-a-developer-account',
    authorizationUrl: 'https://auth.calendly.com/oauth/authorize',
    tokenUrl: 'https://auth.calendly.com/oauth/token',
    revocationUrl: 'https://auth.calendly.com/oauth/revoke',
    scopeSeparator: ' ',
    tokenAuthMethod: 'client_secret_basic',
    pkce: true,
    refreshTokenRotation: true,
    tokensExpire: true,
    apiBaseUrl: 'https://api.calendly.com',
  },
  discord: {
    name: 'Discord',
    docs: 'https://discord.com/developers/docs/topics/oauth2',
    authorizationUrl: 'https://discord.com/oauth2/authorize',
    tokenUrl: 'https://discord.com/api/oauth2/token',
    revocationUrl: 'https://discord.com/api/oauth2/token/revoke',
    scopeSeparator: ' ',
    tokenAuthMethod: 'client_secret_basic',
    pkce: false,
    refreshTokenRotation: true,
    tokensExpire: true,
    apiBaseUrl: 'https://discord.com/api',
  },
  docusign: {
    name: 'DocuSign',
    docs: 'https://developers.docusign.com/platform/auth/authcode/authcode-get-token/',
    authorizationUrl: 'https://{authHost}/oauth/auth',
    tokenUrl: 'https://{authHost}/oauth/token',
    scopeSeparator: ' ',
    tokenAuthMethod: 'client_secret_basic',
    pkce: true,
    refreshTokenRotation: true,
    tokensExpire: true,
    tenant: {
      authHost: {
        label: 'DocuSign environment',
        description: 'account.docusign.com for production, account-d.docusign.com for the developer sandbox.',
        pattern: '^account(-d)?\\.docusign\\.com$',
        default: 'account.docusign.com',
      },
    },
    notes: 'The API base URL differs per account: read it from /oauth/userinfo (accounts[].base_uri) after connecting.',
  },
  dropbox: {
    name: 'Dropbox',
    docs: 'https://developers.dropbox.com/oauth-guide',
    authorizationUrl: 'https://www.dropbox.com/oauth2/authorize',
    tokenUrl: 'https://api.dropboxapi.com/oauth2/token',
    scopeSeparator: ' ',
    tokenAuthMethod: 'client_secret_basic',
    pkce: true,
    refreshTokenRotation: false,
    tokensExpire: true,
    extraAuthorizationParams: { token_access_type: 'offline' },
    apiBaseUrl: 'https://api.dropboxapi.com/2',
    notes: 'token_access_type=offline is what makes Dropbox return a refresh token; access tokens last about 4 hours.',
  },
  github: {
    name: 'GitHub',
    docs: 'https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps',
    authorizationUrl: 'https://github.com/login/oauth/authorize',
    tokenUrl: 'https://github.com/login/oauth/access_token',
    scopeSeparator: ' ',
    tokenAuthMethod: 'client_secret_post',
    pkce: true,
    refreshTokenRotation: false,
    tokensExpire: false,
    apiBaseUrl: 'https://api.github.com',
    notes: 'OAuth app tokens do not expire and come without a refresh token. (GitHub App user tokens expire after 8 hours and rotate their refresh tokens.)',
  },
  gitlab: {
    name: 'GitLab',
    docs: 'https://docs.gitlab.com/api/oauth2/',
    authorizationUrl: 'https://{host}/oauth/authorize',
    tokenUrl: 'https://{host}/oauth/token',
    revocationUrl: 'https://{host}/oauth/revoke',
    scopeSeparator: ' ',
    tokenAuthMethod: 'client_secret_post',
    pkce: true,
    refreshTokenRotation: true,
    tokensExpire: true,
    tenant: {
      host: {
        label: 'GitLab host',
        description: 'gitlab.com, or your self-managed GitLab host name.',
        pattern: '^(?=.{1,253}$)[a-z0-9](?:[a-z0-9\\-]{0,61}[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9\\-]{0,61}[a-z0-9])?)+$',
        default: 'gitlab.com',
      },
    },
    apiBaseUrl: 'https://{host}/api/v4',
    notes: 'Access tokens last 2 hours; refresh tokens rotate.',
  },
  google: {
    name: 'Google',
    docs: 'https://developers.google.com/identity/protocols/oauth2/web-server',
    authorizationUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    revocationUrl: 'https://oauth2.googleapis.com/revoke',
    scopeSeparator: ' ',
    tokenAuthMethod: 'client_secret_post',
    pkce: true,
    refreshTokenRotation: false,
    tokensExpire: true,
    extraAuthorizationParams: { access_type: 'offline', prompt: 'consent', include_granted_scopes: 'true' },
    apiBaseUrl: 'https://www.googleapis.com',
    notes: 'access_type=offline gets a refresh token; prompt=consent gets one again when a customer reconnects.',
  },
  hubspot: {
    name: 'HubSpot',
    docs: 'https://developers.hubspot.com/docs/api/oauth-quickstart-guide',
    authorizationUrl: 'https://app.hubspot.com/oauth/authorize',
    tokenUrl: 'https://api.hubapi.com/oauth/v1/token',
    scopeSeparator: ' ',
    tokenAuthMethod: 'client_secret_post',
    pkce: false,
    refreshTokenRotation: false,
    tokensExpire: true,
    apiBaseUrl: 'https://api.hubapi.com',
    notes: 'Access tokens last 30 minutes. Revocation is DELETE /oauth/v1/refresh-tokens/{token}, not RFC 7009.',
  },
  intercom: {
    name: 'Intercom',
    docs: 'https://developers.intercom.com/docs/build-an-integration/learn-more/authentication/setting-up-oauth',
    authorizationUrl: 'https://app.intercom.com/oauth',
    tokenUrl: 'https://api.intercom.io/auth/eagle/token',
    scopeSeparator: ' ',
    tokenAuthMethod: 'client_secret_post',
    pkce: false,
    refreshTokenRotation: false,
    tokensExpire: false,
    apiBaseUrl: 'https://api.intercom.io',
    notes: 'Permissions are set on the app, not per request: pass no scopes. Tokens do not expire.',
  },
  linear: {
    name: 'Linear',
    docs: 'https://linear.app/developers/oauth-2-0-authentication',
    authorizationUrl: 'https://linear.app/oauth/authorize',
    tokenUrl: 'https://api.linear.app/oauth/token',
    revocationUrl: 'https://api.linear.app/oauth/revoke',
    scopeSeparator: ',',
    tokenAuthMethod: 'client_secret_post',
    pkce: true,
    refreshTokenRotation: true,
    tokensExpire: true,
    extraAuthorizationParams: { prompt: 'consent' },
    apiBaseUrl: 'https://api.linear.app',
    notes: 'Scopes are comma-separated (read,write).',
  },
  mailchimp: {
    name: 'Mailchimp',
    docs: 'https://mailchimp.com/developer/marketing/guides/access-user-data-oauth-2/',
    authorizationUrl: 'https://login.mailchimp.com/oauth2/authorize',
    tokenUrl: 'https://login.mailchimp.com/oauth2/token',
    scopeSeparator: ' ',
    tokenAuthMethod: 'client_secret_post',
    pkce: false,
    refreshTokenRotation: false,
    tokensExpire: false,
    notes:
      'No scopes and no refresh token: tokens do not expire. The API host depends on the account: GET https://login.mailchimp.com/oauth2/metadata gives its api_endpoint.',
  },
  microsoft: {
    name: 'Microsoft',
    docs: 'https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow',
    authorizationUrl: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize',
    tokenUrl: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token',
    scopeSeparator: ' ',
    tokenAuthMethod: 'client_secret_post',
    pkce: true,
    refreshTokenRotation: true,
    tokensExpire: true,
    tenant: {
      tenant: {
        label: 'Directory (tenant)',
        description: 'Your Microsoft Entra tenant id or domain; leave empty for any work or personal account.',
        pattern: '^(common|organizations|consumers|[0-9a-fA-F\\-]{36}|[A-Za-z0-9.\\-]+\\.[A-Za-z]{2,})$',
        default: 'common',
      },
    },
    apiBaseUrl: 'https://graph.microsoft.com',
    notes: 'Ask for offline_access to get a refresh token. Refresh tokens are replaced on each use.',
  },
  monday: {
    name: 'monday.com',
    docs: 'https://developer.monday.com/apps/docs/oauth',
    authorizationUrl: 'https://auth.monday.com/oauth2/authorize',
    tokenUrl: 'https://auth.monday.com/oauth2/token',
    scopeSeparator: ' ',
    tokenAuthMethod: 'client_secret_post',
    pkce: false,
    refreshTokenRotation: false,
    tokensExpire: false,
    apiBaseUrl: 'https://api.monday.com/v2',
  },
  notion: {
    name: 'Notion',
    docs: 'https://developers.notion.com/docs/authorization',
    authorizationUrl: 'https://api.notion.com/v1/oauth/authorize',
    tokenUrl: 'https://api.notion.com/v1/oauth/token',
    scopeSeparator: ' ',
    tokenAuthMethod: 'client_secret_basic',
    pkce: false,
    refreshTokenRotation: false,
    tokensExpire: false,
    extraAuthorizationParams: { owner: 'user' },
    apiBaseUrl: 'https://api.notion.com/v1',
    notes: 'Capabilities are set on the integration, not per request: pass no scopes. Calls need a Notion-Version header.',
  },
  pipedrive: {
    name: 'Pipedrive',
    docs: 'https://pipedrive.readme.io/docs/marketplace-oauth-authorization',
    authorizationUrl: 'https://oauth.pipedrive.com/oauth/authorize',
    tokenUrl: 'https://oauth.pipedrive.com/oauth/token',
    revocationUrl: 'https://oauth.pipedrive.com/oauth/revoke',
    scopeSeparator: ' ',
    tokenAuthMethod: 'client_secret_basic',
    pkce: false,
    refreshTokenRotation: false,
    tokensExpire: true,
    notes: 'Scopes are set on the app. The token response names the company API domain (api_domain) to call.',
  },
  quickbooks: {
    name: 'QuickBooks Online',
    docs: 'https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0',
    authorizationUrl: 'https://appcenter.intuit.com/connect/oauth2',
    tokenUrl: 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer',
    revocationUrl: 'https://developer.api.intuit.com/v2/oauth2/tokens/revoke',
    scopeSeparator: ' ',
    tokenAuthMethod: 'client_secret_basic',
    pkce: false,
    refreshTokenRotation: true,
    tokensExpire: true,
    apiBaseUrl: 'https://quickbooks.api.intuit.com',
    notes: 'The callback carries realmId (the company). Always keep the newest refresh token: Intuit may replace it on any refresh.',
  },
  salesforce: {
    name: 'Salesforce',
    docs: 'https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm',
    authorizationUrl: 'https://{loginHost}/services/oauth2/authorize',
    tokenUrl: 'https://{loginHost}/services/oauth2/token',
    revocationUrl: 'https://{loginHost}/services/oauth2/revoke',
    scopeSeparator: ' ',
    tokenAuthMethod: 'client_secret_post',
    pkce: true,
    refreshTokenRotation: false,
    tokensExpire: false,
    tenant: {
      loginHost: {
        label: 'Salesforce login host',
        description: 'login.salesforce.com, test.salesforce.com for a sandbox, or your My Domain host.',
        pattern: '^((login|test)\\.salesforce\\.com|[a-z0-9\\-]+(\\.sandbox)?\\.my\\.salesforce\\.com)$',
        default: 'login.salesforce.com',
      },
    },
    notes:
      'No expires_in: the access token lives as long as the org session policy; refresh when a call answers 401. The token response names instance_url, the API host.',
  },
  shopify: {
    name: 'Shopify',
    docs: 'https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant',
    authorizationUrl: 'https://{shop}.myshopify.com/admin/oauth/authorize',
    tokenUrl: 'https://{shop}.myshopify.com/admin/oauth/access_token',
    scopeSeparator: ',',
    tokenAuthMethod: 'client_secret_post',
    pkce: false,
    refreshTokenRotation: false,
    tokensExpire: false,
    tenant: {
      shop: { label: 'Shop name', description: 'The part before .myshopify.com.', pattern: SUBDOMAIN, placeholder: 'acme-store' },
    },
    apiBaseUrl: 'https://{shop}.myshopify.com/admin/api',
    notes: 'Scopes are comma-separated. Offline tokens do not expire.',
  },
  slack: {
    name: 'Slack',
    docs: 'https://api.slack.com/authentication/oauth-v2',
    authorizationUrl: 'https://slack.com/oauth/v2/authorize',
    tokenUrl: 'https://slack.com/api/oauth.v2.access',
    scopeSeparator: ',',
    tokenAuthMethod: 'client_secret_post',
    pkce: false,
    refreshTokenRotation: true,
    tokensExpire: false,
    apiBaseUrl: 'https://slack.com/api',
    notes:
      'Scopes are comma-separated bot scopes. Tokens do not expire unless token rotation is turned on for the app; then they last 12 hours and refresh tokens rotate.',
  },
  stripe: {
    name: 'Stripe Connect',
    docs: 'https://docs.stripe.com/connect/oauth-reference',
    authorizationUrl: 'https://connect.stripe.com/oauth/authorize',
    tokenUrl: 'https://connect.stripe.com/oauth/token',
    scopeSeparator: ' ',
    tokenAuthMethod: 'client_secret_post',
    pkce: false,
    refreshTokenRotation: false,
    tokensExpire: false,
    apiBaseUrl: 'https://api.stripe.com',
    notes: 'The client secret is your platform secret key. Scope is read_write or read_only. Deauthorize with POST /oauth/deauthorize (not RFC 7009).',
  },
  typeform: {
    name: 'Typeform',
    docs: 'https://www.typeform.com/developers/get-started/applications/',
    authorizationUrl: 'https://api.typeform.com/oauth/authorize',
    tokenUrl: 'https://api.typeform.com/oauth/token',
    scopeSeparator: ' ',
    tokenAuthMethod: 'client_secret_post',
    pkce: false,
    refreshTokenRotation: true,
    tokensExpire: true,
    apiBaseUrl: 'https://api.typeform.com',
    notes: 'Ask for the offline scope to get a refresh token.',
  },
  xero: {
    name: 'Xero',
    docs: 'https://developer.xero.com/documentation/guides/oauth2/auth-flow',
    authorizationUrl: 'https://login.xero.com/identity/connect/authorize',
    tokenUrl: 'https://identity.xero.com/connect/token',
    revocationUrl: 'https://identity.xero.com/connect/revocation',
    scopeSeparator: ' ',
    tokenAuthMethod: 'client_secret_basic',
    pkce: true,
    refreshTokenRotation: true,
    tokensExpire: true,
    apiBaseUrl: 'https://api.xero.com',
    notes: 'Ask for offline_access. Access tokens last 30 minutes; calls need a xero-tenant-id header from GET /connections.',
  },
  zendesk: {
    name: 'Zendesk',
    docs: 'https://developer.zendesk.com/documentation/ticketing/working-with-oauth/creating-and-using-oauth-tokens-with-the-api/',
    authorizationUrl: 'https://{subdomain}.zendesk.com/oauth/authorizations/new',
    tokenUrl: 'https://{subdomain}.zendesk.com/oauth/tokens',
    scopeSeparator: ' ',
    tokenAuthMethod: 'client_secret_post',
    pkce: true,
    refreshTokenRotation: false,
    tokensExpire: false,
    tenant: {
      subdomain: { label: 'Zendesk subdomain', description: 'The part before .zendesk.com.', pattern: SUBDOMAIN, placeholder: 'acme' },
    },
    apiBaseUrl: 'https://{subdomain}.zendesk.com/api/v2',
    notes: 'Tokens do not expire by default.',
  },
  zoho: {
    name: 'Zoho',
    docs: 'https://www.zoho.com/accounts/protocol/oauth/web-server-applications.html',
    authorizationUrl: 'https://accounts.zoho.{region}/oauth/v2/auth',
    tokenUrl: 'https://accounts.zoho.{region}/oauth/v2/token',
    revocationUrl: 'https://accounts.zoho.{region}/oauth/v2/token/revoke',
    scopeSeparator: ',',
    tokenAuthMethod: 'client_secret_post',
    pkce: false,
    refreshTokenRotation: false,
    tokensExpire: true,
    extraAuthorizationParams: { access_type: 'offline', prompt: 'consent' },
    tenant: {
      region: {
        label: 'Zoho data center',
        description: 'com, eu, in, com.au, jp, ca or sa: where your Zoho account lives.',
        pattern: '^(com|eu|in|com\\.au|jp|ca|sa|com\\.cn)$',
        default: 'com',
      },
    },
    notes: 'Scopes are comma-separated. The token response names api_domain.',
  },
  zoom: {
    name: 'Zoom',
    docs: 'https://developers.zoom.us/docs/integrations/oauth/',
    authorizationUrl: 'https://zoom.us/oauth/authorize',
    tokenUrl: 'https://zoom.us/oauth/token',
    revocationUrl: 'https://zoom.us/oauth/revoke',
    scopeSeparator: ' ',
    tokenAuthMethod: 'client_secret_basic',
    pkce: true,
    refreshTokenRotation: true,
    tokensExpire: true,
    apiBaseUrl: 'https://api.zoom.us/v2',
    notes: 'Access tokens last 1 hour; each refresh returns a new refresh token.',
  },
});

export type ProviderName = keyof typeof providers;
