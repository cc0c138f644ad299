// A customer's instances as the API changes them: create (one per integration, idempotent),
// config saves (draft values, secrets sealed and merged with the stored ones, optimistic
// concurrency), API-key connections, activate/pause, delete (OAuth grants revoked first). Every
// write leaves an audit line that names fields and connections, never their values.
import * as z from 'zod';
import { FieldHint, type FieldError, type Instance, type MappingRow, type WebhookEndpoint } from 'plugboard/protocol';
import type { ApiKeyConnection, Integration } from './sdk/index.js';
import type { ConnectionChecks } from './connection-checks.js';
import { openInstanceSecrets, sealApiKey, sealInstanceSecrets } from './credentials.js';
import type { DataSources } from './data-sources.js';
import { isEntitled, type Grants } from './entitlements.js';
import { ConflictError, DataSourceError, ForbiddenError, InvalidFieldsError, NotEntitledError, NotFoundError, NotReadyError } from './errors.js';
import { fieldErrors, type IssueLike } from './field-errors.js';
import { activationBlockers, groupByInstance, instanceView } from './instance-view.js';
import type { IntegrationIndex } from './integrations.js';
import type { OAuth } from './oauth/index.js';
import type { Cipher } from './secrets.js';
import { scrubbedMessage, stringsIn, withTimeLimit } from './vendor-code.js';
import { VersionConflictError, type CustomerStore, type InstanceRecord, type NewAuditEvent } from './store/types.js';

/** Who is asking: the customer's store and the audit actor (`user:<sub>`, and the token's `name` when it had one). */
export interface Caller {
  tenant: CustomerStore;
  actor: string;
  actorName?: string;
  /** What the customer's plan includes (entitlements.ts); undefined: everything. */
  grants?: Grants;
}

/** The webhook URLs of an instance, when a runtime runs (runtime.webhooks.list). */
export type WebhookLister = (instance: InstanceRecord, integration: Integration) => Promise<WebhookEndpoint[]>;

export interface Instances {
  /** Throws NotFoundError. */
  get(caller: Caller, id: string): Promise<InstanceRecord>;
  /** The instance as the API answers it (connections, blockers, webhook URLs). */
  view(caller: Caller, instance: InstanceRecord): Promise<Instance>;
  list(caller: Caller): Promise<Instance[]>;
  /** Throws InvalidFieldsError (no such integration), NotEntitledError, DuplicateInstanceError, IdempotencyKeyReuseError. */
  create(caller: Caller, input: { integrationKey: string; idempotencyKey?: string }): Promise<{ instance: InstanceRecord; created: boolean }>;
  /**
   * Saves config values: each given value must be valid, required ones may stay empty (draft), but
   * an active instance must stay complete. Secrets: absent or "" keeps the stored value, null
   * clears it. A mapping field's rows must use values its data sources offer (they run with the
   * saved config; `signal` stops waiting for them); an instance not running keeps rows whose lists
   * fail (no connection yet) unchecked, and activation checks them. Throws VersionConflictError when
   * `version` is not the current one; data-source failures (a running instance) as DataSources.options does.
   */
  saveConfig(caller: Caller, id: string, input: { config: Record<string, unknown>; version: number; signal?: AbortSignal }): Promise<InstanceRecord>;
  /**
   * Stores API-key credentials once the connection's `test` (if any) accepts them, with the account
   * its `identify` names. Throws InvalidFieldsError (a bad value, or the test's refusal) or
   * ConnectionTestError (the test failed or ran out of time); either way nothing is stored.
   */
  setApiKey(
    caller: Caller,
    id: string,
    connection: string,
    values: Record<string, unknown>,
    request?: { signal?: AbortSignal; requestId?: string },
  ): Promise<InstanceRecord>;
  /** Revokes an OAuth grant at its provider first (best effort). */
  deleteConnection(caller: Caller, id: string, connection: string): Promise<InstanceRecord>;
  /** Throws NotEntitledError, or NotReadyError naming each blocker. */
  activate(caller: Caller, id: string): Promise<InstanceRecord>;
  pause(caller: Caller, id: string): Promise<InstanceRecord>;
  /** Revokes its OAuth grants at their providers (best effort), then deletes it with everything under it. */
  delete(caller: Caller, id: string): Promise<void>;
  /**
   * Moves the instance to another loaded version (default: the current one) with its config carried
   * by that version's `migrate` and validated by its schema; keeps the old version and config for
   * rollback. Throws InvalidFieldsError (migrate threw, or its config is refused: nothing changes),
   * ConflictError (already on it, or no such version loaded), VersionConflictError.
   */
  upgrade(caller: Caller, id: string, input?: { to?: string; expectedVersion?: number; byCustomer?: boolean }): Promise<InstanceRecord>;
  /** Back to the version and config the last upgrade replaced. Throws ConflictError when there is none, or its code is no longer loaded. */
  rollback(caller: Caller, id: string): Promise<InstanceRecord>;
}

