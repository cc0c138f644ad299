// The shapes of the responses (and the OAuth callback's message) a customer's page reads, checked
// without zod, so a customer's page never loads zod (8.6 KB gzip) to read our own server's answers.
// The contract stays the zod schemas in api.ts and problem.ts (the server parses with them); each
// check here gives the same verdict as its schema, held to it case by case by
// test/node/response-shapes.test.ts. Unlike zod's parse, unknown keys are kept, not dropped.
import type {
  AuditList,
  AuthorizeResponse,
  ConnectionKind,
  ConnectionStatus,
  DataSourceResult,
  ExecutionDetail,
  ExecutionList,
  ExecutionStatus,
  ExecutionTrigger,
  Instance,
  InstanceList,
  IntegrationDetail,
  LogLevel,
  OAuthCallbackMessage,
  WebhookSecret,
} from './api.js';
import type { Problem } from './problem.js';
import { INSTANCE_STATUSES, isIntegrationSummary } from './catalog.js';

/** The values of the enums checked here (the test checks that they are the schemas'). */
export const CONNECTION_KINDS: readonly ConnectionKind[] = ['apiKey', 'oauth2', 'clientCredentials'];
export const CONNECTION_STATUSES: readonly ConnectionStatus[] = ['missing', 'connected', 'expired', 'needs_attention'];
export const EXECUTION_STATUSES: readonly ExecutionStatus[] = ['queued', 'running', 'succeeded', 'failed', 'timed_out'];
export const EXECUTION_TRIGGERS: readonly ExecutionTrigger[] = ['webhook', 'schedule', 'invoke'];
export const LOG_LEVELS: readonly LogLevel[] = ['info', 'warn', 'error'];
export const ACTOR_TYPES = ['user', 'vendor', 'system'] as const;

type Check = (v: unknown) => boolean;
type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str: Check = (v) => typeof v === 'string';
const num: Check = (v) => typeof v === 'number';
const bool: Check = (v) => typeof v === 'boolean';
const opt =
  (check: Check): Check =>
  (v) =>
    v === undefined || check(v);
const orNull =
  (check: Check): Check =>
  (v) =>
    v === null || check(v);
const optNull = (check: Check): Check => opt(orNull(check));
const list =
  (check: Check): Check =>
  (v) =>
    Array.isArray(v) && v.every(check);
const oneOf =
  (values: readonly unknown[]): Check =>
  (v) =>
    values.includes(v);
/** An object whose named keys pass their checks (other keys are not looked at). */
const shape =
  (fields: Record<string, Check>): Check =>
  (v) =>
    isObject(v) && Object.keys(fields).every((k) => fields[k]!(v[k]));

const fieldError = shape({ path: str, message: str });
const words = { label: opt(str), description: opt(str) };
const trigger: Check = (v) =>
  isObject(v) &&
  (v.type === 'webhook'
    ? shape({ hmac: bool, customerFacing: opt(bool), ...words })(v)
    : v.type === 'schedule' && shape({ cron: str, timezone: str, intervalField: opt(str), ...words })(v));

const instance = shape({
  id: str,
  integrationKey: str,
  status: oneOf(INSTANCE_STATUSES),
  config: isObject,
  secretsSet: list(str),
  version: num,
  connections: list(
    shape({
      name: str,
      label: opt(str),
      kind: oneOf(CONNECTION_KINDS),
      status: oneOf(CONNECTION_STATUSES),
      error: optNull(str),
      accountName: optNull(str),
      expiresAt: optNull(str),
      updatedAt: optNull(str),
    }),
  ),
  blockers: list(fieldError),
  statusReason: optNull(str),
  webhooks: opt(list(shape({ flow: str, url: str, hmac: bool, ...words, customerFacing: opt(bool) }))),
  createdAt: str,
  updatedAt: str,
  activatedAt: optNull(str),
  integrationVersion: optNull(str),
  previousVersion: optNull(str),
  update: opt(shape({ version: str, changelog: list(shape({ version: str, notes: str })), selfUpgrade: bool })),
});

const executionSummary = {
  id: str,
  instanceId: str,
  flow: str,
  status: oneOf(EXECUTION_STATUSES),
  trigger: oneOf(EXECUTION_TRIGGERS),
  attempt: num,
  queuedAt: str,
  startedAt: orNull(str),
  endedAt: orNull(str),
  durationMs: orNull(num),
  error: orNull(str),
  resultSummary: orNull(str),
  rerunOf: opt(str),
};

const detailValue: Check = (v) => str(v) || num(v) || bool(v) || list(str)(v);

/** Each response's check, by the name of its schema in api.ts / problem.ts. */
export const responseShapes = {
  IntegrationDetail: (v: unknown) =>
    isIntegrationSummary(v) &&
    shape({
      overview: opt(str),
      connections: list(shape({ name: str, kind: oneOf(CONNECTION_KINDS), label: str, description: opt(str), schema: opt(isObject) })),
      configPages: list(shape({ title: str, description: opt(str), schema: isObject })),
      dataSources: list(str),
      flows: list(shape({ name: str, ...words, trigger })),
    })(v),
  Instance: instance,
  InstanceList: shape({ instances: list(instance) }),
  AuthorizeResponse: shape({ authorizationUrl: str, state: str, expiresAt: str, callbackOrigin: opt(str) }),
  DataSourceResult: shape({ options: list(shape({ value: str, label: str })) }),
  ExecutionList: shape({ executions: list(shape(executionSummary)), nextCursor: orNull(str) }),
  ExecutionDetail: shape({
    ...executionSummary,
    logs: list(shape({ seq: num, at: str, level: oneOf(LOG_LEVELS), message: str })),
    logsTruncated: bool,
  }),
  WebhookSecret: shape({ flow: str, secret: str }),
  AuditList: shape({
    events: list(
      shape({
        id: str,
        at: str,
        actor: shape({ type: oneOf(ACTOR_TYPES), id: opt(str), name: opt(str) }),
        action: str,
        target: str,
        details: (v) => isObject(v) && Object.values(v).every(detailValue),
      }),
    ),
    nextCursor: orNull(str),
  }),
  Problem: shape({ type: str, title: str, status: num, detail: opt(str), instance: opt(str), errors: opt(list(fieldError)) }),
};

/** The type each check admits. */
export interface ResponseShapes {
  IntegrationDetail: IntegrationDetail;
  Instance: Instance;
  InstanceList: InstanceList;
  AuthorizeResponse: AuthorizeResponse;
  DataSourceResult: DataSourceResult;
  ExecutionList: ExecutionList;
  ExecutionDetail: ExecutionDetail;
  WebhookSecret: WebhookSecret;
  AuditList: AuditList;
  Problem: Problem;
}

/** `body` as the response `name`, when it has that response's shape. */
export function parseResponse<N extends keyof ResponseShapes>(name: N, body: unknown): { success: true; data: ResponseShapes[N] } | { success: false } {
  return responseShapes[name](body) ? { success: true, data: body as ResponseShapes[N] } : { success: false };
}

/** The OAuth callback page's message to its opener, or undefined when `data` is not one. */
export function oauthCallbackMessageOf(data: unknown): OAuthCallbackMessage | undefined {
  const ok = shape({ type: oneOf(['plugboard:oauth']), state: str, instanceId: str, connection: str, ok: bool, error: opt(str) })(data);
  return ok ? (data as OAuthCallbackMessage) : undefined;
}
