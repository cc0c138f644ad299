// The demo's own HTTP routes, beside Plugboard's API on the same origin:
// - `/demo/token`: Acme CRM's backend endpoint that signs a short-lived Plugboard token;
// - `/demo/send-webhook`: Acme CRM's backend sending an event to a customer's webhook URL, signed
//   the Standard Webhooks way (the host page's "Try a flow");
// - `/demo/inbox`: where demo flows post, shown per customer on the host page;
// - `/demo/api/*`: offline stand-ins for the third-party services the demo integrations call.
import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { Webhook } from 'standardwebhooks';
import * as z from 'zod';
import { DEMO_CUSTOMERS, type DemoVendor } from './vendor.js';

export interface InboxMessage {
  id: number;
  at: string;
  source: string;
  title: string;
  body: string;
  data?: unknown;
  instanceId?: string;
  executionId?: string;
}

/** Messages flows posted, per customer, newest first, kept in memory (demo only). */
export class DemoInbox {
  private readonly byCustomer = new Map<string, InboxMessage[]>();
  private seq = 0;

  add(customer: string, message: Omit<InboxMessage, 'id' | 'at'>): InboxMessage {
    const full = { id: ++this.seq, at: new Date().toISOString(), ...message };
    const list = this.byCustomer.get(customer) ?? [];
    list.unshift(full);
    list.length = Math.min(list.length, 50);
    this.byCustomer.set(customer, list);
    return full;
  }

  list(customer: string): InboxMessage[] {
    return this.byCustomer.get(customer) ?? [];
  }
}

export interface DemoServicesOptions {
  vendor: DemoVendor;
  inbox: DemoInbox;
  /** Issuer of the demo OAuth server, whose protected API vouches for Chatwave tokens. Undefined: not running. */
  oauthIssuer: () => string | undefined;
  /** The demo's own base URL: the only place /demo/send-webhook posts to (absent: that route refuses). */
  publicUrl?: string;
}

const SendWebhook = z.object({ url: z.string(), body: z.string().max(64 * 1024), secret: z.string().optional() });

const DEMO_KEY = /^demo_[A-Za-z0-9_-]{4,}$/;

function problem(c: Context, status: 400 | 401 | 404 | 422 | 502, title: string, detail?: string) {
  return c.json({ type: 'about:blank', title, status, ...(detail ? { detail } : {}) }, status, {
    'content-type': 'application/problem+json',
  });
}

function bearer(c: Context): string | undefined {
  const h = c.req.header('authorization');
  return h?.startsWith('Bearer ') ? h.slice(7).trim() : undefined;
}

function matches(query: string | undefined, ...texts: string[]): boolean {
  const q = (query ?? '').trim().toLowerCase();
  return !q || texts.some((t) => t.toLowerCase().includes(q));
}

const InboxPost = z.object({
  customer: z.string().min(1).max(200).optional(),
  source: z.string().max(200).optional(),
  title: z.string().max(500).optional(),
  body: z.string().max(20_000).optional(),
  data: z.unknown().optional(),
  instanceId: z.string().max(100).optional(),
  executionId: z.string().max(100).optional(),
});

const ChatwaveMessage = z.object({ channel: z.string().min(1), text: z.string().min(1).max(4000), customer: z.string().min(1) });
const SheetRows = z.object({
  columns: z.array(z.string()),
  rows: z.array(z.array(z.unknown())).max(1000),
  customer: z.string().min(1),
  timezone: z.string().optional(),
});

const WORKSPACES = [
  { id: 'ws-sales', name: 'Sales operations' },
  { id: 'ws-finance', name: 'Finance' },
  { id: 'ws-marketing', name: 'Marketing' },
];
const SHEETS: Record<string, { id: string; name: string }[]> = {
  'ws-sales': [
    { id: 'sh-pipeline', name: 'Pipeline 2025' },
    { id: 'sh-won', name: 'Closed won' },
    { id: 'sh-forecast', name: 'Quarterly forecast' },
  ],
  'ws-finance': [
    { id: 'sh-revenue', name: 'Revenue by month' },
    { id: 'sh-invoices', name: 'Open invoices' },
  ],
  'ws-marketing': [
    { id: 'sh-leads', name: 'Leads by campaign' },
    { id: 'sh-events', name: 'Events 2025' },
  ],
};

/** Northwind's name for an account, picked by its last digit (the stand-in has no real accounts). */
const NORTHWIND_ACCOUNT_NAMES = ['Globex Sales', 'Initech Support', 'Umbrella Foods', 'Vandelay Industries', 'Hooli Europe'];

/** The contact fields a Northwind account offers (what the contact sync's mapping reads from). */
const CONTACT_FIELDS = [
  { id: 'first_name', name: 'First name' },
  { id: 'last_name', name: 'Last name' },
  { id: 'email', name: 'Email' },
  { id: 'phone', name: 'Phone' },
  { id: 'job_title', name: 'Job title' },
  { id: 'account_name', name: 'Account name' },
];

