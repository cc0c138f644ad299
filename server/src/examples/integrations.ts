// The demo vendor's integrations: what "Acme CRM" offers its customers in `npm start`.
// Each one talks to a local stand-in of a third-party service served by the demo server
// (demo/services.ts, under `${PLUGBOARD_DEMO_URL}/demo/api/…`), so the demo works offline.
import { createHmac } from 'node:crypto';
import {
  apiKey,
  defineIntegration,
  field,
  oauth2,
  RetryableError,
  schedule,
  sync,
  webhook,
  type ApiKeyCredentials,
  type ConnectionCheckInput,
  type ConnectionCredentials,
  type FlowContext,
  type Integration,
  type MappingRow,
} from '../sdk/index.js';

// Read at call time: the demo sets these after it has picked its ports.
const DEFAULT_DEMO_URL = 'http://localhost:8787';
const DEFAULT_OAUTH_ISSUER = 'http://127.0.0.1:8788';

export function demoUrl(): string {
  return (process.env.PLUGBOARD_DEMO_URL ?? DEFAULT_DEMO_URL).replace(/\/+$/, '');
}

function demoOAuthIssuer(): string {
  return process.env.PLUGBOARD_DEMO_OAUTH_ISSUER ?? DEFAULT_OAUTH_ISSUER;
}

