// A customer's page reads the API's responses without zod (src/protocol/shapes.ts). Each check
// must answer as its zod schema does: the same verdict for a full response and for every field of
// it (nested ones included) missing, null or of every other JSON type; and a full response must
// name every key its schema has, so a field added to a schema fails here until the check has it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as z from 'zod/mini';
import * as api from '../../src/protocol/api.js';
import { Problem } from '../../src/protocol/problem.js';
import {
  ACTOR_TYPES,
  CONNECTION_KINDS,
  CONNECTION_STATUSES,
  EXECUTION_STATUSES,
  EXECUTION_TRIGGERS,
  LOG_LEVELS,
  oauthCallbackMessageOf,
  parseResponse,
  responseShapes,
} from '../../src/protocol/shapes.js';

const instance = {
  id: 'inst-1',
  integrationKey: 'slack',
  status: 'active',
  config: { channel: '#general', nested: { a: [1] } },
  secretsSet: ['token'],
  version: 3,
  connections: [
    {
      name: 'slack',
      label: 'Slack account',
      kind: 'oauth2',
      status: 'connected',
      error: 'Sign in again',
      accountName: 'Acme',
      expiresAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-01T00:00:00Z',
    },
  ],
  blockers: [{ path: 'config.channel', message: 'Choose a channel' }],
  statusReason: 'Token revoked',
  webhooks: [{ flow: 'announce', url: 'https://x/hooks/1', hmac: true, label: 'Events', description: 'Sent by the shop', customerFacing: true }],
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-02T00:00:00Z',
  activatedAt: '2026-01-02T00:00:00Z',
  integrationVersion: '1.2.0',
  previousVersion: '1.1.0',
  update: { version: '1.3.0', changelog: [{ version: '1.3.0', notes: 'Faster' }], selfUpgrade: true },
};

const execution = {
  id: 'ex-1',
  instanceId: 'inst-1',
  flow: 'announce',
  status: 'succeeded',
  trigger: 'webhook',
  attempt: 1,
  queuedAt: '2026-01-01T00:00:00Z',
  startedAt: '2026-01-01T00:00:01Z',
  endedAt: '2026-01-01T00:00:02Z',
  durationMs: 1000,
  error: 'boom',
  resultSummary: '{"summary":"Sent"}',
  rerunOf: 'ex-0',
};

/** A full body of each response: every key its schema has, optional ones included. */
const samples: Record<keyof typeof responseShapes, unknown> = {
  IntegrationDetail: {
    key: 'slack',
    name: 'Slack',
    description: 'Messages',
    category: 'Messaging',
    icon: 'data:image/svg+xml,%3Csvg/%3E',
    version: '1.2.0',
    labels: ['pro'],
    entitled: true,
    instance: { id: 'inst-1', status: 'draft', updatedAt: '2026-01-01T00:00:00Z', accountNames: ['Acme'] },
    overview: 'Long text',
    connections: [{ name: 'slack', kind: 'apiKey', label: 'Slack', description: 'Your key', schema: { type: 'object' } }],
    configPages: [{ title: 'Channel', description: 'Where', schema: { type: 'object', properties: {} } }],
    dataSources: ['channels'],
    flows: [
      {
        name: 'announce',
        label: 'Announce',
        description: 'Posts',
        trigger: { type: 'webhook', hmac: false, customerFacing: true, label: 'L', description: 'D' },
      },
      {
        name: 'sync',
        label: 'Sync',
        description: 'Syncs',
        trigger: { type: 'schedule', cron: '*/15 * * * *', timezone: 'UTC', intervalField: 'every', label: 'L', description: 'D' },
      },
    ],
  },
  Instance: instance,
  InstanceList: { instances: [instance] },
  AuthorizeResponse: { authorizationUrl: 'https://p/auth', state: 's', expiresAt: '2026-01-01T00:00:00Z', callbackOrigin: 'https://x' },
  DataSourceResult: { options: [{ value: 'c1', label: '#general' }] },
  ExecutionList: { executions: [execution], nextCursor: 'c' },
  ExecutionDetail: { ...execution, logs: [{ seq: 1, at: '2026-01-01T00:00:01Z', level: 'info', message: 'hi' }], logsTruncated: false },
  WebhookSecret: { flow: 'announce', secret: 'whsec_x' },
  AuditList: {
    events: [
      {
        id: 'a1',
        at: '2026-01-01T00:00:00Z',
        actor: { type: 'user', id: 'u1', name: 'Ann' },
        action: 'instance.config_saved',
        target: 'instance:inst-1',
        details: { fields: ['channel'], count: 1, ok: true, name: 'x' },
      },
    ],
    nextCursor: null,
  },
  Problem: { type: 'about:blank', title: 'Bad', status: 422, detail: 'More', instance: '/x', errors: [{ path: 'a', message: 'b' }] },
};

const schemas: Record<keyof typeof responseShapes, z.ZodMiniType> = {
  IntegrationDetail: api.IntegrationDetail,
  Instance: api.Instance,
  InstanceList: api.InstanceList,
  AuthorizeResponse: api.AuthorizeResponse,
  DataSourceResult: api.DataSourceResult,
  ExecutionList: api.ExecutionList,
  ExecutionDetail: api.ExecutionDetail,
  WebhookSecret: api.WebhookSecret,
  AuditList: api.AuditList,
  Problem,
};

const WRONG: unknown[] = [undefined, null, 1, true, 'text', [], {}, ['text']];

/** `body` with the value at `path` replaced (undefined: the key left out). */
function replaced(body: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const copy = (Array.isArray(body) ? [...(body as unknown[])] : { ...(body as object) }) as Record<string | number, unknown>;
  copy[head!] = replaced(copy[head!], rest, value);
  if (value === undefined && rest.length === 0 && !Array.isArray(body)) delete copy[head!];
  return copy;
}

