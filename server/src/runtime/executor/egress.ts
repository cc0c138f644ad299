// A flow's outbound HTTP: an undici Agent (the engine of Node's fetch) whose connect step applies
// the egress policy to the address the socket is about to use, after DNS, for every connection —
// so a name that resolves elsewhere on the next lookup (DNS rebinding) and every redirect hop,
// which connects anew through the same Agent, are checked too.
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { globalAgent as httpGlobalAgent, type Agent as HttpAgent } from 'node:http';
import { globalAgent as httpsGlobalAgent } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector, setGlobalDispatcher, type Dispatcher } from 'undici';
import { egressPolicy, parseEgressAllow, type EgressPolicy, type EgressRefusal } from './egress-policy.js';

const REASONS: Record<EgressRefusal, string> = {
  metadata: "a cloud metadata service's address",
  unspecified: 'an unspecified address (0.0.0.0 or ::)',
  loopback: 'a loopback address',
  'link-local': 'a link-local address',
  private: 'a private network address',
  multicast: 'a multicast address',
  reserved: 'a reserved address',
};

/** What a flow catches when the policy refuses a connection. Names the host and why, never the address. */
export class EgressRefusedError extends Error {
  override name = 'EgressRefusedError';
  readonly code = 'PLUGBOARD_EGRESS_REFUSED';
  constructor(
    readonly host: string,
    readonly reason: EgressRefusal,
    resolved: boolean,
  ) {
    super(
      `Refused to connect to ${host}: it ${resolved ? 'resolves to' : 'is'} ${REASONS[reason]}, which flows may not reach ` +
        '(the operator can allow it with PLUGBOARD_EGRESS_ALLOW)',
    );
  }
}

/** dns.lookup's shape with `all: true`; tests pass their own to make a name resolve where they need. */
export type EgressLookup = (
  hostname: string,
  options: LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

export interface EgressAgentOptions {
  lookup?: EgressLookup;
}

/** A lookup for net/tls that hands the socket only the answers the policy allows for this port. */
function policedLookup(policy: EgressPolicy, resolve: EgressLookup, port: number): LookupFunction {
  // net/tls call it for a name (never for an address literal) and connect to what it returns.
  return (hostname, lookupOptions, callback) => {
    resolve(hostname, { ...lookupOptions, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      // Only the allowed answers go on to the socket (localhost's ::1 beside an allowed 127.0.0.1, say).
      const reasons = addresses.map(({ address }) => policy.decide({ host: hostname, address, port }));
      const usable = addresses.filter((_, i) => reasons[i] === undefined);
      const [first] = usable;
      const refused = reasons.find((r) => r !== undefined);
      if (!first && refused) return callback(new EgressRefusedError(hostname, refused, true), '', 0);
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      if (lookupOptions.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, usable);
      callback(null, first.address, first.family);
    });
  };
}

/** An address literal never reaches the lookup: it is decided before the socket is made. */
function literalRefusal(policy: EgressPolicy, host: string, port: number): EgressRefusedError | undefined {
  if (!isIP(host)) return undefined;
  const reason = policy.decide({ host, address: host, port });
  return reason ? new EgressRefusedError(host, reason, false) : undefined;
}

const systemLookup: EgressLookup = (hostname, options, callback) => dnsLookup(hostname, options, callback);

/** An undici Agent that refuses, before any packet is sent, the connections the policy refuses. */
export function egressAgent(policy: EgressPolicy, options: EgressAgentOptions = {}): Agent {
  const resolve = options.lookup ?? systemLookup;
  // One connector per port (the policy's exceptions may name one), each keeping its TLS session cache.
  const connectors = new Map<number, buildConnector.connector>();
  return new Agent({
    connect(opts, callback) {
      const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
      const refused = literalRefusal(policy, opts.hostname, port);
      if (refused) return callback(refused, null);
      let connector = connectors.get(port);
      if (!connector) {
        connector = buildConnector({ lookup: policedLookup(policy, resolve, port) } as buildConnector.BuildOptions);
        connectors.set(port, connector);
      }
      return connector(opts, callback);
    },
  });
}

/**
 * Puts the policy on a node:http or node:https Agent (in place): its connections resolve through the
 * policy, and a refused one fails the request with EgressRefusedError before a socket exists.
 */
export function policeHttpAgent<A extends HttpAgent>(agent: A, policy: EgressPolicy, options: EgressAgentOptions & { defaultPort: number }): A {
  const resolve = options.lookup ?? systemLookup;
  const create = agent.createConnection.bind(agent) as HttpAgent['createConnection'];
  agent.createConnection = (connection, callback) => {
    const port = Number(connection.port) || options.defaultPort;
    const refused = literalRefusal(policy, connection.host ?? 'localhost', port);
    if (refused) {
      process.nextTick(() => callback?.(refused, undefined as never));
      return undefined;
    }
    // Replaces any lookup the caller passed: the policy's is the only one.
    return create({ ...connection, lookup: policedLookup(policy, resolve, port) }, callback);
  };
  return agent;
}

/** fetch's refusal is a TypeError("fetch failed") with the reason as its cause: hand the flow the reason. */
function refusalIn(err: unknown): EgressRefusedError | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (e instanceof EgressRefusedError) return e;
  }
  return undefined;
}

/** fetch through this dispatcher, whatever dispatcher the caller asked for; a refusal rejects with EgressRefusedError. */
export function fetchThrough(dispatcher: Dispatcher, fetchImpl: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    try {
      return await fetchImpl(input, { ...init, dispatcher } as RequestInit);
    } catch (err) {
      throw refusalIn(err) ?? err;
    }
  };
}

/**
 * In an executor process: puts the policy (PLUGBOARD_EGRESS_ALLOW's exceptions) on undici's global
 * dispatcher, the global `fetch` and node:http/https's default agents, and returns the fetch that
 * `ctx.fetch` calls. Raw sockets (node:net, tls, dgram), a flow's own http.Agent and child processes
 * are not covered (docs/security.md).
 */
export function guardExecutorEgress(allow: string | undefined): typeof fetch {
  const policy = egressPolicy(parseEgressAllow(allow));
  const agent = egressAgent(policy);
  setGlobalDispatcher(agent);
  policeHttpAgent(httpGlobalAgent, policy, { defaultPort: 80 });
  policeHttpAgent(httpsGlobalAgent, policy, { defaultPort: 443 });
  const guarded = fetchThrough(agent, globalThis.fetch);
  globalThis.fetch = guarded;
  return guarded;
}