/** A small square icon as a `data:` URI (never markup in the page: the elements render it as an <img>). */
function icon(background: string, glyph: string): string {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">` +
    `<rect width="32" height="32" rx="7" fill="${background}"/>` +
    `<g fill="none" stroke="#fff" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round">${glyph}</g></svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

/** Keys the demo services accept: anything that starts with `demo_` and is long enough to look real. */
export const DEMO_KEY_HINT = 'In the demo, any key that starts with demo_ works (e.g. demo_4f9a2c71).';

function apiKeyOf(connections: Record<string, ConnectionCredentials>, name: string, fieldName: string): string {
  const c = connections[name];
  const value = c?.kind === 'apiKey' ? c.values[fieldName] : undefined;
  if (!value) throw new Error(`The ${name} connection has no ${fieldName}: connect it first`);
  return value;
}

function accessTokenOf(connections: Record<string, ConnectionCredentials>, name: string): string {
  const c = connections[name];
  if (!c || c.kind === 'apiKey') throw new Error(`The ${name} connection is not connected`);
  return c.accessToken;
}

/** Turns a service's answer into data, or an error worth retrying (5xx, 429) or not (other 4xx). */
async function expectOk(res: Response, what: string): Promise<unknown> {
  if (res.ok) return res.status === 204 ? null : ((await res.json()) as unknown);
  const detail = (await res.text().catch(() => '')).slice(0, 200);
  if (res.status >= 500 || res.status === 429) throw new RetryableError(`${what}: ${res.status} ${detail}`);
  throw new Error(`${what}: ${res.status} ${detail}`);
}

/** A stand-in service's "who am I" with the typed credentials (what a connection's test and identify ask). */
async function whoAmI(path: string, key: string | undefined, { fetch, signal }: Pick<ConnectionCheckInput<ApiKeyCredentials>, 'fetch' | 'signal'>) {
  return fetch(`${demoUrl()}/demo/api/${path}`, { headers: { authorization: `Bearer ${key ?? ''}` }, signal });
}

const KEY_REFUSED = `The service did not accept this key. ${DEMO_KEY_HINT}`;

type Option = { value: string; label: string };

function asOptions(body: unknown, key: string): Option[] {
  const list = (body as Record<string, unknown> | null)?.[key];
  if (!Array.isArray(list)) return [];
  return list
    .filter(
      (o: unknown): o is { id: string; name: string } =>
        typeof (o as { id?: unknown } | null)?.id === 'string' && typeof (o as { name?: unknown } | null)?.name === 'string',
    )
    .map((o) => ({ value: o.id, label: o.name }));
}

/** Puts a message in the Acme demo inbox, which the host page shows per customer. */
async function postToInbox(
  ctx: Pick<FlowContext, 'fetch' | 'customer' | 'instanceId' | 'executionId' | 'signal'>,
  message: { source: string; title: string; body: string; data?: unknown },
): Promise<void> {
  const res = await ctx.fetch(`${demoUrl()}/demo/inbox`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customer: ctx.customer.externalId, instanceId: ctx.instanceId, executionId: ctx.executionId, ...message }),
    signal: ctx.signal,
  });
  await expectOk(res, 'Demo inbox');
}

/** `Hello {{name}}` with values from an event payload; unknown keys stay as they are. */
function fillTemplate(template: string, values: Record<string, unknown>): string {
  return template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (whole, path: string) => {
    let v: unknown = values;
    for (const part of path.split('.')) v = (v as Record<string, unknown> | null)?.[part];
    return v === undefined || v === null ? whole : String(v);
  });
}

function record(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

// ---------------------------------------------------------------- Chatwave (Slack-style)

interface ChatwaveConfig {
  channel: string;
  template: string;
  notifyOn: string[];
  mentionOwner: boolean;
}

/** The Acme CRM events Chatwave can announce, in the customer's words. */
const CHATWAVE_EVENTS: Record<string, string> = {
  'deal.won': 'Deal won',
  'deal.lost': 'Deal lost',
  'ticket.opened': 'Support ticket opened',
  'invoice.paid': 'Invoice paid',
};

const chatwaveConnection = oauth2({
  label: 'Chatwave workspace',
  description: 'Sign in to Chatwave and allow Acme CRM to post to your channels.',
  issuer: DEFAULT_OAUTH_ISSUER,
  scopes: ['openid', 'profile', 'offline_access', 'channels:read', 'chat:write'],
  clientId: () => process.env.PLUGBOARD_DEMO_OAUTH_CLIENT_ID ?? 'acme-crm',
  clientSecret: () => process.env.PLUGBOARD_DEMO_OAUTH_CLIENT_SECRET ?? 'acme-crm-demo-secret',
  // "Connected as …": the name OpenID Connect's userinfo gives for the token (the `profile` scope).
  async identify({ credentials, fetch, signal }) {
    const res = await fetch(`${demoOAuthIssuer()}/me`, { headers: { authorization: `Bearer ${credentials.accessToken}` }, signal });
    const info = record(await expectOk(res, 'Chatwave userinfo'));
    return typeof info.name === 'string' ? info.name : typeof info.sub === 'string' ? info.sub : null;
  },
});
// The demo OAuth server's port is only known at start-up: read the issuer when the server asks for it.
Object.defineProperty(chatwaveConnection, 'issuer', { enumerable: true, get: demoOAuthIssuer });

const chatwave = defineIntegration({
  key: 'chatwave-notifier',
  name: 'Chatwave notifications',
  description: 'Post a message to a Chatwave channel when deals move, tickets open or invoices are paid in Acme CRM.',
  overview:
    'Keep your team in the loop without leaving Chatwave. Pick a channel, write the message with placeholders ' +
    'such as {{deal.name}} or {{amount}}, and choose which Acme CRM events should be announced.\n\n' +
    'Acme CRM signs in to Chatwave with OAuth: your Chatwave password is never shared, and you can revoke access at any time.',
  category: 'Communication',
  icon: icon('#4a154b', '<path d="M9 11h14M9 16h10M9 21h6"/><path d="M6 7h20v16H13l-5 4v-4H6z"/>'),
  version: '1.2.0',
  connections: { chatwave: chatwaveConnection },
  configPages: [
    {
      title: 'Where to post',
      description: 'The channel comes from your Chatwave workspace.',
      fields: {
        channel: field.picker({ label: 'Channel', dataSource: 'channels', help: 'Only public channels you can post to are listed.' }),
      },
    },
    {
      title: 'What to post',
      fields: {
        template: field.longText({
          label: 'Message template',
          default: ':tada: {{event}}: {{title}} ({{amount}})',
          help: 'Placeholders in {{double braces}} are filled from the event.',
          maxLength: 2000,
        }),
        notifyOn: field.multiChoice({
          label: 'Notify on',
          options: Object.entries(CHATWAVE_EVENTS).map(([value, label]) => ({ value, label })),
          min: 1,
          default: ['deal.won'],
        }),
        mentionOwner: field.boolean({ label: 'Mention the record owner', help: 'Adds @owner to the message.' }),
      },
    },
  ],
  dataSources: {
    async channels({ connections, query, fetch, signal }) {
      // The demo OAuth server's protected API: it answers only to a token it issued.
      const token = accessTokenOf(connections, 'chatwave');
      const res = await fetch(`${demoOAuthIssuer()}/api/channels`, { headers: { authorization: `Bearer ${token}` }, signal });
      const q = query.trim().toLowerCase();
      return asOptions(await expectOk(res, 'Chatwave channels'), 'channels')
        .filter((o) => !q || o.label.toLowerCase().includes(q))
        .map((o) => ({ value: o.value, label: `#${o.label}` }));
    },
  },
  flows: {
    announce: {
      label: 'Post events to Chatwave',
      description: 'Each Acme CRM event you chose is posted to your channel.',
      // Acme CRM itself calls this URL: the customer never needs to see it.
      trigger: webhook({ label: 'Acme CRM events', description: 'Acme CRM sends deal, ticket and invoice events here.' }),
      async run(ctx: FlowContext<ChatwaveConfig>) {
        const event = record(ctx.payload);
        const type = typeof event.event === 'string' ? event.event : 'deal.won';
        if (!ctx.config.notifyOn.includes(type)) {
          ctx.log.info(`Skipped ${type}: not in "Notify on"`);
          return { posted: false, reason: 'filtered', summary: `Skipped: ${CHATWAVE_EVENTS[type] ?? type} is not in "Notify on"` };
        }
        let text = fillTemplate(ctx.config.template, { event: type, ...event });
        if (ctx.config.mentionOwner && typeof event.owner === 'string') text += ` @${event.owner}`;
        const token = accessTokenOf(ctx.connections, 'chatwave');
        const res = await ctx.fetch(`${demoUrl()}/demo/api/chatwave/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ channel: ctx.config.channel, text, customer: ctx.customer.externalId }),
          signal: ctx.signal,
        });
        const posted = record(await expectOk(res, 'Chatwave post'));
        ctx.log.info(`Posted to #${String(posted.channelName ?? ctx.config.channel)}: ${text}`);
        return { posted: true, messageId: posted.id, summary: `Posted to #${String(posted.channelName ?? ctx.config.channel)}` };
      },
    },
  },
});

