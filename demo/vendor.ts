// The demo vendor ("Acme CRM"): its signing key and the two demo customers it signs tokens for.
// A real vendor does the same in its own backend, for the user who is logged in.
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWK } from 'jose';

export const DEMO_ISSUER = 'https://acme-crm.example/demo';
export const TOKEN_LIFETIME_S = 10 * 60;

export interface DemoUser {
  sub: string;
  name: string;
  role: 'admin' | 'member';
}

export interface DemoCustomer {
  id: string;
  name: string;
  admin: DemoUser;
  member: DemoUser;
}

export const DEMO_CUSTOMERS: readonly DemoCustomer[] = [
  {
    id: 'globex',
    name: 'Globex Corporation',
    admin: { sub: 'user-hank', name: 'Hank Scorpio', role: 'admin' },
    member: { sub: 'user-frank', name: 'Frank Grimes', role: 'member' },
  },
  {
    id: 'initech',
    name: 'Initech',
    admin: { sub: 'user-bill', name: 'Bill Lumbergh', role: 'admin' },
    member: { sub: 'user-milton', name: 'Milton Waddams', role: 'member' },
  },
];

export interface DemoToken {
  token: string;
  expiresAt: string;
  customer: { id: string; name: string };
  user: DemoUser;
}

export interface DemoVendor {
  /** The public key set to give Plugboard as PLUGBOARD_JWT_KEYS. */
  jwks: { keys: JWK[] };
  issuer: string;
  /** Signs a short-lived token for a demo customer's admin or member; undefined for an unknown customer. */
  signToken(customerId: string, role?: 'admin' | 'member'): Promise<DemoToken | undefined>;
  /** A vendor-role token (no customer), for the vendor API and the console; `vendorRole` absent: admin. */
  signVendorToken(staff?: { vendorRole?: 'viewer' | 'support' | 'admin'; name?: string; sub?: string }): Promise<string>;
  /** The customer id of a valid customer token this vendor signed, else undefined. */
  customerOf(token: string): Promise<string | undefined>;
}

/** Makes a fresh ES256 key pair: demo only, the key lives as long as the process. */
export async function createDemoVendor(): Promise<DemoVendor> {
  const kid = `demo-${randomUUID().slice(0, 8)}`;
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const sign = (claims: Record<string, unknown>, sub: string, key: CryptoKey) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
      .setIssuer(DEMO_ISSUER)
      .setAudience('plugboard')
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime(`${TOKEN_LIFETIME_S}s`)
      .sign(key);

  return {
    jwks: { keys: [jwk] },
    issuer: DEMO_ISSUER,
    async signToken(customerId, role = 'admin') {
      const customer = DEMO_CUSTOMERS.find((c) => c.id === customerId);
      if (!customer) return undefined;
      const user = role === 'member' ? customer.member : customer.admin;
      const token = await sign({ customer: customer.id, customer_name: customer.name, name: user.name, role: user.role }, user.sub, privateKey);
      return {
        token,
        expiresAt: new Date(Date.now() + TOKEN_LIFETIME_S * 1000).toISOString(),
        customer: { id: customer.id, name: customer.name },
        user,
      };
    },
    signVendorToken: ({ vendorRole, name = 'Acme support', sub = 'acme-support' } = {}) =>
      sign({ role: 'vendor', name, ...(vendorRole ? { vendor_role: vendorRole } : {}) }, sub, privateKey),
    async customerOf(token) {
      try {
        const { payload } = await jwtVerify(token, publicKey, { issuer: DEMO_ISSUER, audience: 'plugboard', algorithms: ['ES256'] });
        return typeof payload.customer === 'string' ? payload.customer : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
