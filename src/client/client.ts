import ky, { type KyInstance, type Options as KyOptions } from 'ky';
import type {
  AuditList,
  AuditListQuery,
  AuthorizeBody,
  AuthorizeResponse,
  Catalog,
  DataSourceOption,
  DataSourceQuery,
  ExecutionDetail,
  ExecutionList,
  ExecutionListQuery,
  Instance,
  InstanceList,
  IntegrationDetail,
  Problem,
  WebhookSecret,
} from '../protocol/index.js';
import { catalogOf } from '../protocol/catalog.js';
import { ApiError, NETWORK_ERROR_TYPE } from './api-error.js';
import type { ResponseShapes } from '../protocol/shapes.js';

export interface ClientOptions {
  /** Base URL of the API, e.g. `https://plugboard.example.com/api/v1`. */
  api: string;
  /** A fixed token. Enough for a page that lives shorter than the token. */
  token?: string;
  /**
   * Returns a fresh vendor-signed JWT. Called when there is no token, shortly before the
   * current one expires, and after a 401 (then the request is retried once).
   */
  getToken?: () => string | Promise<string>;
  /** Seconds before `exp` at which a new token is fetched. Default 30. */
  refreshLeeway?: number;
}

/** `status`: only executions with it; `cursor`: the previous page's `nextCursor`; `limit`: 1-100 (default 20). */
export interface ExecutionQuery extends ExecutionListQuery {
  signal?: AbortSignal;
}

/** `cursor`: the previous page's `nextCursor`; `limit`: 1-100 (default 20). */
export interface AuditQuery extends AuditListQuery {
  signal?: AbortSignal;
}

/**
 * The Plugboard API as the elements use it. Every response is checked against its protocol
 * schema's shape without zod (src/protocol/catalog.ts for the catalog, in the eager core;
 * src/protocol/shapes.ts for the rest, loaded beside the first request).
 */
export interface PlugClient {
  readonly api: string;
  /** `includeUnentitled`: also the integrations the customer's plan lacks, flagged `entitled: false`. */
  catalog(signal?: AbortSignal, options?: { includeUnentitled?: boolean }): Promise<Catalog>;
  integration(key: string, signal?: AbortSignal): Promise<IntegrationDetail>;
  instances(signal?: AbortSignal): Promise<InstanceList>;
  instance(id: string, signal?: AbortSignal): Promise<Instance>;
  /** `idempotencyKey`: the same key for a retried click returns the same instance. */
  createInstance(integrationKey: string, idempotencyKey?: string, signal?: AbortSignal): Promise<Instance>;
  /** A stale `version` answers 409 (`ProblemType.versionMismatch`). Absent secrets keep their stored value. */
  saveConfig(id: string, config: Record<string, unknown>, version: number, signal?: AbortSignal): Promise<Instance>;
  putCredentials(id: string, connection: string, values: Record<string, unknown>, signal?: AbortSignal): Promise<Instance>;
  deleteConnection(id: string, connection: string, signal?: AbortSignal): Promise<Instance>;
  authorize(id: string, connection: string, body?: AuthorizeBody, signal?: AbortSignal): Promise<AuthorizeResponse>;
  activate(id: string, signal?: AbortSignal): Promise<Instance>;
  pause(id: string, signal?: AbortSignal): Promise<Instance>;
  /** To the integration's current version (when the instance's `update.selfUpgrade` allows it). */
  upgrade(id: string, signal?: AbortSignal): Promise<Instance>;
  deleteInstance(id: string, signal?: AbortSignal): Promise<void>;
  /** Options of a picker. `config` carries unsaved values the data source may depend on. */
  /**
   * A picker's options. `config`: unsaved values of the fields the data source depends on, sent
   * with POST (admins only, audited); leave it empty to run with the saved config (any role).
   */
  dataSource(id: string, name: string, query: string, config?: Record<string, unknown>, signal?: AbortSignal): Promise<DataSourceOption[]>;
  executions(instanceId: string, query?: ExecutionQuery): Promise<ExecutionList>;
  execution(executionId: string, signal?: AbortSignal): Promise<ExecutionDetail>;
  /** Makes a new signing secret (`whsec_…`) for a signed webhook flow (replacing the old one); the only time it is shown. Admins only. */
  webhookSecret(instanceId: string, flow: string, signal?: AbortSignal): Promise<WebhookSecret>;
  /** The instance's change history, newest first. Admins only (members get 403). */
  audit(instanceId: string, query?: AuditQuery): Promise<AuditList>;
}