// ---------------------------------------------------------------- Northwind CRM contact sync

/** Acme CRM's own contact fields: what a Northwind field can fill. */
const ACME_CONTACT_FIELDS = [
  { value: 'email', label: 'Email' },
  { value: 'firstName', label: 'First name' },
  { value: 'lastName', label: 'Last name' },
  { value: 'company', label: 'Company' },
  { value: 'phone', label: 'Phone' },
  { value: 'title', label: 'Job title' },
];

interface NorthwindConfig {
  direction: 'import' | 'export' | 'both';
  fieldMapping: MappingRow[];
  intervalMinutes: number;
  includeArchived: boolean;
  ownerEmail?: string;
}

const northwind = defineIntegration({
  key: 'northwind-crm-sync',
  name: 'Northwind CRM contact sync',
  description: 'Keep contacts in step between Acme CRM and Northwind CRM, in one or both directions.',
  overview:
    'Sync contacts, with the fields you choose, between Acme CRM and your Northwind CRM account. ' +
    'New and changed contacts are picked up at the interval you choose.\n\n' +
    'You need your Northwind account id and an API key with the contacts:read and contacts:write permissions ' +
    '(Northwind → Settings → API keys).',
  category: 'CRM',
  icon: icon('#0f766e', '<circle cx="13" cy="12" r="4"/><path d="M6 24c0-4 3-7 7-7s7 3 7 7"/><path d="M21 9h6M24 6v6"/>'),
  version: '2.1.0',
  connections: {
    northwind: apiKey({
      label: 'Northwind CRM account',
      description: 'Your account id and an API key from Northwind → Settings → API keys.',
      // Northwind's published limits per API key, shared by every flow and runner using this account.
      rateLimit: [
        { requests: 5, per: '1s' },
        { requests: 10_000, per: '1d' },
      ],
      fields: {
        accountId: field.text({ label: 'Account ID', placeholder: 'nw-123456', pattern: /^nw-\d{4,10}$/, help: 'Looks like nw-123456.' }),
        apiKey: field.secret({ label: 'API key', help: DEMO_KEY_HINT }),
      },
      // The account must exist and the key must open it: checked before anything is saved.
      async test({ credentials: { values }, fetch, signal }) {
        const res = await whoAmI(`northwind/accounts/${encodeURIComponent(values.accountId ?? '')}`, values.apiKey, { fetch, signal });
        if (res.status === 401) return { ok: false, field: 'apiKey', message: KEY_REFUSED };
        if (res.status === 404) return { ok: false, field: 'accountId', message: 'Northwind has no account with this ID.' };
        await expectOk(res, 'Northwind account');
        return { ok: true };
      },
      async identify({ credentials: { values }, fetch, signal }) {
        const res = await whoAmI(`northwind/accounts/${encodeURIComponent(values.accountId ?? '')}`, values.apiKey, { fetch, signal });
        const name = record(await expectOk(res, 'Northwind account')).name;
        return typeof name === 'string' ? name : null;
      },
    }),
  },
  configPages: [
    {
      title: 'Sync',
      description: 'What moves, and which way.',
      fields: {
        direction: field.choice({
          label: 'Direction',
          options: [
            { value: 'import', label: 'Northwind → Acme CRM' },
            { value: 'export', label: 'Acme CRM → Northwind' },
            { value: 'both', label: 'Both ways' },
          ],
          default: 'import',
        }),
        includeArchived: field.boolean({ label: 'Include archived contacts' }),
        intervalMinutes: field.number({ label: 'Sync interval (minutes)', min: 15, max: 1440, integer: true, default: 15 }),
      },
    },
    {
      title: 'Field mapping',
      description: 'Which Northwind field fills which Acme CRM field.',
      fields: {
        fieldMapping: field.mapping({
          label: 'Contact fields',
          targets: 'crmFields',
          sources: 'contactFields',
          targetLabel: 'Acme CRM field',
          sourceLabel: 'Northwind field',
          default: [
            { target: 'email', source: 'email' },
            { target: 'firstName', source: 'first_name' },
            { target: 'lastName', source: 'last_name' },
            { target: 'company', source: 'account_name' },
          ],
          help: 'Each Acme CRM field is filled from the Northwind field beside it.',
        }),
        ownerEmail: field.email({
          label: 'Owner for new contacts',
          required: false,
          placeholder: 'sales@yourcompany.com',
          help: 'Imported contacts without an owner are assigned to this Acme CRM user.',
        }),
      },
    },
  ],
  dataSources: {
    // The fields of the vendor's own product: a fixed list, no connection needed.
    async crmFields() {
      return ACME_CONTACT_FIELDS;
    },
    // The fields the customer's Northwind account offers, read with their API key.
    async contactFields({ connections, fetch, signal }) {
      const key = apiKeyOf(connections, 'northwind', 'apiKey');
      const account = apiKeyOf(connections, 'northwind', 'accountId');
      const res = await fetch(`${demoUrl()}/demo/api/northwind/accounts/${encodeURIComponent(account)}/fields`, {
        headers: { authorization: `Bearer ${key}` },
        signal,
      });
      return asOptions(await expectOk(res, 'Northwind fields'), 'fields');
    },
  },
  flows: {
    // sync(): lists Northwind's contacts page by page, remembers in the instance's state (ctx.state) what
    // it saw, and hands `handle` only the contacts created, changed or deleted since the last good run.
    syncContacts: sync<Record<string, unknown>, NorthwindConfig>({
      label: 'Sync contacts',
      description: 'Fetches new and changed Northwind contacts and applies your field mapping.',
      // Every 15 minutes until the customer picks their own interval on the Sync page.
      schedule: schedule('*/15 * * * *', { intervalField: 'intervalMinutes' }),
      // Every page goes through the connection: its rate limit (below, on `northwind`) applies.
      connection: 'northwind',
      async list({ cursor, fetch, ctx }) {
        const key = apiKeyOf(ctx.connections, 'northwind', 'apiKey');
        const account = apiKeyOf(ctx.connections, 'northwind', 'accountId');
        const url = new URL(`${demoUrl()}/demo/api/northwind/accounts/${encodeURIComponent(account)}/contacts`);
        url.searchParams.set('limit', '2');
        if (cursor) url.searchParams.set('cursor', cursor);
        if (ctx.config.includeArchived) url.searchParams.set('archived', 'true');
        const res = await fetch(url, { headers: { authorization: `Bearer ${key}` }, signal: ctx.signal });
        const body = record(await expectOk(res, 'Northwind contacts'));
        return { records: Array.isArray(body.contacts) ? body.contacts.map(record) : [], next: typeof body.next === 'string' ? body.next : null };
      },
      key: (contact) => String(contact.email),
      async handle({ created, updated, deleted }, ctx) {
        const account = apiKeyOf(ctx.connections, 'northwind', 'accountId');
        const contacts = [...created, ...updated];
        // A config saved before 2.1 held a JSON object: such an instance maps nothing until it is saved again.
        const rows = Array.isArray(ctx.config.fieldMapping) ? ctx.config.fieldMapping : [];
        const mapped = contacts.map((c) => Object.fromEntries(rows.map((row) => [row.target, c[row.source] ?? null])));
        ctx.log.info(`Fetched ${contacts.length} contacts from ${account} (${ctx.config.direction}): ${created.length} new, ${updated.length} changed`);
        const removed = deleted.length > 0 ? `\nNo longer in Northwind: ${deleted.join(', ')}` : '';
        await postToInbox(ctx, {
          source: 'Northwind CRM contact sync',
          title: `Synced ${mapped.length} contacts`,
          body: mapped.map((c) => `${String(c.firstName ?? '')} ${String(c.lastName ?? '')} <${String(c.email ?? '')}>`).join('\n') + removed,
          data: mapped,
        });
        return { synced: mapped.length, summary: `Synced ${mapped.length} ${mapped.length === 1 ? 'contact' : 'contacts'}` };
      },
    }),
  },
});