const apiKeySchemas = new WeakMap<ApiKeyConnection, z.ZodObject>();
function apiKeySchema(spec: ApiKeyConnection): z.ZodObject {
  let schema = apiKeySchemas.get(spec);
  if (!schema) apiKeySchemas.set(spec, (schema = z.object(spec.fields)));
  return schema;
}

const draftSchemas = new WeakMap<Integration, z.ZodObject>();
function draftSchema(integration: Integration): z.ZodObject {
  let schema = draftSchemas.get(integration);
  if (!schema) draftSchemas.set(integration, (schema = integration.configSchema.partial()));
  return schema;
}

interface MappingField {
  label: string;
  sources: string;
  targets: string;
}

const mappingFieldsOf = new WeakMap<Integration, Map<string, MappingField>>();
/** The integration's mapping fields by name, with the data sources of their two sides. */
function mappingFields(integration: Integration): Map<string, MappingField> {
  let fields = mappingFieldsOf.get(integration);
  if (!fields) {
    fields = new Map();
    for (const [name, schema] of Object.entries(integration.configSchema.shape as Record<string, z.ZodType>)) {
      const meta = z.globalRegistry.get(schema);
      if (meta?.[FieldHint.kind] !== 'mapping') continue;
      fields.set(name, { label: String(meta.title ?? name), sources: String(meta[FieldHint.sources]), targets: String(meta[FieldHint.targets]) });
    }
    mappingFieldsOf.set(integration, fields);
  }
  return fields;
}

/** Config issues as field errors: cut at the field (`config.events`), but a mapping's row or cell is named (`config.fields.2.target`) so the form marks that row. */
function configErrors(integration: Integration, issues: readonly IssueLike[]): FieldError[] {
  const mappings = mappingFields(integration);
  const inRow = (i: IssueLike) => i.path.length >= 2 && mappings.has(String(i.path[0]));
  return [
    ...fieldErrors(
      issues.filter((i) => !inRow(i)),
      'config',
      2,
    ),
    ...fieldErrors(issues.filter(inRow), 'config', 4),
  ];
}

const audit = (caller: Caller, action: string, instanceId: string, details: Record<string, unknown> = {}): NewAuditEvent => ({
  actor: caller.actor,
  actorName: caller.actorName ?? null,
  action,
  target: instanceId ? `instance:${instanceId}` : '',
  details,
});

