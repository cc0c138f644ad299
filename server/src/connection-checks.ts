// A connection's own checks, from the SDK: `test` (API keys) runs before credentials are stored
// and may refuse them with a message for one field; `identify` names the connected account after a
// save or a sign-in. Both are the vendor's code run in this process, like data sources, each under
// the same time limit; what they answer is checked, and their failures are logged without the
// credentials they ran with.
import * as z from 'zod';
import { FieldHint } from 'plugboard/protocol';
import { ConnectionTestError, InvalidFieldsError } from './errors.js';
import type { Logger } from './logger.js';
import type { ApiKeyConnection, ConnectionCredentials, ConnectionDefinition } from './sdk/index.js';
import { scrubbedMessage, stringsIn, timedOut, withTimeLimit } from './vendor-code.js';

/** Longest account name kept: a display name, not a document. */
const MAX_ACCOUNT_NAME = 200;

const TestAnswer = z.union([
  z.object({ ok: z.literal(true) }),
  z.object({ ok: z.literal(false), message: z.string().trim().min(1).max(500), field: z.string().optional() }),
]);

/** Which connection of which instance is checked, for the log lines. */
export interface CheckTarget {
  instanceId: string;
  connection: string;
  /** The request's signal: a customer who goes away stops the check. */
  signal?: AbortSignal;
  requestId?: string;
}

export interface ConnectionChecks {
  /**
   * Runs the connection's `test` (nothing when it has none). Throws InvalidFieldsError naming the
   * field (`values.<field>`) when the test refuses the credentials, ConnectionTestError when it
   * throws, answers something else or passes the time limit.
   */
  test(spec: ApiKeyConnection, values: Record<string, string>, target: CheckTarget): Promise<void>;
  /** The account's display name from the connection's `identify`; null when it has none, or it failed (logged). */
  identify(spec: ConnectionDefinition, credentials: ConnectionCredentials, target: CheckTarget): Promise<string | null>;
}

/** The field a refusal without a (known) field is shown on: the first secret, else the first field. */
function defaultField(spec: ApiKeyConnection): string {
  const names = Object.keys(spec.fields);
  const secret = names.find((name) => z.globalRegistry.get(spec.fields[name] as z.ZodType)?.[FieldHint.kind] === 'secret');
  return secret ?? names[0] ?? 'values';
}

export function createConnectionChecks(options: { logger: Logger; timeoutMs: number }): ConnectionChecks {
  const { logger, timeoutMs } = options;
  const seconds = Math.max(1, Math.round(timeoutMs / 1000));

  function logFailure(target: CheckTarget, check: 'test' | 'identify', error: unknown, credentials: unknown): void {
    logger.warn(
      {
        requestId: target.requestId,
        instanceId: target.instanceId,
        connection: target.connection,
        check,
        timedOut: timedOut(error),
        errorName: (error as Error | undefined)?.name,
        errorMessage: scrubbedMessage(error, stringsIn(credentials)),
      },
      `connection ${check} failed`,
    );
  }

  return {
    async test(spec, values, target) {
      if (!spec.test) return;
      const check = spec.test;
      const credentials = { kind: 'apiKey' as const, values };
      let answer: unknown;
      try {
        answer = await withTimeLimit((signal) => check({ credentials, signal, fetch: globalThis.fetch }), { timeoutMs, signal: target.signal });
      } catch (error) {
        logFailure(target, 'test', error, values);
        throw new ConnectionTestError(
          timedOut(error)
            ? `${spec.label} did not answer within ${seconds} s, so the credentials were not checked or saved. Try again.`
            : `${spec.label} could not check the credentials right now, so they were not saved. Try again later.`,
          timedOut(error),
        );
      }
      const parsed = TestAnswer.safeParse(answer);
      if (!parsed.success) {
        logger.warn(
          { requestId: target.requestId, instanceId: target.instanceId, connection: target.connection },
          'connection test answered neither ok nor a message',
        );
        throw new ConnectionTestError(`${spec.label} could not check the credentials right now, so they were not saved. Try again later.`);
      }
      if (parsed.data.ok) return;
      const named = parsed.data.field;
      const field = named !== undefined && Object.hasOwn(spec.fields, named) ? named : defaultField(spec);
      throw new InvalidFieldsError([{ path: `values.${field}`, message: parsed.data.message }], `${spec.label} refused these credentials; nothing was saved.`);
    },

    async identify(spec, credentials, target) {
      // Client credentials are the vendor's own account: nothing to name.
      if (spec.kind === 'clientCredentials' || !spec.identify) return null;
      // The spec's kind and the credentials' kind agree (the caller built them from it).
      const identify = spec.identify as (input: { credentials: ConnectionCredentials; signal: AbortSignal; fetch: typeof fetch }) => Promise<unknown>;
      let name: unknown;
      try {
        name = await withTimeLimit((signal) => identify({ credentials, signal, fetch: globalThis.fetch }), { timeoutMs, signal: target.signal });
      } catch (error) {
        logFailure(target, 'identify', error, credentials);
        return null;
      }
      if (name === null || name === undefined) return null;
      if (typeof name !== 'string') {
        logger.warn(
          { requestId: target.requestId, instanceId: target.instanceId, connection: target.connection },
          'connection identify answered something other than a name',
        );
        return null;
      }
      const trimmed = name.replace(/\s+/g, ' ').trim().slice(0, MAX_ACCOUNT_NAME);
      return trimmed || null;
    },
  };
}
