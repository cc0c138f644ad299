/**
 * A fake Plugboard API inside the test page: replaces `window.fetch` (the network boundary,
 * nothing above it) with routes answering the protocol's shapes. The path against the real
 * server is covered by the end-to-end test, which starts the real backend.
 */
import type { Catalog, Instance, IntegrationDetail, IntegrationSummary, Problem } from '../../src/protocol/index.js';

export const API = 'https://plugboard.test/api/v1';

export interface Recorded {
  method: string;
  path: string;
  search: URLSearchParams;
  headers: Headers;
  body: unknown;
}

type Handler = (req: Recorded) => Response | Promise<Response>;

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

export function problem(status: number, p: Partial<Problem> = {}): Response {
  return new Response(JSON.stringify({ type: 'about:blank', title: `HTTP ${status}`, status, ...p }), {
    status,
    headers: { 'content-type': 'application/problem+json' },
  });
}

/** Builds an unsigned JWT-shaped token: the browser only decodes `exp`, the server verifies. */
export function fakeJwt(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${b64({ alg: 'ES256', typ: 'JWT' })}.${b64({ sub: 'u1', customer: 'c1', role: 'admin', ...claims })}.c2ln`;
}

export class FakeApi {
  readonly calls: Recorded[] = [];
  private routes: { method: string; pattern: RegExp; handler: Handler }[] = [];
  private original = window.fetch;

  constructor() {
    window.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      if (request.signal.aborted) throw new DOMException('The operation was aborted.', 'AbortError');
      const url = new URL(request.url);
      const text = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text();
      const rec: Recorded = {
        method: request.method,
        path: url.pathname.replace('/api/v1', ''),
        search: url.searchParams,
        headers: request.headers,
        body: text ? (JSON.parse(text) as unknown) : undefined,
      };
      this.calls.push(rec);
      const route = this.routes.find((r) => r.method === rec.method && r.pattern.test(rec.path));
      if (!route) return problem(404, { title: `no fake route for ${rec.method} ${rec.path}` });
      return route.handler(rec);
    };
  }

  /** Answers `method path` with a handler, a Response, or a JSON body. */
  on(method: string, path: string | RegExp, handler: Handler): this;
  on(method: string, path: string | RegExp, body: object): this;
  on(method: string, path: string | RegExp, handler: Handler | object): this {
    const pattern = typeof path === 'string' ? new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : path;
    const h: Handler = typeof handler === 'function' ? (handler as Handler) : handler instanceof Response ? () => handler.clone() : () => json(handler);
    // Later routes win, so a test can override a default.
    this.routes.unshift({ method, pattern, handler: h });
    return this;
  }

  count(method: string, path: string): number {
    return this.calls.filter((c) => c.method === method && c.path === path).length;
  }

  restore(): void {
    window.fetch = this.original;
  }
}

export function summary(over: Partial<IntegrationSummary> & { key: string }): IntegrationSummary {
  return {
    name: over.key,
    description: `Description of ${over.key}`,
    category: 'Messaging',
    version: '1.0.0',
    instance: null,
    ...over,
  };
}

export const slack = summary({
  key: 'slack',
  name: 'Slack Notifier',
  description: 'Post deal updates to a Slack channel.',
  category: 'Messaging',
  icon: 'data:image/svg+xml,%3Csvg xmlns="http://www.w3.org/2000/svg"/%3E',
});
export const hubspot = summary({
  key: 'hubspot',
  name: 'HubSpot Contacts',
  description: 'Sync contacts both ways.',
  category: 'CRM',
  instance: { id: 'inst-h', status: 'active', updatedAt: '2025-01-02T10:00:00Z' },
});
export const sheets = summary({
  key: 'sheets',
  name: 'Spreadsheet Export',
  description: 'Export deals to a sheet every night.',
  category: 'Data',
  instance: { id: 'inst-s', status: 'paused', updatedAt: '2025-01-02T10:00:00Z' },
});
export const forwarder = summary({
  key: 'forwarder',
  name: 'Webhook Forwarder',
  description: 'Forward events to any URL.',
  category: 'Developer tools',
  instance: { id: 'inst-f', status: 'error', updatedAt: '2025-01-02T10:00:00Z' },
});

export const catalog: Catalog = { integrations: [slack, hubspot, sheets, forwarder] };

export const slackDetail: IntegrationDetail = {
  ...slack,
  overview: 'Sends a message when a deal changes.\n\nPick a channel and a template.',
  connections: [
    {
      name: 'slack',
      kind: 'apiKey',
      label: 'Slack bot token',
      schema: {
        type: 'object',
        properties: { token: { type: 'string', title: 'Bot token', writeOnly: true, 'x-plug-kind': 'secret' } },
        required: ['token'],
        'x-plug-order': ['token'],
      },
    },
  ],
  configPages: [
    {
      title: 'Channel',
      schema: {
        type: 'object',
        properties: { channel: { type: 'string', title: 'Channel', 'x-plug-kind': 'text' } },
        required: ['channel'],
        'x-plug-order': ['channel'],
      },
    },
    {
      title: 'Message',
      schema: {
        type: 'object',
        properties: {
          template: { type: 'string', title: 'Template', 'x-plug-kind': 'text' },
          notifyOwner: { type: 'boolean', title: 'Notify owner', default: false, 'x-plug-kind': 'boolean' },
        },
        required: ['template'],
        'x-plug-order': ['template', 'notifyOwner'],
      },
    },
  ],
  dataSources: [],
  flows: [],
};

export function instance(over: Partial<Instance> = {}): Instance {
  return {
    id: 'inst-1',
    integrationKey: 'slack',
    status: 'draft',
    config: {},
    secretsSet: [],
    version: 1,
    connections: [{ name: 'slack', kind: 'apiKey', status: 'missing' }],
    blockers: [],
    createdAt: '2025-01-01T10:00:00Z',
    updatedAt: '2025-01-01T10:00:00Z',
    ...over,
  };
}