/** How a transport reads a response body: by the name of its schema, a verdict and the value. */
export interface ResponseParser<M> {
  parseResponse<N extends keyof M>(
    name: N,
    body: unknown,
  ): { success: true; data: M[N] } | { success: false; error?: unknown; errors?: { path: string; message: string }[] };
}

/** Loads a parser once; a failed load (offline) may be retried by the next request. */
export function parserLoader<M>(load: () => Promise<ResponseParser<M>>): () => Promise<ResponseParser<M>> {
  let loading: Promise<ResponseParser<M>> | undefined;
  return () =>
    (loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    }));
}

/**
 * The customer responses' shape checks (src/protocol/shapes.ts: no zod, the same verdicts as the
 * schemas), a small lazy chunk of the script-tag bundle loaded beside the first request. A
 * customer's page never loads zod: the server that answers has parsed everything it stores with
 * the schemas already (docs/benchmarks.md, "Fifth session, bundle").
 */
const loadShapes = parserLoader<ResponseShapes>(() => import('../protocol/shapes.js'));

/** When `token` expires (ms since the epoch), from its `exp` claim; Infinity when it has none or is not a JWT. */
function expiryOf(token: string): number {
  // Read only to know when to refresh, never trusted: the server verifies the token.
  try {
    const payload = token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, '=')), (c) => c.charCodeAt(0));
    const { exp } = JSON.parse(new TextDecoder().decode(bytes)) as { exp?: unknown };
    return typeof exp === 'number' ? exp * 1000 : Infinity;
  } catch {
    return Infinity;
  }
}

export interface Call {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  json?: unknown;
  searchParams?: Record<string, string>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

const seg = encodeURIComponent;

/** Keeps the current token and asks `getToken()` for a new one when it is about to expire. */
class TokenSource {
  #token: string | undefined;
  #expiresAt = Infinity;
  #pending: Promise<string> | undefined;

  constructor(
    token: string | undefined,
    private readonly getToken: ClientOptions['getToken'],
    private readonly leewayMs: number,
  ) {
    if (token) this.#set(token);
  }

  get canRefresh(): boolean {
    return this.getToken !== undefined;
  }

