// Data sources: the option lists of picker fields, computed by the vendor's code with the
// instance's inputs (instance-inputs.ts). A call is bounded by a timeout and the caller's signal,
// its failure is logged without the secrets it ran with, and what it returns is checked.
//
// A data source runs with the instance's decrypted connections, and its code may build a URL from
// config (a "base URL" field is common). So unsaved values are a privilege: only an admin may send
// them, only for the fields a picker of that data source depends on, each validated as a config
// save would, and every such call leaves an audit event naming the fields (never their values).
import * as z from 'zod';
import { DataSourceResult, FieldHint, type DataSourceOption, type FieldError } from 'plugboard/protocol';
import { DataSourceError, ForbiddenError, InvalidFieldsError, NotFoundError } from './errors.js';
import { fieldErrors } from './field-errors.js';
import type { InstanceInputs } from './instance-inputs.js';
import type { IntegrationIndex } from './integrations.js';
import type { Logger } from './logger.js';
import type { Integration } from './sdk/index.js';
import type { InstanceRecord, Store } from './store/types.js';
import { scrubbedMessage, stringsIn, timedOut, withTimeLimit } from './vendor-code.js';

export interface DataSourceCall {
  instance: InstanceRecord;
  name: string;
  query: string;
  /**
   * Values the form is still editing, over the stored config: only fields a picker of this data
   * source depends on (`dependsOn`), each valid; `null` leaves a field empty. Admins only.
   */
  overrides?: Record<string, unknown>;
  /** Who calls: the audit actor and the token's role (`admin`, `member`). */
  caller: { actor: string; actorName?: string; role: string };
  /** The request's signal: a caller that goes away stops waiting. */
  signal: AbortSignal;
  /** For the log line of a failure. */
  requestId?: string;
}

export interface DataSources {
  /**
   * The options the data source returns. Throws NotFoundError, ConflictError (integration no longer
   * offered), ForbiddenError (overrides from a non-admin), InvalidFieldsError (an override of a field
   * the data source does not depend on, or an invalid value), ConnectionUnavailableError,
   * DataSourceError (failed, timed out, malformed answer).
   */
  options(call: DataSourceCall): Promise<DataSourceOption[]>;
}

/** The config fields the pickers of data source `name` depend on: the only ones a call may override. */
export function dependsOnFields(integration: Integration, name: string): Set<string> {
  const shape = integration.configSchema.shape as Record<string, z.ZodType>;
  const fields = new Set<string>();
  for (const schema of Object.values(shape)) {
    const meta = z.globalRegistry.get(schema);
    if (meta?.[FieldHint.dataSource] !== name) continue;
    const dependsOn = meta[FieldHint.dependsOn];
    if (Array.isArray(dependsOn)) for (const d of dependsOn) if (typeof d === 'string' && Object.hasOwn(shape, d)) fields.add(d);
  }
  return fields;
}

/** The overrides as the data source will see them; InvalidFieldsError names each refused field. */
function checkedOverrides(integration: Integration, name: string, unsaved: Record<string, unknown>): { values: Record<string, unknown>; cleared: string[] } {
  const shape = integration.configSchema.shape as Record<string, z.ZodType>;
  const allowed = dependsOnFields(integration, name);
  const values: Record<string, unknown> = {};
  const cleared: string[] = [];
  const errors: FieldError[] = [];
  for (const [field, value] of Object.entries(unsaved)) {
    if (!allowed.has(field)) {
      const which = allowed.size ? `only ${[...allowed].join(', ')} may be sent unsaved` : 'it takes no unsaved values';
      errors.push({ path: `config.${field}`, message: `The data source "${name}" does not depend on "${field}": ${which}` });
      continue;
    }
    if (value === null) {
      cleared.push(field);
      continue;
    }
    const parsed = shape[field]!.safeParse(value);
    // Paths as a config save names them (`config.<field>`, cut at the field), so a form maps both alike.
    if (!parsed.success)
      errors.push(
        ...fieldErrors(
          parsed.error.issues.map((i) => ({ ...i, path: [field, ...i.path] })),
          'config',
          2,
        ),
      );
    else if (parsed.data === undefined) cleared.push(field);
    else values[field] = parsed.data;
  }
  if (errors.length) throw new InvalidFieldsError(errors);
  return { values, cleared };
}

export function createDataSources(options: {
  integrations: IntegrationIndex;
  inputs: InstanceInputs;
  store: Store;
  logger: Logger;
  timeoutMs: number;
}): DataSources {
  const { integrations, inputs, store, logger, timeoutMs } = options;
  return {
    async options({ instance, name, query, overrides: unsaved = {}, caller, signal: callerSignal, requestId }) {
      const integration = integrations.offered(instance);
      // Own keys only: a name like "constructor" must not reach Object.prototype.
      const source = Object.hasOwn(integration.dataSources, name) ? integration.dataSources[name] : undefined;
      if (typeof source !== 'function') throw new NotFoundError(`Data source "${name}"`);

      const overridden = Object.keys(unsaved).sort();
      if (overridden.length && caller.role !== 'admin') throw new ForbiddenError('Only an admin may call a data source with unsaved values');
      const overrides = checkedOverrides(integration, name, unsaved);
      if (overridden.length) {
        // Recorded before the call: the attempt is what sends the credentials.
        await store.vendor.recordAudit({
          customerId: instance.customerId,
          actor: caller.actor,
          actorName: caller.actorName ?? null,
          action: 'data_source.called_with_unsaved_values',
          target: `instance:${instance.id}`,
          details: { dataSource: name, fields: overridden },
        });
      }
      const resolved = await inputs.resolve(instance, integration);
      const config = { ...resolved.config, ...overrides.values };
      for (const field of overrides.cleared) delete config[field];
      const { connections } = resolved;

      let result: unknown;
      try {
        result = await withTimeLimit((signal) => source({ config, connections, query, signal, fetch: globalThis.fetch }), { timeoutMs, signal: callerSignal });
      } catch (err) {
        const late = timedOut(err);
        const known = [...Object.values(resolved.secrets), ...stringsIn(connections), ...stringsIn(overrides.values)];
        logger.warn(
          {
            requestId,
            instanceId: instance.id,
            dataSource: name,
            timedOut: late,
            errorName: (err as Error | undefined)?.name,
            errorMessage: scrubbedMessage(err, known),
          },
          'data source failed',
        );
        throw new DataSourceError(
          // Customer words: the data source's name is the integration's code (it is in the log above).
          late
            ? `A list from your connected account did not answer within ${Math.max(1, Math.round(timeoutMs / 1000))} s; try again`
            : 'A list from your connected account could not be loaded; check the connection and try again',
          late,
        );
      }
      const parsed = DataSourceResult.safeParse({ options: result });
      if (!parsed.success) {
        logger.warn({ instanceId: instance.id, dataSource: name }, 'data source returned malformed options');
        throw new DataSourceError('A list from your connected account came back in a form that cannot be used');
      }
      return parsed.data.options;
    },
  };
}
