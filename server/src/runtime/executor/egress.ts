// A flow's outbound HTTP: an undici Agent (the engine of Node's fetch) whose connect step applies
// the egress policy to the address the socket is about to use, after DNS, for every connection —
// so a name that resolves elsewhere on the next lookup (DNS rebinding) and every redirect hop,
// which connects anew through the same Agent, are checked too.
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
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

/** An undici Agent that refuses, before any packet is sent, the connections the policy refuses. */
export function egressAgent(policy: EgressPolicy, options: EgressAgentOptions = {}): Agent {
  const resolve: EgressLookup = options.lookup ?? ((hostname, lookupOptions, callback) => dnsLookup(hostname, lookupOptions, callback));
  // One connector per port (the policy's exceptions may name one), each keeping its TLS session cache.
  const connectors = new Map<number, buildConnector.connector>();
  const connectorFor = (port: number): buildConnector.connector => {
    let connector = connectors.get(port);
    if (!connector) {
      // net/tls call this lookup for a name (not for an address literal) and connect to what it returns.
      const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
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
      connector = buildConnector({ lookup } as buildConnector.BuildOptions);
      connectors.set(port, connector);
    }
    return connector;
  };
  return new Agent({
    connect(opts, callback) {
      const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
      // An address literal never reaches the lookup: decide on it here.
      if (isIP(opts.hostname)) {
        const reason = policy.decide({ host: opts.hostname, address: opts.hostname, port });
        if (reason) return callback(new EgressRefusedError(opts.hostname, reason, false), null);
      }
      return connectorFor(port)(opts, callback);
    },
  });
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
 * dispatcher and on the global `fetch`, and returns the fetch that `ctx.fetch` calls.
 * node:http, node:net and a flow's own HTTP agents are not covered (docs/security.md).
 */
export function guardExecutorEgress(allow: string | undefined): typeof fetch {
  const agent = egressAgent(egressPolicy(parseEgressAllow(allow)));
  setGlobalDispatcher(agent);
  const guarded = fetchThrough(agent, globalThis.fetch);
  globalThis.fetch = guarded;
  return guarded;
}