  async current(): Promise<string | undefined> {
    if (this.#token && Date.now() < this.#expiresAt - this.leewayMs) return this.#token;
    if (!this.getToken) return this.#token;
    return this.refresh();
  }

  /** One refresh at a time: parallel requests that all got 401 share it. */
  refresh(): Promise<string> {
    this.#pending ??= Promise.resolve()
      .then(() => this.getToken!())
      .then((token) => {
        this.#set(token);
        return token;
      })
      .finally(() => {
        this.#pending = undefined;
      });
    return this.#pending;
  }

  #set(token: string): void {
    this.#token = token;
    this.#expiresAt = expiryOf(token);
  }
}

async function problemOf(response: Response, load: () => Promise<ResponseParser<Pick<ResponseShapes, 'Problem'>>>): Promise<Problem> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  let parsed: { success: boolean; data?: Problem } = { success: false };
  try {
    parsed = (await load()).parseResponse('Problem', body);
  } catch {
    // The schemas could not load (offline): fall through to the status line.
  }
  if (parsed.success) return parsed.data!;
  return { type: 'about:blank', title: response.statusText || `HTTP ${response.status}`, status: response.status };
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

function notUnderstood(status: number, errors?: { path: string; message: string }[], cause?: unknown): ApiError {
  return new ApiError({ type: 'about:invalid-response', title: 'The server sent a response this client does not understand.', status, errors }, { cause });
}

/** How a client calls the API: one token source, requests that refresh it on 401, answers parsed by name (`M`: each name's type). */
export interface Transport<M extends Pick<ResponseShapes, 'Problem'> = ResponseShapes> {
  readonly api: string;
  /** Sends a call; on 401 with a `getToken`, refreshes the token and retries once. Throws ApiError unless OK. */
  request(call: Call): Promise<Response>;
  /** Loads the parser beside the request (not after it), then parses the body as response `name`. */
  parsed<N extends keyof M>(name: N, call: Call): Promise<M[N]>;
}

/**
 * The transport under `createClient`; other API surfaces (the vendor console's, with zod's
 * schemas as `load`) build on it.
 */
export function createTransport<M extends Pick<ResponseShapes, 'Problem'> = ResponseShapes>(
  options: ClientOptions,
  load: () => Promise<ResponseParser<M>> = loadShapes as unknown as () => Promise<ResponseParser<M>>,
): Transport<M> {
  const api = options.api.replace(/\/+$/, '');
  const tokens = new TokenSource(options.token, options.getToken, (options.refreshLeeway ?? 30) * 1000);
  const http: KyInstance = ky.create({
    prefixUrl: api,
    retry: 0,
    throwHttpErrors: false,
    timeout: 30_000,
    credentials: 'omit',
  });

  async function send(call: Call, token: string | undefined): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...call.headers };
    if (token) headers.authorization = `Bearer ${token}`;
    const init: KyOptions = { method: call.method, headers, signal: call.signal };
    if (call.json !== undefined) init.json = call.json;
    if (call.searchParams) init.searchParams = call.searchParams;
    try {
      return await http(call.path, init);
    } catch (error) {
      if (isAbort(error)) throw error;
      throw new ApiError({ type: NETWORK_ERROR_TYPE, title: 'The server could not be reached.', status: 0, detail: String(error) }, { cause: error });
    }
  }

  async function request(call: Call): Promise<Response> {
    let response = await send(call, await tokens.current());
    if (response.status === 401 && tokens.canRefresh) {
      response = await send(call, await tokens.refresh());
    }
    if (!response.ok) throw new ApiError(await problemOf(response, load));
    return response;
  }

  async function parsed<N extends keyof M>(name: N, call: Call): Promise<M[N]> {
    const schemas = load();
    schemas.catch(() => undefined); // awaited below, once the response is in
    const response = await request(call);
    const body: unknown = await response.json();
    let loaded: Awaited<typeof schemas>;
    try {
      loaded = await schemas;
    } catch (error) {
      throw new ApiError({ type: NETWORK_ERROR_TYPE, title: 'The server could not be reached.', status: 0, detail: String(error) }, { cause: error });
    }
    const result = loaded.parseResponse(name, body);
    if (!result.success) throw notUnderstood(response.status, result.errors, result.error);
    return result.data;
  }

  return { api, request, parsed };
}