export function createInstances(options: {
  cipher: Cipher;
  integrations: IntegrationIndex;
  oauth: OAuth;
  checks: ConnectionChecks;
  /** Checks mapping rows against what their data sources offer. */
  dataSources: DataSources;
  webhooks?: WebhookLister;
  /** Time limit of an integration's `migrate` during an upgrade, default 10 s. */
  migrateTimeoutMs?: number;
}): Instances {
  const { cipher, integrations, oauth, checks, dataSources, webhooks } = options;
  const migrateTimeoutMs = options.migrateTimeoutMs ?? 10_000;

  /** Rows of the mapping fields in `config` whose target or source their data source does not offer. */
  async function unofferedRows(
    caller: Caller,
    instance: InstanceRecord,
    integration: Integration,
    config: Record<string, unknown>,
    signal: AbortSignal,
    /** A draft's save: a mapping whose lists can't be read yet (no connection) is kept unchecked; activation checks it. */
    draft = false,
  ): Promise<FieldError[]> {
    const offeredBy = new Map<string, Promise<Set<string>>>();
    const offeredValues = (name: string) => {
      let values = offeredBy.get(name);
      if (!values) {
        const call = { instance, name, query: '', caller: { ...caller, role: 'admin' }, signal };
        offeredBy.set(name, (values = dataSources.options(call).then((options) => new Set(options.map((o) => o.value)))));
      }
      return values;
    };
    const errors: FieldError[] = [];
    for (const [name, spec] of mappingFields(integration)) {
      const rows = config[name] as MappingRow[] | undefined;
      if (!rows?.length) continue;
      let sources: Set<string>, targets: Set<string>;
      try {
        [sources, targets] = await Promise.all([offeredValues(spec.sources), offeredValues(spec.targets)]);
      } catch (error) {
        if (draft && error instanceof DataSourceError) continue;
        throw error;
      }
      rows.forEach((row, i) => {
        if (!targets.has(row.target))
          errors.push({ path: `config.${name}.${i}.target`, message: `${spec.label}: "${row.target}" is not a field that can be filled` });
        if (!sources.has(row.source))
          errors.push({ path: `config.${name}.${i}.source`, message: `${spec.label}: "${row.source}" is not a field that can be read` });
      });
    }
    return errors;
  }

  function written(instance: InstanceRecord | undefined): InstanceRecord {
    if (!instance) throw new NotFoundError('Instance');
    return instance;
  }

  /** "Update" is offered only for a version inside the caller's plan (upgrade refuses the others). */
  const withinPlan = (view: Instance, grants: Grants | undefined): Instance => {
    const latest = view.update?.selfUpgrade ? integrations.get(view.integrationKey) : undefined;
    return latest && !isEntitled(latest, grants) ? { ...view, update: { ...view.update!, selfUpgrade: false } } : view;
  };

  const service: Instances = {
    async get({ tenant }, id) {
      return written(await tenant.getInstance(id));
    },

    async view({ tenant, grants }, instance) {
      const integration = integrations.of(instance);
      const [connections, urls] = await Promise.all([
        tenant.listConnections(instance.id),
        integration && webhooks ? webhooks(instance, integration) : undefined,
      ]);
      return withinPlan(instanceView(integration, instance, connections, urls, integrations.get(instance.integrationKey)), grants);
    },

    async list({ tenant, grants }) {
      const [instances, connections] = await Promise.all([tenant.listInstances(), tenant.listAllConnections()]);
      const byInstance = groupByInstance(connections);
      return Promise.all(
        instances.map(async (i) => {
          const integration = integrations.of(i);
          const urls = integration && webhooks ? await webhooks(i, integration) : undefined;
          return withinPlan(instanceView(integration, i, byInstance.get(i.id) ?? [], urls, integrations.get(i.integrationKey)), grants);
        }),
      );
    },

    async create(caller, { integrationKey, idempotencyKey }) {
      const integration = integrations.get(integrationKey);
      if (!integration) throw new InvalidFieldsError([{ path: 'integrationKey', message: `There is no integration "${integrationKey}"` }]);
      if (!isEntitled(integration, caller.grants)) throw new NotEntitledError(integration.key, integration.name);
      return caller.tenant.createInstance({
        integrationKey: integration.key,
        integrationVersion: integration.version,
        idempotencyKey,
        audit: audit(caller, 'instance.created', '', { integrationKey: integration.key }),
      });
    },

    async saveConfig(caller, id, { config: values, version, signal = new AbortController().signal }) {
      const instance = await service.get(caller, id);
      const integration = integrations.offered(instance);
      if (version !== instance.version) throw new VersionConflictError(instance.version);

      const shape = integration.configSchema.shape as Record<string, z.ZodType>;
      const secretFields = new Set(integration.secretFields);
      const errors: FieldError[] = [];
      const plain: Record<string, unknown> = {};
      const secretChanges = new Map<string, string | null>();
      for (const [name, value] of Object.entries(values)) {
        if (!Object.hasOwn(shape, name)) {
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
      if (!draft.success) errors.push(...configErrors(integration, draft.error.issues));
      if (errors.length) throw new InvalidFieldsError(errors);
      const config = Object.fromEntries(Object.entries(draft.data as Record<string, unknown>).filter(([, v]) => v !== undefined));
      // Not running: a customer who has not connected yet may still save (and keep) the rest of the page.
      const unoffered = await unofferedRows(caller, instance, integration, config, signal, instance.status !== 'active');
      if (unoffered.length) throw new InvalidFieldsError(unoffered);

      let secrets = instance.secrets;
      let secretNames = [...instance.secretNames];
      if (secretChanges.size) {
        const stored = openInstanceSecrets(cipher, instance);
        for (const [name, value] of secretChanges) {
          if (value === null) delete stored[name];
          else stored[name] = value;
        }
        secrets = sealInstanceSecrets(cipher, instance.id, stored);
        secretNames = Object.keys(stored).sort();
      }

      // A running instance must stay complete: only drafts and paused instances take partial config.
      if (instance.status === 'active') {
        const blockers = activationBlockers(integration, { config, secretNames }, []).filter((b) => b.path.startsWith('config.'));
        if (blockers.length) throw new InvalidFieldsError(blockers, 'An active instance needs a complete configuration; pause it to save a partial one.');
      }

      return written(
        await caller.tenant.updateConfig(instance.id, {
          config,
          secrets,
          secretNames,
          expectedVersion: version,
          audit: audit(caller, 'instance.config_saved', instance.id, {
            fields: Object.keys(config).sort(),
            secretsChanged: [...secretChanges.keys()].sort(),
            version: version + 1,
          }),
        }),
      );
    },

    async setApiKey(caller, id, name, values, request = {}) {
      const instance = await service.get(caller, id);
      const integration = integrations.offered(instance);
      // Own keys only, here and below: a name like "constructor" must not reach Object.prototype.
      const spec = Object.hasOwn(integration.connections, name) ? integration.connections[name] : undefined;
      if (!spec) throw new NotFoundError(`Connection "${name}"`);
      if (spec.kind !== 'apiKey') {
        throw new ConflictError(`${spec.label} is an OAuth connection: start it with POST /api/v1/instances/${instance.id}/connections/${name}/authorize`, {
          kind: spec.kind,
        });
      }
      const errors: FieldError[] = Object.keys(values)
        .filter((k) => !Object.hasOwn(spec.fields, k))
        .map((k) => ({ path: `values.${k}`, message: `${spec.label} has no field "${k}"` }));
      const parsed = apiKeySchema(spec).safeParse(values);
      if (!parsed.success) errors.push(...fieldErrors(parsed.error.issues, 'values', 2));
      if (errors.length || !parsed.success) throw new InvalidFieldsError(errors);

      // As flows and data sources will see them (instance-inputs.ts opens the same object).
      const typed = parsed.data as Record<string, string>;
      const target = { instanceId: instance.id, connection: name, ...request };
      await checks.test(spec, typed, target);
      const accountName = await checks.identify(spec, { kind: 'apiKey', values: typed }, target);

      const record = await caller.tenant.putConnection(instance.id, name, {
        kind: 'apiKey',
        status: 'connected',
        ciphertext: sealApiKey(cipher, instance.id, name, parsed.data),
        expiresAt: null,
        error: null,
        accountName,
        audit: audit(caller, 'connection.set', instance.id, { connection: name, kind: 'apiKey', fields: Object.keys(parsed.data).sort() }),
      });
      if (!record) throw new NotFoundError('Instance');
      return (await caller.tenant.getInstance(instance.id)) ?? instance;
    },

    async deleteConnection(caller, id, name) {
      const instance = await service.get(caller, id);
      const connections = integrations.of(instance)?.connections;
      const spec = connections && Object.hasOwn(connections, name) ? connections[name] : undefined;
      if (instance.status === 'active' && spec) throw new ConflictError('Pause the instance before removing a connection it uses');
      if (spec && spec.kind !== 'apiKey') {
        await oauth.revokeConnection({ customerId: caller.tenant.customer.id, instanceId: instance.id, connection: name });
      }
      const deleted = await caller.tenant.deleteConnection(instance.id, name, audit(caller, 'connection.deleted', instance.id, { connection: name }));
      if (!deleted) throw new NotFoundError(`Connection "${name}"`);
      return (await caller.tenant.getInstance(instance.id)) ?? instance;
    },

    async activate(caller, id) {
      const instance = await service.get(caller, id);
      const integration = integrations.of(instance);
      // A plan that lost the integration keeps its instance readable, pausable and deletable, not startable.
      if (integration && !isEntitled(integration, caller.grants)) throw new NotEntitledError(integration.key, integration.name);
      const blockers = activationBlockers(integration, instance, await caller.tenant.listConnections(instance.id));
      if (blockers.length) throw new NotReadyError(blockers);
      if (instance.status === 'active') return instance;
      // Mapping rows a draft kept unchecked (their lists needed a connection) are checked now, with it.
      // The signal only where there is a mapping to check: an AbortController per activation is ~1 % of a toggle's CPU.
      const unoffered =
        integration && mappingFields(integration).size > 0
          ? await unofferedRows(caller, instance, integration, instance.config, new AbortController().signal)
          : [];
      if (unoffered.length) throw new NotReadyError(unoffered);
      return written(
        await caller.tenant.setStatus(instance.id, {
          status: 'active',
          reason: null,
          audit: audit(caller, 'instance.activated', instance.id, { from: instance.status }),
        }),
      );
    },

    async pause(caller, id) {
      const instance = await service.get(caller, id);
      if (instance.status === 'paused') return instance;
      if (instance.status === 'draft') throw new ConflictError('A draft instance is not running; there is nothing to pause');
      return written(
        await caller.tenant.setStatus(instance.id, {
          status: 'paused',
          reason: null,
          audit: audit(caller, 'instance.paused', instance.id, { from: instance.status }),
        }),
      );
    },

    async delete(caller, id) {
      const instance = await service.get(caller, id);
      await oauth.revokeInstance({ customerId: caller.tenant.customer.id, instanceId: instance.id });
      const deleted = await caller.tenant.deleteInstance(
        instance.id,
        audit(caller, 'instance.deleted', instance.id, { integrationKey: instance.integrationKey }),
      );
      if (!deleted) throw new NotFoundError('Instance');
    },

    async upgrade(caller, id, input = {}) {
      const instance = await service.get(caller, id);
      if (input.expectedVersion !== undefined && input.expectedVersion !== instance.version) throw new VersionConflictError(instance.version);
      const target = integrations.release(instance.integrationKey, input.to ?? null)?.integration;
      if (!target) {
        throw new ConflictError(
          input.to === undefined
            ? 'This integration is no longer offered; there is nothing to upgrade to'
            : `Version ${input.to} of this integration is not loaded`,
          { versions: integrations.versions(instance.integrationKey) },
        );
      }
      const from = instance.integrationVersion ?? integrations.get(instance.integrationKey)?.version ?? '';
      if (target.version === from) throw new ConflictError(`The instance already runs version ${from}`, { integrationVersion: from });
      // A customer upgrades itself only to the current version, and only when the vendor allows it.
      if (input.byCustomer && (target !== integrations.get(instance.integrationKey) || target.selfUpgrade !== true)) {
        throw new ForbiddenError(`${target.name} ${target.version} is rolled out by the vendor; ask them to upgrade`);
      }
      // The plan is checked against the version upgraded to: its labels may have moved it to another plan.
      if (input.byCustomer && !isEntitled(target, caller.grants)) throw new NotEntitledError(target.key, target.name);

      // migrate sees every stored value as flows do, secrets included; the result is split and sealed again below.
      const stored = openInstanceSecrets(cipher, instance);
      const before = { ...instance.config, ...stored };
      let migrated: Record<string, unknown>;
      try {
        const result = target.migrate
          ? await withTimeLimit(() => target.migrate!({ from, config: structuredClone(before) }), { timeoutMs: migrateTimeoutMs })
          : before;
        if (typeof result !== 'object' || result === null || Array.isArray(result)) throw new Error('migrate must return an object');
        // Read once, here: a getter or a Proxy in the vendor's answer throws inside this try (scrubbed), not below it.
        migrated = structuredClone(result);
      } catch (error) {
        throw new InvalidFieldsError(
          [{ path: 'config', message: `Version ${target.version}'s migrate from ${from} failed: ${scrubbedMessage(error, stringsIn(stored))}` }],
          'The config could not be carried to the new version; the instance stays on its version.',
        );
      }
      const secretFields = new Set(target.secretFields);
      const plain = Object.fromEntries(Object.entries(migrated).filter(([k, v]) => !secretFields.has(k) && v !== null && v !== undefined));
      const secretValues = Object.fromEntries(
        Object.entries(migrated).filter((e): e is [string, string] => secretFields.has(e[0]) && typeof e[1] === 'string' && e[1] !== ''),
      );
      const errors: FieldError[] = [];
      // A secret carried into a field the new version does not seal would be stored in clear and shown to every member.
      const sealed = Object.values(stored).filter((s) => s.length >= 8);
      for (const [name, value] of Object.entries(plain)) {
        if (stringsIn(value).some((text) => sealed.some((secret) => text.includes(secret)))) {
          errors.push({ path: `config.${name}`, message: `Version ${target.version}'s migrate put a secret value in "${name}", which is not a secret field` });
        }
      }
      const draft = draftSchema(target).safeParse(plain);
      if (!draft.success) errors.push(...configErrors(target, draft.error.issues));
      for (const [name, value] of Object.entries(secretValues)) {
        const parsed = (target.configSchema.shape as Record<string, z.ZodType>)[name]!.safeParse(value);
        if (!parsed.success) errors.push(...fieldErrors(parsed.error.issues, `config.${name}`, 2));
      }
      const config = draft.success ? Object.fromEntries(Object.entries(draft.data as Record<string, unknown>).filter(([, v]) => v !== undefined)) : {};
      const secretNames = Object.keys(secretValues).sort();
      // A running instance must stay complete on the new version, as a config save must.
      if (!errors.length && instance.status === 'active') {
        errors.push(...activationBlockers(target, { config, secretNames }, []).filter((b) => b.path.startsWith('config.')));
      }
      if (errors.length) throw new InvalidFieldsError(errors, `Version ${target.version} refuses the migrated config; the instance stays on version ${from}.`);

      return written(
        await caller.tenant.setRelease(instance.id, {
          release: {
            integrationVersion: target.version,
            config,
            secrets: secretNames.length ? sealInstanceSecrets(cipher, instance.id, secretValues) : null,
            secretNames,
          },
          previous: { integrationVersion: from, config: instance.config, secrets: instance.secrets, secretNames: instance.secretNames },
          expectedVersion: instance.version,
          audit: audit(caller, 'instance.upgraded', instance.id, { from, version: target.version, fields: Object.keys(config).sort() }),
        }),
      );
    },

    async rollback(caller, id) {
      const instance = await service.get(caller, id);
      const previous = instance.previousRelease;
      if (!previous) throw new ConflictError('There is no earlier version to roll back to');
      if (!integrations.release(instance.integrationKey, previous.integrationVersion)) {
        throw new ConflictError(`Version ${previous.integrationVersion} of this integration is no longer loaded; the rollback needs its code`);
      }
      return written(
        await caller.tenant.setRelease(instance.id, {
          release: previous,
          previous: null,
          expectedVersion: instance.version,
          audit: audit(caller, 'instance.rolled_back', instance.id, { from: instance.integrationVersion, version: previous.integrationVersion }),
        }),
      );
    },
  };
  return service;
}