/** Every path into `body`: object keys and array items, at every depth. */
function paths(body: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(body)) return body.flatMap((item, i) => [[...prefix, i], ...paths(item, [...prefix, i])]);
  if (typeof body === 'object' && body !== null) return Object.entries(body).flatMap(([k, v]) => [[...prefix, k], ...paths(v, [...prefix, k])]);
  return [];
}

/** The body and every variant of it with one value missing or of another type, plus extras at each object. */
function variants(body: unknown): { name: string; body: unknown }[] {
  const out = [{ name: 'full', body }];
  for (const path of paths(body)) {
    for (const value of WRONG) out.push({ name: `${path.join('.')}: ${JSON.stringify(value)}`, body: replaced(body, path, value) });
  }
  for (const value of WRONG) out.push({ name: `whole body ${JSON.stringify(value)}`, body: value });
  return out;
}

/** The keys an object schema names, and those of the sample, at every object of the sample. */
function missingKeys(schema: z.ZodMiniType, sample: unknown, at = ''): string[] {
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
  switch (def.type) {
    case 'optional':
    case 'nullable':
      return sample === null || sample === undefined ? [] : missingKeys(def.innerType as z.ZodMiniType, sample, at);
    case 'array':
      return (sample as unknown[]).flatMap((item, i) => missingKeys(def.element as z.ZodMiniType, item, `${at}.${i}`));
    case 'union':
      return (def.options as z.ZodMiniType[]).filter((o) => o.safeParse(sample).success).flatMap((o) => missingKeys(o, sample, at));
    case 'object': {
      const shape = def.shape as Record<string, z.ZodMiniType>;
      const have = sample as Record<string, unknown>;
      return Object.keys(shape).flatMap((k) => (k in have ? missingKeys(shape[k]!, have[k], `${at}.${k}`) : [`${at}.${k}`]));
    }
    default:
      return [];
  }
}

for (const name of Object.keys(responseShapes) as (keyof typeof responseShapes)[]) {
  test(`${name}: the check agrees with the schema, verdict and value`, () => {
    const schema = schemas[name];
    assert.deepEqual(missingKeys(schema, samples[name]), [], 'the sample names every key of the schema');
    let accepted = 0;
    let rejected = 0;
    for (const { name: variant, body: raw } of variants(samples[name])) {
      // As it comes off the wire: a key whose value is undefined is no key at all.
      const body: unknown = raw === undefined ? undefined : JSON.parse(JSON.stringify(raw));
      const zod = schema.safeParse(body);
      const ours = parseResponse(name, body);
      assert.equal(ours.success, zod.success, `${name} ${variant}: zod says ${zod.success ? 'valid' : 'invalid'}`);
      if (zod.success && ours.success) {
        accepted++;
        // The samples carry no unknown keys, so zod's value (which drops them) is the body itself.
        assert.deepEqual(ours.data, zod.data, `${name} ${variant}`);
      } else rejected++;
    }
    assert.ok(accepted > 1 && rejected > 5, `${accepted} accepted, ${rejected} rejected`);
  });
}

test('the OAuth callback message check agrees with its schema', () => {
  const message = { type: 'plugboard:oauth', state: 's', instanceId: 'i', connection: 'c', ok: false, error: 'denied' };
  assert.deepEqual(missingKeys(api.OAuthCallbackMessage, message), []);
  const cases = [...variants(message), { name: 'another type', body: { ...message, type: 'other' } }];
  for (const { name, body: raw } of cases) {
    const body: unknown = raw === undefined ? undefined : JSON.parse(JSON.stringify(raw));
    assert.equal(oauthCallbackMessageOf(body) !== undefined, api.OAuthCallbackMessage.safeParse(body).success, name);
  }
});

test("the checks' enum values are the schemas'", () => {
  const same = (ours: readonly string[], schema: { options: readonly string[] }) => assert.deepEqual([...ours].sort(), [...schema.options].sort());
  same(CONNECTION_KINDS, api.ConnectionKind);
  same(CONNECTION_STATUSES, api.ConnectionStatus);
  same(EXECUTION_STATUSES, api.ExecutionStatus);
  same(EXECUTION_TRIGGERS, api.ExecutionTrigger);
  same(LOG_LEVELS, api.LogLevel);
  same(ACTOR_TYPES, api.AuditActor.shape.type);
});

test('every enum value passes, and a value outside it does not', () => {
  const cases: [keyof typeof responseShapes, (string | number)[], readonly string[]][] = [
    ['Instance', ['status'], ['draft', 'active', 'paused', 'error']],
    ['Instance', ['connections', 0, 'kind'], CONNECTION_KINDS],
    ['Instance', ['connections', 0, 'status'], CONNECTION_STATUSES],
    ['ExecutionDetail', ['status'], EXECUTION_STATUSES],
    ['ExecutionDetail', ['trigger'], EXECUTION_TRIGGERS],
    ['ExecutionDetail', ['logs', 0, 'level'], LOG_LEVELS],
    ['AuditList', ['events', 0, 'actor', 'type'], ACTOR_TYPES],
    ['IntegrationDetail', ['flows', 0, 'trigger', 'type'], ['webhook', 'schedule']],
  ];
  for (const [name, path, values] of cases) {
    for (const value of [...values, 'other', '']) {
      const body = replaced(samples[name], path, value);
      assert.equal(parseResponse(name, body).success, schemas[name].safeParse(body).success, `${name} ${path.join('.')} "${value}"`);
    }
  }
});
