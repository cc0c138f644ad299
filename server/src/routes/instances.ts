// A customer's instances: create (idempotent), read, delete, config (draft saves, optimistic
// concurrency, secrets sealed), API-key connections, activate/pause, and data sources.
import { Hono, type Context } from 'hono';
import * as z from 'zod';
import {
  CreateInstanceBody,
  DataSourceResult,
  PutConfigBody,
  PutCredentialsBody,
  type FieldError,
  type InstanceList,
} from 'plugboard/protocol';
import type { ApiKeyConnection, Integration } from '../sdk/index.js';
import type { CustomerEnv, RouteContext } from '../app.js';
import { connectionAad, openConnections, openInstanceSecrets, sealInstanceSecrets } from '../credentials.js';
import { activationBlockers, groupByInstance, instanceView } from '../instance-view.js';
import { ConnectionUnavailableError, oauthFor } from '../oauth/index.js';
import { HttpProblem, notFound, validationProblem } from '../problem.js';
import { DuplicateInstanceError, IdempotencyKeyReuseError, VersionConflictError, type InstanceRecord, type NewAuditEvent } from '../store/types.js';
import { fieldErrors, readBody } from '../validation.js';

type Ctx = Context<CustomerEnv>;

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;
const MAX_QUERY = 500;

const apiKeySchemas = new WeakMap<ApiKeyConnection, z.ZodObject>();
function apiKeySchema(spec: ApiKeyConnection): z.ZodObject {
  let schema = apiKeySchemas.get(spec);
  if (!schema) apiKeySchemas.set(spec, (schema = z.object(spec.fields)));
  return schema;
}

const partialSchemas = new WeakMap<Integration, z.ZodObject>();
function draftSchema(integration: Integration): z.ZodObject {
  let schema = partialSchemas.get(integration);
  if (!schema) partialSchemas.set(integration, (schema = integration.configSchema.partial()));
  return schema;
}

const etag = (version: number): string => `"${version}"`;