/** Creates the API client. */
export function createClient(options: ClientOptions): PlugClient {
  const { api, request, parsed } = createTransport(options);

  /** For instance mutations: a 204 (or empty body) is answered by reading the instance again. */
  async function instanceAfter(id: string, call: Call): Promise<Instance> {
    const response = await request(call);
    const text = response.status === 204 ? '' : await response.text();
    if (!text) return client.instance(id, call.signal);
    const result = await loadShapes().then(
      (v) => v.parseResponse('Instance', JSON.parse(text)),
      () => undefined,
    );
    // Not an instance (or no schemas to tell): read it, which reports its own errors.
    return result?.success ? result.data : client.instance(id, call.signal);
  }

  const client: PlugClient = {
    api,
    catalog: async (signal, options) => {
      const searchParams = options?.includeUnentitled ? { include: 'unentitled' } : undefined;
      const response = await request({ method: 'get', path: 'integrations', signal, ...(searchParams ? { searchParams } : {}) });
      const catalog = catalogOf(await response.json());
      if (!catalog) throw notUnderstood(response.status);
      return catalog;
    },
    integration: (key, signal) => parsed('IntegrationDetail', { method: 'get', path: `integrations/${seg(key)}`, signal }),
    instances: (signal) => parsed('InstanceList', { method: 'get', path: 'instances', signal }),
    instance: (id, signal) => parsed('Instance', { method: 'get', path: `instances/${seg(id)}`, signal }),
    createInstance: (integrationKey, idempotencyKey, signal) =>
      parsed('Instance', {
        method: 'post',
        path: 'instances',
        json: { integrationKey },
        headers: idempotencyKey ? { 'idempotency-key': idempotencyKey } : {},
        signal,
      }),
    saveConfig: (id, config, version, signal) =>
      instanceAfter(id, {
        method: 'put',
        path: `instances/${seg(id)}/config`,
        json: { config, version },
        headers: { 'if-match': `"${version}"` },
        signal,
      }),
    putCredentials: (id, connection, values, signal) =>
      instanceAfter(id, {
        method: 'put',
        path: `instances/${seg(id)}/connections/${seg(connection)}`,
        json: { values },
        signal,
      }),
    deleteConnection: (id, connection, signal) => instanceAfter(id, { method: 'delete', path: `instances/${seg(id)}/connections/${seg(connection)}`, signal }),
    authorize: (id, connection, body = {}, signal) =>
      parsed('AuthorizeResponse', {
        method: 'post',
        path: `instances/${seg(id)}/connections/${seg(connection)}/authorize`,
        json: body,
        signal,
      }),
    activate: (id, signal) => instanceAfter(id, { method: 'post', path: `instances/${seg(id)}/activate`, signal }),
    pause: (id, signal) => instanceAfter(id, { method: 'post', path: `instances/${seg(id)}/pause`, signal }),
    upgrade: (id, signal) => instanceAfter(id, { method: 'post', path: `instances/${seg(id)}/upgrade`, json: {}, signal }),
    deleteInstance: async (id, signal) => {
      await request({ method: 'delete', path: `instances/${seg(id)}`, signal });
    },
    dataSource: async (id, name, query, config, signal) => {
      const path = `instances/${seg(id)}/data-sources/${seg(name)}`;
      // Unsaved values go in a POST body (audited, admins only); without them it is a plain read.
      const result =
        config && Object.keys(config).length > 0
          ? await parsed('DataSourceResult', { method: 'post', path, json: { q: query, config } satisfies DataSourceQuery, signal })
          : await parsed('DataSourceResult', { method: 'get', path, searchParams: { q: query }, signal });
      return result.options;
    },
    executions: (instanceId, query = {}) => {
      const searchParams: Record<string, string> = {};
      if (query.status) searchParams.status = query.status;
      if (query.cursor) searchParams.cursor = query.cursor;
      if (query.limit !== undefined) searchParams.limit = String(query.limit);
      return parsed('ExecutionList', {
        method: 'get',
        path: `instances/${seg(instanceId)}/executions`,
        searchParams,
        signal: query.signal,
      });
    },
    execution: (executionId, signal) => parsed('ExecutionDetail', { method: 'get', path: `executions/${seg(executionId)}`, signal }),
    webhookSecret: (instanceId, flow, signal) =>
      parsed('WebhookSecret', { method: 'post', path: `instances/${seg(instanceId)}/webhooks/${seg(flow)}/secret`, signal }),
    audit: (instanceId, query = {}) => {
      const searchParams: Record<string, string> = {};
      if (query.cursor) searchParams.cursor = query.cursor;
      if (query.limit !== undefined) searchParams.limit = String(query.limit);
      return parsed('AuditList', { method: 'get', path: `instances/${seg(instanceId)}/audit`, searchParams, signal: query.signal });
    },
  };
  return client;
}
