// The catalog's shape checked without zod: the marketplace shows it from the eager bundle, which
// does not carry zod's runtime (see the split in rollup.config.mjs). `Catalog` in api.ts is the schema;
// test/node/catalog-shape.test.ts holds this check to it, case by case.
import type { Catalog, InstanceStatus } from './api.js';

/** `InstanceStatus`'s values (the test checks that they agree). */
export const INSTANCE_STATUSES: readonly InstanceStatus[] = ['draft', 'active', 'paused', 'error'];

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';

function isInstanceSummary(v: unknown): boolean {
  return (
    v === null ||
    (isObject(v) &&
      isString(v.id) &&
      (INSTANCE_STATUSES as readonly unknown[]).includes(v.status) &&
      isString(v.updatedAt) &&
      (v.accountNames === undefined || (Array.isArray(v.accountNames) && v.accountNames.every(isString))))
  );
}

/** A catalog entry's shape (the integration detail's check starts with it: src/protocol/shapes.ts). */
export function isIntegrationSummary(v: unknown): boolean {
  return (
    isObject(v) &&
    isString(v.key) &&
    isString(v.name) &&
    isString(v.description) &&
    isString(v.category) &&
    (v.icon === undefined || isString(v.icon)) &&
    isString(v.version) &&
    (v.labels === undefined || (Array.isArray(v.labels) && v.labels.every(isString))) &&
    (v.entitled === undefined || typeof v.entitled === 'boolean') &&
    isInstanceSummary(v.instance)
  );
}

/**
 * The catalog in `body`, keeping only the fields `Catalog` names (as zod's parse would), or
 * undefined when `body` does not have the catalog's shape.
 */
export function catalogOf(body: unknown): Catalog | undefined {
  if (!isObject(body) || !Array.isArray(body.integrations) || !body.integrations.every(isIntegrationSummary)) return undefined;
  return {
    integrations: (body.integrations as Json[]).map((i) => {
      const instance = i.instance as Json | null;
      return {
        key: i.key as string,
        name: i.name as string,
        description: i.description as string,
        category: i.category as string,
        ...(i.icon === undefined ? {} : { icon: i.icon as string }),
        version: i.version as string,
        ...(i.labels === undefined ? {} : { labels: [...(i.labels as string[])] }),
        ...(i.entitled === undefined ? {} : { entitled: i.entitled as boolean }),
        instance: instance && {
          id: instance.id as string,
          status: instance.status as InstanceStatus,
          updatedAt: instance.updatedAt as string,
          ...(instance.accountNames === undefined ? {} : { accountNames: [...(instance.accountNames as string[])] }),
        },
      };
    }),
  };
}