const CONTACTS = [
  {
    first_name: 'Ada',
    last_name: 'Lovelace',
    email: 'ada@analytical.example',
    phone: '+44 20 7946 0001',
    job_title: 'Analyst',
    account_name: 'Analytical Engines',
    archived: false,
  },
  {
    first_name: 'Grace',
    last_name: 'Hopper',
    email: 'grace@cobol.example',
    phone: '+1 202 555 0142',
    job_title: 'Rear admiral',
    account_name: 'Compiler Co',
    archived: false,
  },
  {
    first_name: 'Alan',
    last_name: 'Turing',
    email: 'alan@bletchley.example',
    phone: '+44 1908 555 017',
    job_title: 'Cryptanalyst',
    account_name: 'Bletchley Labs',
    archived: false,
  },
  {
    first_name: 'Katherine',
    last_name: 'Johnson',
    email: 'katherine@orbit.example',
    phone: '+1 757 555 0199',
    job_title: 'Mathematician',
    account_name: 'Orbit Works',
    archived: true,
  },
];

export function demoServices(o: DemoServicesOptions): Hono {
  const app = new Hono();

  // ------------------------------------------------------------ Acme CRM's vendor backend
  app.get('/demo/customers', (c) => c.json({ customers: DEMO_CUSTOMERS.map(({ id, name, admin, member }) => ({ id, name, admin, member })) }));

  // In a real product this endpoint sits behind the vendor's own login; the demo trusts the query.
  app.get('/demo/token', async (c) => {
    const customer = c.req.query('customer') ?? DEMO_CUSTOMERS[0]!.id;
    const role = c.req.query('role') ?? 'admin';
    if (role !== 'admin' && role !== 'member') return problem(c, 422, 'Unknown role', 'role must be admin or member');
    const signed = await o.vendor.signToken(customer, role);
    if (!signed) return problem(c, 404, 'Unknown demo customer', `Try ${DEMO_CUSTOMERS.map((d) => d.id).join(' or ')}`);
    c.header('cache-control', 'no-store');
    return c.json(signed);
  });

  // The demo's staff link: Acme's support desk lands in the vendor console signed in. The token
  // rides in the fragment, which no server or Referer sees; a real vendor signs for its logged-in staff.
  app.get('/demo/console', async (c) => {
    const role = c.req.query('role') ?? 'support';
    if (role !== 'viewer' && role !== 'support' && role !== 'admin') return problem(c, 422, 'Unknown staff role', 'role must be viewer, support or admin');
    const token = await o.vendor.signVendorToken({ vendorRole: role, name: 'Jane Doe (Acme support)', sub: 'acme-jane' });
    c.header('cache-control', 'no-store');
    return c.redirect(`/console#token=${token}`, 302);
  });

  // A real sender keeps the customer's signing secret in its own settings; the page hands over the
  // one it just generated (a demo shortcut). Signed with the library, as any sender should.
  app.post('/demo/send-webhook', async (c) => {
    const parsed = SendWebhook.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return problem(c, 422, 'Send { url, body, secret? }');
    const { url, body, secret } = parsed.data;
    if (!o.publicUrl || !url.startsWith(`${o.publicUrl}/hooks/`)) return problem(c, 422, 'Not a webhook URL of this demo');
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (secret) {
      const id = `msg_${randomUUID()}`;
      const at = new Date();
      let signature: string;
      try {
        signature = new Webhook(secret).sign(id, at, body);
      } catch {
        return problem(c, 422, 'Not a Standard Webhooks secret', 'Expected whsec_ followed by base64');
      }
      Object.assign(headers, { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature });
    }
    const res = await fetch(url, { method: 'POST', headers, body });
    return c.json({ status: res.status, answer: (await res.json().catch(() => ({}))) as unknown });
  });

  // ------------------------------------------------------------ inbox
  app.post('/demo/inbox', async (c) => {
    const raw: unknown = await c.req.json().catch(() => undefined);
    if (raw === undefined) return problem(c, 400, 'Send JSON');
    const parsed = InboxPost.safeParse(raw);
    // The webhook forwarder posts arbitrary events: keep them whole, attributed by its header.
    const customer = (parsed.success ? parsed.data.customer : undefined) ?? c.req.header('x-acme-customer');
    if (!customer) return problem(c, 422, 'Which customer?', 'Give "customer" in the body or an X-Acme-Customer header');
    const msg =
      parsed.success && parsed.data.title
        ? {
            source: parsed.data.source ?? 'Integration',
            title: parsed.data.title,
            body: parsed.data.body ?? '',
            data: parsed.data.data,
            instanceId: parsed.data.instanceId,
            executionId: parsed.data.executionId,
          }
        : {
            source: c.req.header('x-acme-signature') ? 'Webhook forwarder (signed)' : 'Webhook forwarder',
            title: 'Forwarded event',
            body: JSON.stringify(raw, null, 2).slice(0, 4000),
            data: raw,
            executionId: c.req.header('x-acme-delivery'),
          };
    return c.json(o.inbox.add(customer, msg), 201);
  });

  app.get('/demo/inbox', async (c) => {
    const token = bearer(c);
    const customer = token ? await o.vendor.customerOf(token) : undefined;
    if (!customer) return problem(c, 401, 'Sign in', 'Send the demo token as Authorization: Bearer …');
    c.header('cache-control', 'no-store');
    return c.json({ customer, messages: o.inbox.list(customer) });
  });

  // ------------------------------------------------------------ Chatwave (OAuth): posting
  app.post('/demo/api/chatwave/messages', async (c) => {
    const token = bearer(c);
    const issuer = o.oauthIssuer();
    if (!token || !issuer) return problem(c, 401, 'Chatwave needs a bearer token');
    // The demo OAuth server's own protected API tells whether it issued this token.
    const check = await fetch(`${issuer}/api/channels`, { headers: { authorization: `Bearer ${token}` } }).catch(() => undefined);
    if (!check) return problem(c, 502, 'Chatwave sign-in server is not reachable');
    if (!check.ok) return problem(c, 401, 'Chatwave rejected the token');
    const channels = ((await check.json()) as { channels?: { id: string; name: string }[] }).channels ?? [];
    const parsed = ChatwaveMessage.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return problem(c, 422, 'Bad message', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const channel = channels.find((ch) => ch.id === parsed.data.channel);
    if (!channel) return problem(c, 404, 'No such channel', parsed.data.channel);
    const msg = o.inbox.add(parsed.data.customer, { source: 'Chatwave', title: `#${channel.name}`, body: parsed.data.text });
    return c.json({ id: `msg-${msg.id}`, channel: channel.id, channelName: channel.name }, 201);
  });

  // ------------------------------------------------------------ API-key services
  const apiKeyGuard = async (c: Context, next: () => Promise<void>) => {
    const key = bearer(c);
    if (!key || !DEMO_KEY.test(key)) {
      return problem(c, 401, 'Invalid API key', 'Demo services accept keys that start with demo_');
    }
    await next();
  };
  app.use('/demo/api/northwind/*', apiKeyGuard);
  app.use('/demo/api/gridsheet/*', apiKeyGuard);

  // "Who am I": what the demo integrations' connection `test` and `identify` ask.
  app.get('/demo/api/northwind/accounts/:account', (c) => {
    const account = c.req.param('account');
    if (!/^nw-\d{4,10}$/.test(account)) return problem(c, 404, 'No such Northwind account', account);
    return c.json({ id: account, name: `${NORTHWIND_ACCOUNT_NAMES[Number(account.slice(-1)) % NORTHWIND_ACCOUNT_NAMES.length]} (${account})` });
  });
  app.get('/demo/api/gridsheet/me', (c) => c.json({ user: { name: 'Jordan Lee', email: 'jordan.lee@gridsheet.example' } }));

  // Paged like Northwind's API: `limit` per page, `next` is the cursor of the following page (null on the last).
  app.get('/demo/api/northwind/accounts/:account/contacts', (c) => {
    const archived = c.req.query('archived') === 'true';
    const all = CONTACTS.filter((x) => archived || !x.archived);
    const from = Math.max(0, Number(c.req.query('cursor') ?? 0) || 0);
    const limit = Math.min(100, Math.max(1, Number(c.req.query('limit') ?? 100) || 100));
    const next = from + limit < all.length ? String(from + limit) : null;
    return c.json({ account: c.req.param('account'), contacts: all.slice(from, from + limit), next });
  });

  app.get('/demo/api/northwind/accounts/:account/fields', (c) => c.json({ account: c.req.param('account'), fields: CONTACT_FIELDS }));

  app.get('/demo/api/gridsheet/workspaces', (c) => c.json({ workspaces: WORKSPACES.filter((w) => matches(c.req.query('q'), w.name, w.id)) }));
  app.get('/demo/api/gridsheet/workspaces/:ws/sheets', (c) => {
    const sheets = SHEETS[c.req.param('ws')];
    if (!sheets) return problem(c, 404, 'No such workspace', c.req.param('ws'));
    return c.json({ sheets: sheets.filter((s) => matches(c.req.query('q'), s.name, s.id)) });
  });
  app.post('/demo/api/gridsheet/workspaces/:ws/sheets/:sheet/rows', async (c) => {
    const sheet = SHEETS[c.req.param('ws')]?.find((s) => s.id === c.req.param('sheet'));
    if (!sheet) return problem(c, 404, 'No such sheet', c.req.param('sheet'));
    const parsed = SheetRows.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return problem(c, 422, 'Bad rows', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const { columns, rows, customer } = parsed.data;
    o.inbox.add(customer, {
      source: 'Gridsheet',
      title: `${rows.length} rows appended to “${sheet.name}”`,
      body: [columns.join(' | '), ...rows.map((r) => r.map(String).join(' | '))].join('\n'),
    });
    return c.json({ appended: rows.length }, 201);
  });

  return app;
}
