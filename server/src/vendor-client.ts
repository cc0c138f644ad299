// The typed client of the vendor API for the vendor's backend (Node 20+, or anything with fetch):
// `createVendorClient({ baseUrl, token })`. Answers are parsed with the protocol's schemas; a
// problem+json answer throws VendorApiError carrying the problem (its `executionId` for invoke).
import {
  CustomerErasure,
  CustomerList,
  InvokeResult,
  Problem,
  VendorInstance,
  VendorInstanceList,
  type InstanceStatus,
  type InvokeBody,
} from 'plugboard/protocol';

/** A vendor token, or a function that returns a fresh one (called for every request: cache it there). */
export type VendorToken = string | (() => string | Promise<string>);

export interface VendorClientOptions {
  /** The Plugboard server, e.g. `https://plugboard.internal.example` (its PUBLIC_URL). */
  baseUrl: string;
  /** A JWT with `role: "vendor"` (see docs/vendor.md for `vendor_role`). */
  token: VendorToken;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
}

/** An error answer of the vendor API: `status` and the RFC 9457 problem (with its extra members). */
export class VendorApiError extends Error {
  override name = 'VendorApiError';
  constructor(
    readonly status: number,
    readonly problem: Problem & Record<string, unknown>,
  ) {
    super(problem.detail ?? problem.title);
  }
}

interface Schema<T> {
  parse(value: unknown): T;
}

export interface VendorClient {
  /** A page of customers (`q`: a part of an id or the name); pass `nextCursor` as `cursor` for the next. */
  listCustomers(query?: { q?: string; cursor?: string; limit?: number }): Promise<CustomerList>;
  /** Erases a customer and everything of it (`id`: Plugboard's id, from listCustomers). Needs vendor_role admin. */
  eraseCustomer(id: string): Promise<CustomerErasure>;
  /** `customer`: the vendor's own id of the customer, or Plugboard's. */
  listInstances(filter?: { customer?: string; status?: InstanceStatus }): Promise<VendorInstanceList>;
  getInstance(id: string): Promise<VendorInstance>;
  pauseInstance(id: string, options?: { reason?: string }): Promise<VendorInstance>;
  /**
   * Runs a flow now and resolves with its result. A failed flow rejects with VendorApiError 422
   * (`problem.error`, `problem.executionId`), a time limit with 504.
   */
  invoke(instanceId: string, flow: string, body?: InvokeBody): Promise<InvokeResult>;
  /**
   * Calls the connection's provider with the customer's credential: `path` below the connection's
   * base URL (with its query string). Resolves with the provider's answer as it is, whatever its
   * status; Plugboard's own refusals (403 egress, 404, 409, 502, 504) come as problem+json.
   */
  proxy(instanceId: string, connection: string, path: string, init?: Omit<RequestInit, 'signal'> & { signal?: AbortSignal }): Promise<Response>;
}

export function createVendorClient(options: VendorClientOptions): VendorClient {
  const base = `${options.baseUrl.replace(/\/+$/, '')}/api/v1/vendor`;
  const doFetch = options.fetch ?? fetch;
  const token = async () => (typeof options.token === 'string' ? options.token : options.token());
  const segment = encodeURIComponent;

  async function send(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${await token()}`);
    return doFetch(`${base}${path}`, { ...init, headers });
  }

  async function call<T>(schema: Schema<T>, path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
    const { json, ...rest } = init;
    const res = await send(path, {
      ...rest,
      ...(json !== undefined ? { body: JSON.stringify(json), headers: { 'content-type': 'application/json', accept: 'application/json' } } : {}),
    });
    const text = await res.text();
    if (!res.ok) {
      let problem: Problem & Record<string, unknown>;
      try {
        problem = Problem.parse(JSON.parse(text)) as Problem & Record<string, unknown>;
      } catch {
        problem = { type: 'about:blank', title: `HTTP ${res.status}`, status: res.status, detail: text.slice(0, 200) };
      }
      throw new VendorApiError(res.status, problem);
    }
    return schema.parse(JSON.parse(text));
  }

  return {
    listCustomers(query = {}) {
      const params = new URLSearchParams();
      if (query.q !== undefined) params.set('q', query.q);
      if (query.cursor !== undefined) params.set('cursor', query.cursor);
      if (query.limit !== undefined) params.set('limit', String(query.limit));
      return call(CustomerList, `/customers${params.size ? `?${params}` : ''}`);
    },
    eraseCustomer: (id) => call(CustomerErasure, `/customers/${segment(id)}`, { method: 'DELETE' }),
    listInstances(filter = {}) {
      const query = new URLSearchParams();
      if (filter.customer !== undefined) query.set('customer', filter.customer);
      if (filter.status !== undefined) query.set('status', filter.status);
      const qs = query.size ? `?${query}` : '';
      return call(VendorInstanceList, `/instances${qs}`);
    },
    getInstance: (id) => call(VendorInstance, `/instances/${segment(id)}`),
    pauseInstance: (id, { reason } = {}) =>
      call(VendorInstance, `/instances/${segment(id)}/pause${reason ? `?${new URLSearchParams({ reason })}` : ''}`, { method: 'POST' }),
    invoke: (instanceId, flow, body = {}) =>
      call(InvokeResult, `/instances/${segment(instanceId)}/flows/${segment(flow)}/invoke`, { method: 'POST', json: body }),
    proxy(instanceId, connection, path, init = {}) {
      const below = path.startsWith('/') ? path : `/${path}`;
      return send(`/instances/${segment(instanceId)}/connections/${segment(connection)}/proxy${below}`, init);
    },
  };
}