// ---------------------------------------------------------------- Webhook forwarder

interface ForwarderConfig {
  targetUrl: string;
  signingSecret?: string;
  retries: number;
}

const forwarder = defineIntegration({
  key: 'webhook-forwarder',
  name: 'Webhook forwarder',
  description: 'Forward Acme CRM events to any HTTPS endpoint of yours, signed so you can trust them.',
  overview:
    'Acme CRM calls a private webhook URL for this integration; every event it receives is forwarded, unchanged, ' +
    'to your endpoint. Incoming calls must be signed the Standard Webhooks way (webhook-id, webhook-timestamp, ' +
    'webhook-signature), and outgoing calls are ' +
    'signed with your own secret so your endpoint can check them.',
  category: 'Developer tools',
  icon: icon('#1f2937', '<path d="M11 10l-5 6 5 6M21 10l5 6-5 6M18 8l-4 16"/>'),
  version: '1.0.3',
  configPages: [
    {
      title: 'Destination',
      fields: {
        targetUrl: field.url({
          label: 'Target URL',
          placeholder: 'https://hooks.example.com/acme',
          help: 'Events are POSTed here as JSON. In the demo, try http://localhost:8787/demo/inbox.',
        }),
        signingSecret: field.secret({
          label: 'Signing secret',
          required: false,
          help: 'When set, each forwarded call carries X-Acme-Signature: sha256=<HMAC of the body>.',
        }),
        retries: field.number({ label: 'Retries on failure', min: 0, max: 10, integer: true, default: 3 }),
      },
    },
  ],
  flows: {
    forward: {
      label: 'Forward events',
      description: 'Each Acme CRM event is forwarded, unchanged, to your target URL.',
      // Acme CRM calls this URL (signed); the customer only gives the target.
      trigger: webhook({ signed: true, label: 'Acme CRM events', description: 'Acme CRM sends its events here, signed.' }),
      async run(ctx: FlowContext<ForwarderConfig>) {
        const body = typeof ctx.payload === 'string' ? ctx.payload : JSON.stringify(ctx.payload ?? null);
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          'x-acme-delivery': ctx.executionId,
          'x-acme-customer': ctx.customer.externalId,
        };
        if (ctx.config.signingSecret) {
          headers['x-acme-signature'] = `sha256=${createHmac('sha256', ctx.config.signingSecret).update(body).digest('hex')}`;
        }
        const res = await ctx.fetch(ctx.config.targetUrl, { method: 'POST', headers, body, signal: ctx.signal });
        if (res.status >= 500 || res.status === 429) {
          // The runtime retries with backoff; the customer's retry budget caps it.
          if (ctx.attempt <= ctx.config.retries) throw new RetryableError(`Target answered ${res.status}`);
          throw new Error(`Target answered ${res.status} after ${ctx.attempt} attempts`);
        }
        if (!res.ok) throw new Error(`Target answered ${res.status}: check the target URL`);
        const host = new URL(ctx.config.targetUrl).host;
        ctx.log.info(`Forwarded ${body.length} bytes to ${host} (${res.status})`);
        return { status: res.status, summary: `Forwarded to ${host}` };
      },
    },
  },
});

