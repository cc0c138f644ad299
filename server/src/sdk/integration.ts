import * as z from 'zod';
import type { ConfigPage, ConnectionSpec, DataSourceOption, FlowSpec, FlowTrigger, IntegrationDetail } from 'plugboard/protocol';
import { FieldHint, keyInWords } from 'plugboard/protocol';
import { connectionParamFields, type ConnectionCredentials, type ConnectionDefinition, type OAuth2Connection } from './connections.js';
import type { FlowDefinition, Trigger } from './flows.js';
import { parseRateLimits, type ParsedRateLimit, type RateLimit } from './rate-limit.js';

export interface ConfigPageDefinition {
  title: string;
  description?: string;
  /** Field builders from `field`, in display order. */
  fields: z.ZodRawShape;
}

export interface DataSourceInput<Config = Record<string, unknown>> {
  config: Partial<Config>;
  connections: Record<string, ConnectionCredentials>;
  query: string;
  signal: AbortSignal;
  fetch: typeof fetch;
}
export type DataSource<Config = Record<string, unknown>> = (input: DataSourceInput<Config>) => Promise<DataSourceOption[]>;

export interface IntegrationDefinition {
  /** Stable id: lowercase letters, digits and dashes. Instances refer to it. */
  key: string;
  name: string;
  /** One or two sentences for the card. */
  description: string;
  /** Longer text for the detail view (plain text). */
  overview?: string;
  category: string;
  /** Image URL or `data:` URI. */
  icon?: string;
  version: string;
  /** The vendor's labels (a plan, a tier, a family): customer entitlements may name them instead of keys. */
  labels?: string[];
  connections?: Record<string, ConnectionDefinition>;
  /** A budget for each connection that declares none of its own (one per connected account, not shared between connections). */
  rateLimit?: RateLimit[];
  configPages?: ConfigPageDefinition[];
  // any: each flow and data source may type its config its own way (not checked against the fields).
  dataSources?: Record<string, DataSource<any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
  flows?: Record<string, FlowDefinition<any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /**
   * Carries an instance's config from an older version to this one when the instance is upgraded:
   * `config` holds every stored value, secrets included; return this version's config. A throw, or
   * config this version refuses, fails that instance's upgrade and leaves it on its version.
   */
  migrate?: (input: MigrateInput) => Record<string, unknown> | Promise<Record<string, unknown>>;
  /** What changed in each version, newest first (`{ '2.0.0': 'Adds …', '1.1.0': '…' }`): shown with "Update available". */
  changelog?: Record<string, string>;
  /** Customers' admins may upgrade their own instance to this version (otherwise only the vendor upgrades). */
  selfUpgrade?: boolean;
}

export interface MigrateInput {
  /** The version the instance runs now (the one whose config this is). */
  from: string;
  config: Record<string, unknown>;
}

export interface Integration extends Required<
  Omit<IntegrationDefinition, 'overview' | 'icon' | 'labels' | 'rateLimit' | 'migrate' | 'changelog' | 'selfUpgrade'>
> {
  migrate?: IntegrationDefinition['migrate'];
  changelog?: Record<string, string>;
  selfUpgrade?: boolean;
  readonly labels: readonly string[];
  overview?: string;
  icon?: string;
  rateLimit?: RateLimit[];
  /** Each rate-limited connection's limits, shortest window first (its own, else the integration's). */
  rateLimits: Record<string, ParsedRateLimit[]>;
  /** All pages' fields in one object; validates a complete config. */
  configSchema: z.ZodObject;
  /** Names of fields whose values are secrets (stored encrypted, never returned). */
  secretFields: string[];
  /** The integration as the browser sees it, without the customer's instance. */
  describe(): Omit<IntegrationDetail, 'instance'>;
}

const KEY = /^[a-z0-9][a-z0-9-]{0,62}$/;
const NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;
const LABEL = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;

function kindOf(schema: z.ZodType): string | undefined {
  return z.globalRegistry.get(schema)?.[FieldHint.kind] as string | undefined;
}

function pageSchema(fields: z.ZodRawShape): Record<string, unknown> {
  const json = z.toJSONSchema(z.object(fields), { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  json[FieldHint.order] = Object.keys(fields);
  return json;
}

/** An OAuth connection's fields to fill in before connecting (tenant, own client), when it has any. */
function oauthFieldsSchema(c: OAuth2Connection): Record<string, unknown> | undefined {
  const fields = connectionParamFields(c);
  return Object.keys(fields).length ? pageSchema(fields) : undefined;
}

/** A trigger as the browser sees it: a webhook's verifier stays on the server. */
function wireTrigger(t: Trigger): FlowTrigger {
  if (t.type === 'schedule') return { ...t };
  return {
    type: 'webhook',
    hmac: t.hmac,
    ...(t.customerFacing ? { customerFacing: true } : {}),
    ...(t.label !== undefined ? { label: t.label } : {}),
    ...(t.description !== undefined ? { description: t.description } : {}),
  };
}

/** A copy with no prototype: a name from a URL ("constructor", "__proto__") finds only what was declared. */
function ownRecord<T>(from: Record<string, T> | undefined): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, from);
}