/** The version a write expects: `If-Match: "N"` (or W/"N"), else `body.version`; 428 when neither. */
function expectedVersion(c: Ctx, bodyVersion: number | undefined): number {
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

function conflict(detail: string, extra: Record<string, unknown> = {}): HttpProblem {
  return new HttpProblem(409, 'conflict', detail, { extra });
}

function versionConflict(current: number): HttpProblem {
  return new HttpProblem(409, 'versionMismatch', `The instance changed since you read it; it is at version ${current}. Reload and retry.`, {
    extra: { currentVersion: current },
    headers: { etag: etag(current) },
  });
}

/** Replaces known secret values in text meant for a log line. */
function scrub(text: string, secrets: readonly unknown[]): string {
  let out = text;
  for (const s of secrets) if (typeof s === 'string' && s.length >= 4) out = out.split(s).join('[redacted]');
  return out.slice(0, 500);
}

function collectStrings(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') into.push(value);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) collectStrings(v, into);
  return into;
}

export function instanceRoutes(ctx: RouteContext): Hono<CustomerEnv> {
  const app = new Hono<CustomerEnv>();

  // Audit details name fields and connections, never their values.
  const audit = (c: Ctx, action: string, instanceId: string, details: Record<string, unknown> = {}): NewAuditEvent => ({
    actor: c.get('actor'),
    action,
    target: instanceId ? `instance:${instanceId}` : '',
    details,
  });

  async function load(c: Ctx): Promise<{ instance: InstanceRecord; integration: Integration | undefined }> {
    const instance = await c.get('tenant').getInstance(c.req.param('id') ?? '');
    if (!instance) throw notFound('Instance');
    return { instance, integration: ctx.integrations.get(instance.integrationKey) };
  }

  function requireIntegration(integration: Integration | undefined): Integration {
    if (!integration) throw conflict('This integration is no longer offered; the instance can only be read, paused or deleted');
    return integration;
  }

  async function respond(c: Ctx, instance: InstanceRecord, integration: Integration | undefined, status: 200 | 201 = 200): Promise<Response> {
    const connections = await c.get('tenant').listConnections(instance.id);
    const webhooks = integration && ctx.webhookEndpoints ? await ctx.webhookEndpoints(instance, integration) : undefined;
    c.header('etag', etag(instance.version));
    return c.json(instanceView(integration, instance, connections, webhooks), status);
  }

  // ------------------------------------------------------------------ collection

  app.post('/instances', async (c) => {
    const idempotencyKey = c.req.header('idempotency-key');
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw validationProblem([{ path: 'Idempotency-Key', message: 'Idempotency-Key must be 1-200 visible ASCII characters' }]);
    }
    const body = await readBody(c, CreateInstanceBody);
    const integration = ctx.integrations.get(body.integrationKey);
    if (!integration) throw validationProblem([{ path: 'integrationKey', message: `There is no integration "${body.integrationKey}"` }]);
    let result;
    try {
      result = await c.get('tenant').createInstance({
        integrationKey: integration.key,
        idempotencyKey,
        audit: audit(c, 'instance.created', '', { integrationKey: integration.key }),
      });
    } catch (err) {
      if (err instanceof DuplicateInstanceError) {
        throw conflict(`You already have an instance of ${integration.name}`, { instanceId: err.existingId });
      }
      if (err instanceof IdempotencyKeyReuseError) {
        throw new HttpProblem(422, 'validation', 'This Idempotency-Key was already used to create an instance of another integration', {
          errors: [{ path: 'Idempotency-Key', message: 'Already used for another integration; send a new key' }],
          extra: { instanceId: err.existingId },
        });
      }
      throw err;
    }
    if (result.created) c.header('location', `/api/v1/instances/${result.instance.id}`);
    return respond(c, result.instance, integration, result.created ? 201 : 200);
  });

  app.get('/instances', async (c) => {
    const tenant = c.get('tenant');
    const [instances, connections] = await Promise.all([tenant.listInstances(), tenant.listAllConnections()]);
    const byInstance = groupByInstance(connections);
    const body: InstanceList = {
      instances: await Promise.all(
        instances.map(async (i) => {
          const integration = ctx.integrations.get(i.integrationKey);
          const webhooks = integration && ctx.webhookEndpoints ? await ctx.webhookEndpoints(i, integration) : undefined;
          return instanceView(integration, i, byInstance.get(i.id) ?? [], webhooks);
        }),
      ),
    };
    return c.json(body);
  });

  // ------------------------------------------------------------------ one instance

  app.get('/instances/:id', async (c) => {
    const { instance, integration } = await load(c);
    return respond(c, instance, integration);
  });

  app.delete('/instances/:id', async (c) => {
    const { instance } = await load(c);
    // Revoke OAuth grants at their providers first (best effort), then drop the ciphertexts with the instance.
    await oauthFor(ctx).revokeInstance({ customerId: c.get('tenant').customer.id, instanceId: instance.id });
    const deleted = await c.get('tenant').deleteInstance(instance.id, audit(c, 'instance.deleted', instance.id, { integrationKey: instance.integrationKey }));
    if (!deleted) throw notFound('Instance');
    return c.body(null, 204);
  });

  app.put('/instances/:id/config', async (c) => {
    const body = await readBody(c, PutConfigBody);
    const version = expectedVersion(c, body.version);
    const { instance, integration: maybe } = await load(c);
    const integration = requireIntegration(maybe);
    if (version !== instance.version) throw versionConflict(instance.version);

    const shape = integration.configSchema.shape as Record<string, z.ZodType>;
    const secretFields = new Set(integration.secretFields);
    const errors: FieldError[] = [];
    const plain: Record<string, unknown> = {};
    const secretChanges = new Map<string, string | null>();
    for (const [name, value] of Object.entries(body.config)) {
      if (!(name in shape)) {
        errors.push({ path: `config.${name}`, message: `${integration.name} has no field "${name}"` });
      } else if (secretFields.has(name)) {
        // Absent or "" keeps the stored secret (the browser never has it); null clears it.
        if (value === null) secretChanges.set(name, null);
        else if (value !== undefined && value !== '') {
          const parsed = shape[name]!.safeParse(value);
          if (parsed.success) secretChanges.set(name, parsed.data as string);
          else errors.push(...fieldErrors(parsed.error.issues, `config.${name}`, 2));
        }
      } else if (value !== null && value !== undefined) {
        plain[name] = value; // null clears a draft field
      }
    }
    // A draft may be incomplete; each value given must still be valid.
    const draft = draftSchema(integration).safeParse(plain);
    if (!draft.success) errors.push(...fieldErrors(draft.error.issues, 'config', 2));
    if (errors.length) throw validationProblem(errors);
    const config = Object.fromEntries(Object.entries(draft.data as Record<string, unknown>).filter(([, v]) => v !== undefined));

    let secrets = instance.secrets;
    let secretNames = [...instance.secretNames];
    if (secretChanges.size) {
      const stored = openInstanceSecrets(ctx.cipher, instance);
      for (const [name, value] of secretChanges) {
        if (value === null) delete stored[name];
        else stored[name] = value;
      }
      secrets = sealInstanceSecrets(ctx.cipher, instance.id, stored);
      secretNames = Object.keys(stored).sort();
    }

    // A running instance must stay complete: only drafts and paused instances take partial config.
    if (instance.status === 'active') {
      const blockers = activationBlockers(integration, { config, secretNames }, []).filter((b) => b.path.startsWith('config.'));
      if (blockers.length) {
        throw validationProblem(blockers, 'An active instance needs a complete configuration; pause it to save a partial one.');
      }
    }

    let updated: InstanceRecord | undefined;
    try {
      updated = await c.get('tenant').updateConfig(instance.id, {
        config,
        secrets,
        secretNames,
        expectedVersion: version,
        audit: audit(c, 'instance.config_saved', instance.id, {
          fields: Object.keys(config).sort(),
          secretsChanged: [...secretChanges.keys()].sort(),
          version: version + 1,
        }),
      });
    } catch (err) {
      if (err instanceof VersionConflictError) throw versionConflict(err.currentVersion);
      throw err;
    }
    if (!updated) throw notFound('Instance');
    return respond(c, updated, integration);
  });

  // ------------------------------------------------------------------ connections

  app.put('/instances/:id/connections/:name', async (c) => {
    const { instance, integration: maybe } = await load(c);
    const integration = requireIntegration(maybe);
    const name = c.req.param('name');
    const spec = integration.connections[name];
    if (!spec) throw notFound(`Connection "${name}"`);
    if (spec.kind !== 'apiKey') {
      throw conflict(
        `${spec.label} is an OAuth connection: start it with POST /api/v1/instances/${instance.id}/connections/${name}/authorize`,
        { kind: spec.kind },
      );
    }
    const body = await readBody(c, PutCredentialsBody);
    const errors: FieldError[] = Object.keys(body.values)
      .filter((k) => !(k in spec.fields))
      .map((k) => ({ path: `values.${k}`, message: `${spec.label} has no field "${k}"` }));
    const parsed = apiKeySchema(spec).safeParse(body.values);
    if (!parsed.success) errors.push(...fieldErrors(parsed.error.issues, 'values', 2));
    if (errors.length || !parsed.success) throw validationProblem(errors);

    const record = await c.get('tenant').putConnection(instance.id, name, {
      kind: 'apiKey',
      status: 'connected',
      ciphertext: ctx.cipher.encryptJson(parsed.data, connectionAad(instance.id, name)),
      expiresAt: null,
      error: null,
      audit: audit(c, 'connection.set', instance.id, { connection: name, kind: 'apiKey', fields: Object.keys(parsed.data).sort() }),
    });
    if (!record) throw notFound('Instance');
    const fresh = (await c.get('tenant').getInstance(instance.id)) ?? instance;
    return respond(c, fresh, integration);
  });

  app.delete('/instances/:id/connections/:name', async (c) => {
    const { instance, integration } = await load(c);
    const name = c.req.param('name');
    if (instance.status === 'active' && integration?.connections[name]) {
      throw conflict('Pause the instance before removing a connection it uses');
    }
    if (integration?.connections[name] && integration.connections[name].kind !== 'apiKey') {
      await oauthFor(ctx).revokeConnection({ customerId: c.get('tenant').customer.id, instanceId: instance.id, connection: name });
    }
    const deleted = await c.get('tenant').deleteConnection(instance.id, name, audit(c, 'connection.deleted', instance.id, { connection: name }));
    if (!deleted) throw notFound(`Connection "${name}"`);
    const fresh = (await c.get('tenant').getInstance(instance.id)) ?? instance;
    return respond(c, fresh, integration);
  });

  // ------------------------------------------------------------------ lifecycle

  app.post('/instances/:id/activate', async (c) => {
    const { instance, integration } = await load(c);
    const tenant = c.get('tenant');
    const blockers = activationBlockers(integration, instance, await tenant.listConnections(instance.id));
    if (blockers.length) {
      throw new HttpProblem(409, 'notReady', 'The instance cannot be activated yet; fix each item in errors.', {
        errors: blockers,
        title: 'Not ready to activate',
      });
    }
    if (instance.status === 'active') return respond(c, instance, integration);
    const updated = await tenant.setStatus(instance.id, {
      status: 'active',
      reason: null,
      audit: audit(c, 'instance.activated', instance.id, { from: instance.status }),
    });
    if (!updated) throw notFound('Instance');
    return respond(c, updated, integration);
  });

  app.post('/instances/:id/pause', async (c) => {
    const { instance, integration } = await load(c);
    if (instance.status === 'paused') return respond(c, instance, integration);
    if (instance.status === 'draft') throw conflict('A draft instance is not running; there is nothing to pause');
    const updated = await c.get('tenant').setStatus(instance.id, {
      status: 'paused',
      reason: null,
      audit: audit(c, 'instance.paused', instance.id, { from: instance.status }),
    });
    if (!updated) throw notFound('Instance');
    return respond(c, updated, integration);
  });

  // ------------------------------------------------------------------ data sources

  app.get('/instances/:id/data-sources/:name', async (c) => {
    const { instance, integration: maybe } = await load(c);
    const integration = requireIntegration(maybe);
    const name = c.req.param('name');
    const source = integration.dataSources[name];
    if (!source) throw notFound(`Data source "${name}"`);

    const query = c.req.query('q') ?? '';
    if (query.length > MAX_QUERY) throw validationProblem([{ path: 'q', message: `q must be at most ${MAX_QUERY} characters` }]);
    let unsaved: Record<string, unknown> = {};
    const configParam = c.req.query('config');
    if (configParam !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(configParam);
      } catch {
        throw validationProblem([{ path: 'config', message: 'config must be a JSON object' }]);
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw validationProblem([{ path: 'config', message: 'config must be a JSON object' }]);
      }
      unsaved = parsed as Record<string, unknown>;
    }
    // Unsaved values the form is still editing: use the valid ones, ignore the rest.
    const shape = integration.configSchema.shape as Record<string, z.ZodType>;
    const overrides: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(unsaved)) {
      const parsed = shape[field]?.safeParse(value);
      if (parsed?.success && parsed.data !== undefined) overrides[field] = parsed.data;
    }
    const secrets = openInstanceSecrets(ctx.cipher, instance);
    const config = { ...instance.config, ...secrets, ...overrides };
    const connections = openConnections(ctx.cipher, integration, instance.id, await c.get('tenant').listConnections(instance.id));
    // OAuth tokens: refreshed first when close to expiry (or fetched, for client credentials).
    for (const [connection, spec] of Object.entries(integration.connections)) {
      if (spec.kind === 'apiKey') continue;
      try {
        connections[connection] = await oauthFor(ctx).getAccessToken({ customerId: c.get('tenant').customer.id, instanceId: instance.id, connection });
      } catch (err) {
        if (!(err instanceof ConnectionUnavailableError)) throw err;
        if (err.reason === 'provider_unavailable' || err.reason === 'misconfigured') {
          throw new HttpProblem(502, 'upstream', `${spec.label}: ${err.message}`, { extra: { connection, reason: err.reason } });
        }
        if (err.reason !== 'missing') throw conflict(`${spec.label}: ${err.message}`, { connection, reason: err.reason });
      }
    }

    // A plain timer (AbortSignal.timeout's is unref'd) so a hanging source still ends the request.
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new DOMException('data source timed out', 'TimeoutError')), ctx.dataSourceTimeoutMs);
    const signal = AbortSignal.any([timeout.signal, c.req.raw.signal]);
    let result: unknown;
    try {
      result = await Promise.race([
        source({ config, connections, query, signal, fetch: globalThis.fetch }),
        new Promise<never>((_, reject) => {
          if (signal.aborted) reject(signal.reason);
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
      ]);
    } catch (err) {
      const timedOut = signal.aborted && (signal.reason as Error | undefined)?.name === 'TimeoutError';
      const known = [...Object.values(secrets), ...collectStrings(connections), ...collectStrings(overrides)];
      ctx.logger.warn(
        {
          requestId: c.get('requestId'),
          instanceId: instance.id,
          dataSource: name,
          timedOut,
          errorName: (err as Error | undefined)?.name,
          errorMessage: scrub(String((err as Error | undefined)?.message ?? err), known),
        },
        'data source failed',
      );
      throw new HttpProblem(
        502,
        'upstream',
        timedOut
          ? `The data source "${name}" did not answer within ${ctx.dataSourceTimeoutMs} ms`
          : `The data source "${name}" failed; check the connection and try again`,
      );
    } finally {
      clearTimeout(timer);
    }
    const options = DataSourceResult.safeParse({ options: result });
    if (!options.success) {
      ctx.logger.warn({ instanceId: instance.id, dataSource: name }, 'data source returned malformed options');
      throw new HttpProblem(502, 'upstream', `The data source "${name}" returned malformed options`);
    }
    return c.json(options.data satisfies DataSourceResult);
  });

  return app;
}