// ---------------------------------------------------------------- Gridsheet export

interface GridsheetConfig {
  workspace: string;
  sheet: string;
  columns: string[];
  timezone: string;
}

const gridsheet = defineIntegration({
  key: 'gridsheet-export',
  name: 'Gridsheet daily export',
  description: 'Append yesterday’s deals to a Gridsheet spreadsheet every morning.',
  overview:
    'Every day at 06:00 in your time zone, Acme CRM appends one row per deal closed the day before to the sheet you pick. ' +
    'Choose the workspace first: the sheet list is loaded from it.',
  category: 'Data',
  icon: icon('#15803d', '<rect x="7" y="7" width="18" height="18" rx="2"/><path d="M7 13h18M7 19h18M14 7v18"/>'),
  version: '1.1.0',
  connections: {
    gridsheet: apiKey({
      label: 'Gridsheet API key',
      fields: { apiKey: field.secret({ label: 'API key', help: DEMO_KEY_HINT }) },
      async test({ credentials: { values }, fetch, signal }) {
        const res = await whoAmI('gridsheet/me', values.apiKey, { fetch, signal });
        if (res.status === 401) return { ok: false, field: 'apiKey', message: KEY_REFUSED };
        await expectOk(res, 'Gridsheet user');
        return { ok: true };
      },
      async identify({ credentials: { values }, fetch, signal }) {
        const user = record(record(await expectOk(await whoAmI('gridsheet/me', values.apiKey, { fetch, signal }), 'Gridsheet user')).user);
        return typeof user.email === 'string' ? user.email : null;
      },
    }),
  },
  configPages: [
    {
      title: 'Spreadsheet',
      description: 'Pick the workspace, then the sheet to append to.',
      fields: {
        workspace: field.picker({ label: 'Workspace', dataSource: 'workspaces' }),
        sheet: field.picker({ label: 'Sheet', dataSource: 'sheets', dependsOn: ['workspace'], help: 'Sheets of the workspace above.' }),
      },
    },
    {
      title: 'Export',
      fields: {
        columns: field.multiChoice({
          label: 'Columns',
          options: [
            { value: 'deal', label: 'Deal name' },
            { value: 'company', label: 'Company' },
            { value: 'amount', label: 'Amount' },
            { value: 'stage', label: 'Stage' },
            { value: 'owner', label: 'Owner' },
            { value: 'closedAt', label: 'Closed on' },
          ],
          min: 1,
          default: ['deal', 'company', 'amount'],
        }),
        timezone: field.choice({
          label: 'Time zone',
          options: ['UTC', 'Europe/London', 'Europe/Berlin', 'America/New_York', 'America/Los_Angeles', 'Asia/Tokyo'],
          default: 'UTC',
          help: 'The export runs at 06:00 in this time zone.',
        }),
      },
    },
  ],
  dataSources: {
    async workspaces({ connections, query, fetch, signal }) {
      const key = apiKeyOf(connections, 'gridsheet', 'apiKey');
      const url = new URL(`${demoUrl()}/demo/api/gridsheet/workspaces`);
      if (query) url.searchParams.set('q', query);
      const res = await fetch(url, { headers: { authorization: `Bearer ${key}` }, signal });
      return asOptions(await expectOk(res, 'Gridsheet workspaces'), 'workspaces');
    },
    async sheets({ config, connections, query, fetch, signal }) {
      if (!config.workspace) return [];
      const key = apiKeyOf(connections, 'gridsheet', 'apiKey');
      const url = new URL(`${demoUrl()}/demo/api/gridsheet/workspaces/${encodeURIComponent(String(config.workspace))}/sheets`);
      if (query) url.searchParams.set('q', query);
      const res = await fetch(url, { headers: { authorization: `Bearer ${key}` }, signal });
      return asOptions(await expectOk(res, 'Gridsheet sheets'), 'sheets');
    },
  },
  flows: {
    dailyExport: {
      label: 'Daily export',
      description: 'Appends yesterday’s closed deals to your sheet.',
      // The SDK schedule carries one time zone per flow; the customer's choice is echoed in the rows.
      trigger: schedule('0 6 * * *', { timezone: 'UTC', label: 'Every day at 06:00 UTC' }),
      async run(ctx: FlowContext<GridsheetConfig>) {
        const key = apiKeyOf(ctx.connections, 'gridsheet', 'apiKey');
        const deals = [
          { deal: 'Renewal 2025', company: 'Globex', amount: 12000, stage: 'Won', owner: 'hank@acme.test', closedAt: '2025-01-14' },
          { deal: 'Pilot', company: 'Initech', amount: 4500, stage: 'Won', owner: 'peter@acme.test', closedAt: '2025-01-14' },
        ];
        const rows = deals.map((d) => ctx.config.columns.map((c) => (d as Record<string, unknown>)[c] ?? ''));
        const url = `${demoUrl()}/demo/api/gridsheet/workspaces/${encodeURIComponent(ctx.config.workspace)}/sheets/${encodeURIComponent(ctx.config.sheet)}/rows`;
        const res = await ctx.fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ columns: ctx.config.columns, rows, customer: ctx.customer.externalId, timezone: ctx.config.timezone }),
          signal: ctx.signal,
        });
        await expectOk(res, 'Gridsheet append');
        ctx.log.info(`Appended ${rows.length} rows to ${ctx.config.sheet}`);
        return { rows: rows.length, summary: `Added ${rows.length} ${rows.length === 1 ? 'row' : 'rows'} to your sheet` };
      },
    },
  },
});

