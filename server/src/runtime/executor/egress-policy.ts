// Which addresses a flow may connect to. Decided on the address a name resolved to (never on the
// name alone), so DNS can't smuggle a flow into the host's loopback, the private network or the
// cloud's metadata service. PLUGBOARD_EGRESS_ALLOW names the exceptions.
import { BlockList, isIP } from 'node:net';

/** Why an address is refused; the order of RANGES decides which one an address is reported as. */
export type EgressRefusal = 'metadata' | 'unspecified' | 'loopback' | 'link-local' | 'private' | 'multicast' | 'reserved';

type Family = 'ipv4' | 'ipv6';

/** [reason, network, prefix]. IPv4 rules also match IPv4-mapped IPv6 (::ffff:a.b.c.d): BlockList does that. */
const RANGES: readonly (readonly [EgressRefusal, string, number])[] = [
  // Cloud metadata services: AWS/GCP/Azure/OpenStack, AWS ECS task metadata, Alibaba, Azure's wire server, AWS over IPv6.
  ['metadata', '169.254.169.254', 32],
  ['metadata', '169.254.170.2', 32],
  ['metadata', '100.100.100.200', 32],
  ['metadata', '168.63.129.16', 32],
  ['metadata', 'fd00:ec2::254', 128],
  // 0.0.0.0 connects to the local host on Linux.
  ['unspecified', '0.0.0.0', 8],
  ['unspecified', '::', 128],
  ['loopback', '127.0.0.0', 8],
  ['loopback', '::1', 128],
  ['link-local', '169.254.0.0', 16],
  ['link-local', 'fe80::', 10],
  ['private', '10.0.0.0', 8],
  ['private', '172.16.0.0', 12],
  ['private', '192.168.0.0', 16],
  // Carrier-grade NAT's shared space: private in practice (and where some clouds put internal services).
  ['private', '100.64.0.0', 10],
  ['private', 'fc00::', 7],
  // Deprecated site-local, and NAT64's local-use prefix.
  ['private', 'fec0::', 10],
  ['private', '64:ff9b:1::', 48],
  ['multicast', '224.0.0.0', 4],
  ['multicast', 'ff00::', 8],
  // Class E and broadcast; IETF protocol assignments; the deprecated IPv4-compatible IPv6 block.
  ['reserved', '240.0.0.0', 4],
  ['reserved', '192.0.0.0', 24],
  ['reserved', '::', 96],
];

const familyOf = (address: string): Family | undefined => ({ 4: 'ipv4' as const, 6: 'ipv6' as const })[isIP(address)];

/** One BlockList per reason, in RANGES order; IPv4 ranges are added in their NAT64 form (64:ff9b::a.b.c.d) too. */
const refusedRanges: readonly (readonly [EgressRefusal, BlockList])[] = (() => {
  const lists = new Map<EgressRefusal, BlockList>();
  for (const [reason, network, prefix] of RANGES) {
    const list = lists.get(reason) ?? new BlockList();
    lists.set(reason, list);
    if (familyOf(network) === 'ipv4') {
      list.addSubnet(network, prefix, 'ipv4');
      list.addSubnet(`64:ff9b::${network}`, 96 + prefix, 'ipv6');
    } else {
      list.addSubnet(network, prefix, 'ipv6');
    }
  }
  return [...lists];
})();

/** Why a flow may not connect to this resolved address, or undefined when it may. Not an IP address: 'reserved'. */
export function refusalOf(address: string): EgressRefusal | undefined {
  const family = familyOf(address);
  if (!family) return 'reserved';
  for (const [reason, list] of refusedRanges) if (list.check(address, family)) return reason;
  return undefined;
}

/** One entry of PLUGBOARD_EGRESS_ALLOW. */
type EgressException = { kind: 'addresses'; list: BlockList; port?: number } | { kind: 'host'; host: string; port?: number };

export interface EgressTarget {
  /** The host as the URL named it (a name, or an address literal without brackets). */
  host: string;
  /** The address the connection would go to: the host itself, or what it resolved to. */
  address: string;
  port: number;
}

export interface EgressPolicy {
  /** Why this connection is refused, or undefined when it may go ahead. */
  decide(target: EgressTarget): EgressRefusal | undefined;
}

export class EgressAllowError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

const normalizeHost = (host: string) => host.toLowerCase().replace(/\.$/, '');

function parseEntry(entry: string): EgressException | string {
  const bad = `PLUGBOARD_EGRESS_ALLOW: "${entry}" is not a host, host:port, address, [IPv6]:port or CIDR (like 10.0.0.0/8)`;
  if (entry.includes('/')) {
    const [network = '', bits = ''] = entry.split('/');
    const family = familyOf(network);
    const prefix = Number(bits);
    if (!family || !/^\d+$/.test(bits) || prefix > (family === 'ipv4' ? 32 : 128)) return bad;
    const list = new BlockList();
    list.addSubnet(network, prefix, family);
    return { kind: 'addresses', list };
  }
  const bare = familyOf(entry);
  if (bare) {
    const list = new BlockList();
    list.addAddress(entry, bare);
    return { kind: 'addresses', list };
  }
  let url: URL;
  try {
    url = new URL(`http://${entry}`);
  } catch {
    return bad;
  }
  if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) return bad;
  // The URL parser drops http's default port, so ":80" is read back from the entry itself.
  const port = url.port ? Number(url.port) : entry.endsWith(':80') ? 80 : undefined;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const family = familyOf(host);
  if (family) {
    const list = new BlockList();
    list.addAddress(host, family);
    return { kind: 'addresses', list, port };
  }
  return { kind: 'host', host: normalizeHost(host), port };
}

/** The exceptions in a PLUGBOARD_EGRESS_ALLOW value (comma-separated); throws EgressAllowError naming every bad entry. */
export function parseEgressAllow(value: string | undefined): string[] {
  const entries = (value ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const problems = entries.map(parseEntry).filter((e): e is string => typeof e === 'string');
  if (problems.length) throw new EgressAllowError(problems);
  return entries;
}

/** The policy with these exceptions (entries as parseEgressAllow accepts them). */
export function egressPolicy(allow: readonly string[] = []): EgressPolicy {
  const exceptions = allow.map((entry) => {
    const parsed = parseEntry(entry);
    if (typeof parsed === 'string') throw new EgressAllowError([parsed]);
    return parsed;
  });
  const excepted = ({ host, address, port }: EgressTarget): boolean =>
    exceptions.some((e) => {
      if (e.port !== undefined && e.port !== port) return false;
      if (e.kind === 'host') return e.host === normalizeHost(host);
      const family = familyOf(address);
      return family !== undefined && e.list.check(address, family);
    });
  return {
    decide(target) {
      const refusal = refusalOf(target.address);
      return refusal && !excepted(target) ? refusal : undefined;
    },
  };
}
