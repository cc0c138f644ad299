// How an instance looks on the wire, and what still blocks its activation. Secret values never
// enter this module: it reads only the names of stored secrets.
import type { ConnectionState, FieldError, Instance, UpdateAvailable, WebhookEndpoint } from 'plugboard/protocol';
import type { Integration } from './sdk/index.js';
import { fieldErrors } from './field-errors.js';
import type { ConnectionRecord, InstanceRecord } from './store/types.js';

// Stands in for a stored secret when checking completeness: the real value was validated when saved.
const STORED_SECRET = 'stored-secret';

/** What a stored connection row shows of itself: never its ciphertext. */
function storedState(r: ConnectionRecord): Omit<ConnectionState, 'name' | 'kind'> {
  return { status: r.status, error: r.error, accountName: r.accountName, expiresAt: r.expiresAt, updatedAt: r.updatedAt };
}

/** Connection states for every connection the integration declares (`missing` when never set). */
export function connectionStates(integration: Integration | undefined, records: readonly ConnectionRecord[]): ConnectionState[] {
  const byName = new Map(records.map((r) => [r.name, r]));
  if (!integration) {
    return records.map((r) => ({ name: r.name, kind: r.kind, ...storedState(r) }));
  }
  return Object.entries(integration.connections).map(([name, spec]): ConnectionState => {
    const r = byName.get(name);
    return r
      ? { name, label: spec.label, kind: spec.kind, ...storedState(r) }
      : {
          name,
          label: spec.label,
          kind: spec.kind,
          // Client credentials are the vendor's: nothing for the customer to connect, the token is fetched on use.
          status: spec.kind === 'clientCredentials' ? 'connected' : 'missing',
          error: null,
          expiresAt: null,
          updatedAt: null,
        };
  });
}

/** Everything that must be fixed before activation: invalid/missing config fields and unconnected connections. */
export function activationBlockers(
  integration: Integration | undefined,
  instance: Pick<InstanceRecord, 'config' | 'secretNames'>,
  records: readonly ConnectionRecord[],
): FieldError[] {
  if (!integration) return [{ path: 'integrationKey', message: 'This integration is no longer offered' }];
  const blockers: FieldError[] = [];
  const effective: Record<string, unknown> = { ...instance.config };
  for (const name of instance.secretNames) effective[name] = STORED_SECRET;
  const result = integration.configSchema.safeParse(effective);
  if (!result.success) blockers.push(...fieldErrors(result.error.issues, 'config', 2));
  for (const state of connectionStates(integration, records)) {
    if (state.status === 'connected') continue;
    const label = (Object.hasOwn(integration.connections, state.name) ? integration.connections[state.name]?.label : undefined) ?? state.name;
    const message =
      state.status === 'missing'
        ? `${label} is not connected`
        : state.status === 'expired'
          ? `${label} has expired; reconnect it`
          : `${label} needs attention${state.error ? `: ${state.error}` : ''}`;
    blockers.push({ path: `connections.${state.name}`, message });
  }
  return blockers;
}

function omitKeys(config: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  if (!keys.some((k) => k in config)) return config;
  return Object.fromEntries(Object.entries(config).filter(([k]) => !keys.includes(k)));
}

/** A webhook URL with the words the customer reads (the trigger's, else the flow's) and whether it is theirs to give out. */
function withWords(integration: Integration | undefined, hook: WebhookEndpoint): WebhookEndpoint {
  const flow = integration?.describe().flows.find((f) => f.name === hook.flow);
  if (!flow || flow.trigger.type !== 'webhook') return hook;
  const label = flow.trigger.label ?? flow.label;
  const description = flow.trigger.description ?? flow.description;
  return {
    ...hook,
    ...(label !== undefined ? { label } : {}),
    ...(description !== undefined ? { description } : {}),
    customerFacing: flow.trigger.customerFacing === true,
  };
}

export function instanceView(
  integration: Integration | undefined,
  instance: InstanceRecord,
  records: readonly ConnectionRecord[],
  /** The instance's webhook URLs, when a runtime runs (RouteContext.webhookEndpoints). */
  webhooks?: WebhookEndpoint[],
  /** The integration's current version, when it is not `integration` (the instance's own): "Update available". */
  latest?: Integration,
): Instance {
  return {
    id: instance.id,
    integrationKey: instance.integrationKey,
    status: instance.status,
    // A field the vendor later turned into a secret may still sit in clear config: never echo it.
    config: integration ? omitKeys(instance.config, integration.secretFields) : instance.config,
    secretsSet: [...instance.secretNames],
    version: instance.version,
    connections: connectionStates(integration, records),
    blockers: activationBlockers(integration, instance, records),
    statusReason: instance.statusReason,
    ...(webhooks ? { webhooks: webhooks.map((hook) => withWords(integration, hook)) } : {}),
    createdAt: instance.createdAt,
    updatedAt: instance.updatedAt,
    activatedAt: instance.activatedAt,
    integrationVersion: instance.integrationVersion,
    previousVersion: instance.previousRelease?.integrationVersion ?? null,
    ...(latest && instance.integrationVersion !== null && latest.version !== instance.integrationVersion
      ? { update: updateAvailable(latest, instance.integrationVersion) }
      : {}),
  };
}

/** The newer version's changelog entries, newest first, down to the instance's own version. */
export function updateAvailable(latest: Integration, from: string): UpdateAvailable {
  const changelog: UpdateAvailable['changelog'] = [];
  for (const [version, notes] of Object.entries(latest.changelog ?? {})) {
    if (version === from) break;
    changelog.push({ version, notes });
  }
  return { version: latest.version, changelog, selfUpgrade: latest.selfUpgrade === true };
}

/** Connections keyed by instance id, for lists that read all connections in one query. */
export function groupByInstance(records: readonly ConnectionRecord[]): Map<string, ConnectionRecord[]> {
  const out = new Map<string, ConnectionRecord[]>();
  for (const r of records) {
    const list = out.get(r.instanceId);
    if (list) list.push(r);
    else out.set(r.instanceId, [r]);
  }
  return out;
}
