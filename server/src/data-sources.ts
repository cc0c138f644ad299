// Data sources: the option lists of picker fields, computed by the vendor's code with the
// instance's inputs (instance-inputs.ts). A call is bounded by a timeout and the caller's signal,
// its failure is logged without the secrets it ran with, and what it returns is checked.
import type * as z from 'zod';
import { DataSourceResult, type DataSourceOption } from 'plugboard/protocol';
import { ConflictError, DataSourceError, NotFoundError } from './errors.js';
import type { InstanceInputs } from './instance-inputs.js';
import type { IntegrationIndex } from './integrations.js';
import type { Logger } from './logger.js';
import type { InstanceRecord } from './store/types.js';

export interface DataSourceCall {
  instance: InstanceRecord;
  name: string;
  query: string;
  /** Values the form is still editing: the valid ones override the stored config, the rest are ignored. */
  unsaved: Record<string, unknown>;
  /** The request's signal: a caller that goes away stops waiting. */
  signal: AbortSignal;
  /** For the log line of a failure. */
  requestId?: string;
}

export interface DataSources {
  /**
   * The options the data source returns. Throws NotFoundError, ConflictError (integration no longer
   * offered), ConnectionUnavailableError, DataSourceError (failed, timed out, malformed answer).
   */
  options(call: DataSourceCall): Promise<DataSourceOption[]>;
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

export function createDataSources(options: { integrations: IntegrationIndex; inputs: InstanceInputs; logger: Logger; timeoutMs: number }): DataSources {
  const { integrations, inputs, logger, timeoutMs } = options;
  return {
    async options({ instance, name, query, unsaved, signal: callerSignal, requestId }) {
      const integration = integrations.get(instance.integrationKey);
      if (!integration) throw new ConflictError('This integration is no longer offered; the instance can only be read, paused or deleted');
      const source = integration.dataSources[name];
      if (!source) throw new NotFoundError(`Data source "${name}"`);

      const shape = integration.configSchema.shape as Record<string, z.ZodType>;
      const overrides: Record<string, unknown> = {};
      for (const [field, value] of Object.entries(unsaved)) {
        const parsed = shape[field]?.safeParse(value);
        if (parsed?.success && parsed.data !== undefined) overrides[field] = parsed.data;
      }
      const resolved = await inputs.resolve(instance, integration);
      const config = { ...resolved.config, ...overrides };
      const { connections } = resolved;

      // A plain timer (AbortSignal.timeout's is unref'd) so a hanging source still ends the request.
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(new DOMException('data source timed out', 'TimeoutError')), timeoutMs);
      const signal = AbortSignal.any([timeout.signal, callerSignal]);
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
        const known = [...Object.values(resolved.secrets), ...collectStrings(connections), ...collectStrings(overrides)];
        logger.warn(
          {
            requestId,
            instanceId: instance.id,
            dataSource: name,
            timedOut,
            errorName: (err as Error | undefined)?.name,
            errorMessage: scrub(String((err as Error | undefined)?.message ?? err), known),
          },
          'data source failed',
        );
        throw new DataSourceError(
          timedOut ? `The data source "${name}" did not answer within ${timeoutMs} ms` : `The data source "${name}" failed; check the connection and try again`,
          timedOut,
        );
      } finally {
        clearTimeout(timer);
      }
      const parsed = DataSourceResult.safeParse({ options: result });
      if (!parsed.success) {
        logger.warn({ instanceId: instance.id, dataSource: name }, 'data source returned malformed options');
        throw new DataSourceError(`The data source "${name}" returned malformed options`);
      }
      return parsed.data.options;
    },
  };
}