/** Declares an integration. Checks the definition at once so mistakes show at start-up, not in a customer's browser. */
export function defineIntegration(def: IntegrationDefinition): Integration {
  if (!KEY.test(def.key)) throw new Error(`integration key "${def.key}": use lowercase letters, digits and dashes`);
  if (typeof def.version !== 'string' || def.version.length === 0 || def.version.length > 100)
    throw new Error(`${def.key}: version must be a string of 1-100 characters`);
  if (def.migrate !== undefined && typeof def.migrate !== 'function') throw new Error(`${def.key}: migrate must be a function`);
  const labels = [...new Set(def.labels ?? [])];
  for (const label of labels) if (!LABEL.test(label)) throw new Error(`${def.key}: label "${label}" must be 1-100 letters, digits, "_", ".", ":" or "-"`);
  const connections = ownRecord(def.connections);
  const configPages = def.configPages ?? [];
  const dataSources = ownRecord(def.dataSources);
  const flows = ownRecord(def.flows);
  for (const name of [...Object.keys(connections), ...Object.keys(dataSources), ...Object.keys(flows)]) {
    if (!NAME.test(name)) throw new Error(`${def.key}: name "${name}" must be an identifier`);
  }

  const shape = ownRecord<z.ZodType>({});
  const secretFields: string[] = [];
  for (const page of configPages) {
    for (const [name, schema] of Object.entries(page.fields)) {
      if (!NAME.test(name)) throw new Error(`${def.key}: field "${name}" must be an identifier`);
      if (Object.hasOwn(shape, name)) throw new Error(`${def.key}: field "${name}" appears on two pages`);
      const kind = kindOf(schema as z.ZodType);
      if (!kind) throw new Error(`${def.key}: field "${name}" was not made with field.*()`);
      if (kind === 'secret') secretFields.push(name);
      const meta = z.globalRegistry.get(schema as z.ZodType);
      const used = kind === 'picker' ? [meta?.[FieldHint.dataSource]] : kind === 'mapping' ? [meta?.[FieldHint.sources], meta?.[FieldHint.targets]] : [];
      for (const source of used) {
        if (typeof source !== 'string' || !Object.hasOwn(dataSources, source))
          throw new Error(`${def.key}: field "${name}" uses unknown data source "${String(source)}"`);
      }
      shape[name] = schema as z.ZodType;
    }
  }
  const configSchema = z.object(shape);
  const rateLimits = ownRecord<ParsedRateLimit[]>({});
  const shared = parseRateLimits(`${def.key}: integration`, def.rateLimit);
  for (const [name, c] of Object.entries(connections)) {
    const limits = parseRateLimits(`${def.key}: connection "${name}"`, c.rateLimit) ?? shared;
    if (limits) rateLimits[name] = limits;
  }
  for (const [name, f] of Object.entries(flows)) {
    const field = f.trigger.type === 'schedule' ? f.trigger.intervalField : undefined;
    if (field !== undefined && !Object.hasOwn(shape, field)) throw new Error(`${def.key}: flow "${name}" takes its interval from unknown field "${field}"`);
  }

  const described: Omit<IntegrationDetail, 'instance'> = {
    key: def.key,
    name: def.name,
    description: def.description,
    overview: def.overview,
    category: def.category,
    icon: def.icon,
    version: def.version,
    ...(labels.length ? { labels } : {}),
    connections: Object.entries(connections).map(([name, c]): ConnectionSpec => ({
      name,
      kind: c.kind,
      label: c.label,
      description: c.description,
      schema: c.kind === 'apiKey' ? pageSchema(c.fields) : c.kind === 'oauth2' ? oauthFieldsSchema(c) : undefined,
    })),
    configPages: configPages.map((p): ConfigPage => ({ title: p.title, description: p.description, schema: pageSchema(p.fields) })),
    dataSources: Object.keys(dataSources),
    flows: Object.entries(flows).map(([name, f]): FlowSpec => ({
      name,
      label: f.label ?? keyInWords(name),
      description: f.description,
      trigger: wireTrigger(f.trigger),
    })),
  };

  return {
    ...def,
    labels,
    connections,
    configPages,
    dataSources,
    flows,
    configSchema,
    secretFields,
    rateLimits,
    describe: () => described,
  };
}