// ---------------------------------------------------------------- Ledgerly billing alerts

interface LedgerlyConfig {
  minimumAmount: number;
  currency: string;
  events: string[];
  recipients: string;
  notes?: string;
}

/** Ledgerly's payment events, in the customer's words. */
const LEDGERLY_EVENTS: Record<string, string> = {
  'payment.failed': 'Payment failed',
  'invoice.paid': 'Invoice paid',
  'subscription.canceled': 'Subscription canceled',
  'dispute.opened': 'Dispute opened',
};

const ledgerly = defineIntegration({
  key: 'ledgerly-billing-alerts',
  name: 'Ledgerly billing alerts',
  description: 'Get an Acme CRM alert on the customer record when a Ledgerly payment fails or a large invoice is paid.',
  overview:
    'Ledgerly sends payment events to this integration. Those above your threshold become alerts in Acme CRM, ' +
    'on the customer’s record and in your inbox, so account managers can act before a renewal is at risk.',
  category: 'Finance',
  icon: icon('#b45309', '<path d="M16 6v20M21 10.5c-1-1.5-3-2.5-5-2.5-3 0-5 1.5-5 3.7 0 5.3 10 2.6 10 8 0 2.2-2 3.8-5 3.8-2.3 0-4.3-1-5.3-2.6"/>'),
  version: '0.9.0',
  connections: {
    ledgerly: apiKey({
      label: 'Ledgerly restricted key',
      description: 'A read-only restricted key (Ledgerly → Developers → API keys).',
      fields: { apiKey: field.secret({ label: 'Restricted key', help: DEMO_KEY_HINT }) },
    }),
  },
  configPages: [
    {
      title: 'Alerts',
      fields: {
        events: field.multiChoice({
          label: 'Alert on',
          options: Object.entries(LEDGERLY_EVENTS).map(([value, label]) => ({ value, label })),
          min: 1,
          default: ['payment.failed', 'dispute.opened'],
        }),
        minimumAmount: field.number({ label: 'Minimum amount', min: 0, max: 1_000_000, default: 500, help: 'Smaller amounts are ignored.' }),
        currency: field.choice({ label: 'Currency', options: ['USD', 'EUR', 'GBP', 'JPY'], default: 'USD' }),
        recipients: field.email({ label: 'Send alerts to', placeholder: 'billing@yourcompany.com' }),
        notes: field.text({ label: 'Note added to each alert', required: false, maxLength: 200 }),
      },
    },
  ],
  flows: {
    paymentEvent: {
      label: 'Billing alerts',
      description: 'Payment events above your threshold become alerts in Acme CRM.',
      // The customer gives this URL to Ledgerly: it is theirs to see and copy.
      trigger: webhook({
        signed: true,
        customerFacing: true,
        label: 'Ledgerly payment events',
        description: 'In Ledgerly → Developers → Webhooks, add this URL and a signing secret made here.',
      }),
      async run(ctx: FlowContext<LedgerlyConfig>) {
        const event = record(ctx.payload);
        const type = String(event.type ?? '');
        const amount = Number(event.amount ?? 0);
        if (!ctx.config.events.includes(type)) {
          ctx.log.info(`Ignored ${type || 'an event without a type'}`);
          return { alerted: false, summary: `Ignored: ${LEDGERLY_EVENTS[type] ?? 'an event'} is not in "Alert on"` };
        }
        if (amount < ctx.config.minimumAmount) {
          ctx.log.info(`Ignored ${type} of ${amount} ${ctx.config.currency}: below ${ctx.config.minimumAmount}`);
          return { alerted: false, summary: `Ignored: below your minimum of ${ctx.config.minimumAmount} ${ctx.config.currency}` };
        }
        const amountText = new Intl.NumberFormat('en', { style: 'currency', currency: ctx.config.currency }).format(amount);
        await postToInbox(ctx, {
          source: 'Ledgerly billing alerts',
          title: `${type}: ${amountText} (${String(event.customerName ?? 'unknown customer')})`,
          body: [`To: ${ctx.config.recipients}`, ctx.config.notes ?? ''].filter(Boolean).join('\n'),
          data: event,
        });
        ctx.log.warn(`Alerted ${ctx.config.recipients} about ${type} of ${amountText}`);
        return { alerted: true, summary: `Alerted ${ctx.config.recipients}: ${LEDGERLY_EVENTS[type] ?? type}, ${amountText}` };
      },
    },
  },
});

const integrations: Integration[] = [chatwave, northwind, forwarder, gridsheet, ledgerly];
export default integrations;
