// A customer's instances: create (idempotent), read, delete, config (draft saves, optimistic
// concurrency), API-key connections, activate/pause, and data sources. Each handler reads the
// request, calls the instance or data-source service, and answers; their errors map in problem.ts.
import { Hono, type Context } from 'hono';
import {
  CreateInstanceBody,
  DataSourceQuery,
  PutConfigBody,
  PutCredentialsBody,
  UpgradeBody,
  type DataSourceResult,
  type InstanceList,
} from 'plugboard/protocol';
import { grantsOf } from '../entitlements.js';
import type { CustomerEnv, Services } from '../env.js';
import type { Caller } from '../instances.js';
import { HttpProblem, validationProblem } from '../problem.js';
import type { InstanceRecord } from '../store/types.js';
import { setResponseHeader } from '../response-headers.js';
import { readBody } from '../validation.js';

type Ctx = Context<CustomerEnv>;

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;
/** Longest `q` of a data source's GET (a POST's body is limited by DataSourceQuery). */
export const MAX_DATA_SOURCE_QUERY = 500;

const etag = (version: number): string => `"${version}"`;

/** The version a write expects: `If-Match: "N"` (or W/"N"), else `body.version`; 428 when neither. The vendor's actions use it too. */
export function expectedVersion(c: Context, bodyVersion: number | undefined): number {
  const header = c.req.header('if-match');
  if (header !== undefined) {
    const match = /^\s*(?:W\/)?"?(\d{1,12})"?\s*$/.exec(header);
    if (!match) throw validationProblem([{ path: 'If-Match', message: 'If-Match must be the ETag of the instance, like "3"' }]);
    return Number(match[1]);
  }
  if (bodyVersion !== undefined) return bodyVersion;
  throw new HttpProblem(428, 'versionMismatch', 'Send the version you read, as If-Match: "N" or as "version" in the body', {
    title: 'Precondition required',
  });
}

/** An upgrade's expected version: If-Match when sent (as every other write takes it), else `version` in the body, else none. */
export const upgradeVersion = (c: Context, bodyVersion: number | undefined): number | undefined =>
  c.req.header('if-match') === undefined ? bodyVersion : expectedVersion(c, bodyVersion);

export function instanceRoutes({ instances, dataSources }: Pick<Services, 'instances' | 'dataSources'>): Hono<CustomerEnv> {
  const app = new Hono<CustomerEnv>();

  const caller = (c: Ctx): Caller => ({
    tenant: c.get('tenant'),
    actor: c.get('actor'),
    actorName: c.get('claims').name,
    grants: grantsOf(c.get('customer'), c.get('claims')),
  });
  const id = (c: Ctx): string => c.req.param('id') ?? '';

  async function respond(c: Ctx, instance: InstanceRecord, status: 200 | 201 = 200): Promise<Response> {
    const view = await instances.view(caller(c), instance);
    setResponseHeader(c, 'etag', etag(instance.version));
    return c.json(view, status);
  }

  app.post('/instances', async (c) => {
    const idempotencyKey = c.req.header('idempotency-key');
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw validationProblem([{ path: 'Idempotency-Key', message: 'Idempotency-Key must be 1-200 visible ASCII characters' }]);
    }
    const body = await readBody(c, CreateInstanceBody);
    const { instance, created } = await instances.create(caller(c), { integrationKey: body.integrationKey, idempotencyKey });
    if (created) c.header('location', `/api/v1/instances/${instance.id}`);
    return respond(c, instance, created ? 201 : 200);
  });

  app.get('/instances', async (c) => c.json({ instances: await instances.list(caller(c)) } satisfies InstanceList));

  app.get('/instances/:id', async (c) => respond(c, await instances.get(caller(c), id(c))));

  app.delete('/instances/:id', async (c) => {
    await instances.delete(caller(c), id(c));
    return c.body(null, 204);
  });

  app.put('/instances/:id/config', async (c) => {
    const body = await readBody(c, PutConfigBody);
    const version = expectedVersion(c, body.version);
    return respond(c, await instances.saveConfig(caller(c), id(c), { config: body.config, version, signal: c.req.raw.signal }));
  });

  app.put('/instances/:id/connections/:name', async (c) => {
    const body = await readBody(c, PutCredentialsBody);
    const request = { signal: c.req.raw.signal, requestId: c.get('requestId') };
    return respond(c, await instances.setApiKey(caller(c), id(c), c.req.param('name'), body.values, request));
  });

  app.delete('/instances/:id/connections/:name', async (c) => respond(c, await instances.deleteConnection(caller(c), id(c), c.req.param('name'))));

  app.post('/instances/:id/activate', async (c) => respond(c, await instances.activate(caller(c), id(c))));

  app.post('/instances/:id/pause', async (c) => respond(c, await instances.pause(caller(c), id(c))));

  // "Update available" → Update: only to the current version, only when the integration allows it.
  app.post('/instances/:id/upgrade', async (c) => {
    const body = await readBody(c, UpgradeBody);
    return respond(c, await instances.upgrade(caller(c), id(c), { to: body.to, expectedVersion: upgradeVersion(c, body.version), byCustomer: true }));
  });

  // GET runs a data source with the saved config (any role: it is a read). Unsaved values change
  // where the instance's credentials may be sent, so they come as a POST (admins only: members are
  // refused by customerAuth), in the body rather than the URL, and the call is audited.
  async function dataSourceOptions(c: Ctx, query: string, overrides?: Record<string, unknown>): Promise<Response> {
    const instance = await instances.get(caller(c), id(c));
    const claims = c.get('claims');
    const options = await dataSources.options({
      instance,
      name: c.req.param('name') ?? '',
      query,
      overrides,
      caller: { actor: c.get('actor'), actorName: claims.name, role: claims.role },
      signal: c.req.raw.signal,
      requestId: c.get('requestId'),
    });
    return c.json({ options } satisfies DataSourceResult);
  }

  app.get('/instances/:id/data-sources/:name', async (c) => {
    const query = c.req.query('q') ?? '';
    if (query.length > MAX_DATA_SOURCE_QUERY) throw validationProblem([{ path: 'q', message: `q must be at most ${MAX_DATA_SOURCE_QUERY} characters` }]);
    if (c.req.query('config') !== undefined) {
      if (c.get('claims').role !== 'admin') throw new HttpProblem(403, 'forbidden', 'Only an admin may call a data source with unsaved values');
      throw validationProblem([{ path: 'config', message: 'Send unsaved values as {"config": {…}} in the body of a POST to this URL' }]);
    }
    return dataSourceOptions(c, query);
  });

  app.post('/instances/:id/data-sources/:name', async (c) => {
    const body = await readBody(c, DataSourceQuery);
    return dataSourceOptions(c, body.q ?? '', body.config);
  });

  return app;
}
