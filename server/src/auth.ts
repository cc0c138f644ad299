// Verifies the vendor-signed JWT (jose) and resolves who is calling: a customer's user
// (admin/member) or the vendor. Middleware factories export the Variables they set.
import { createPublicKey } from 'node:crypto';
import type { Context, MiddlewareHandler, Next } from 'hono';
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from 'jose';
import { MAX_TOKEN_LIFETIME_S, TokenClaims } from 'plugboard/protocol';
import { HttpProblem } from './problem.js';
import type { Customer, CustomerStore, Store } from './store/types.js';

/** The only signature algorithms accepted: asymmetric, so the server never holds a signing secret. */
export const ALLOWED_ALGORITHMS = ['ES256', 'RS256', 'EdDSA'] as const;
export const CLOCK_TOLERANCE_S = 30;

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  /** JWKS JSON text or PEM public key(s). Exactly one of `keys` / `jwksUrl`. */
  keys?: string;
  jwksUrl?: string;
  /** How soon an unknown `kid` may trigger a JWKS refetch (jose default 30 s). */
  jwksCooldownMs?: number;
  /** How long a fetched JWKS is trusted before refetching (default 10 min). */
  jwksCacheMaxAgeMs?: number;
  /**
   * How long a verified token is trusted again without a new signature check (default 60 s,
   * never past its exp; 0 turns it off). A key withdrawn from the JWKS stops working after this.
   */
  verifiedCacheMs?: number;
}

export interface TokenVerifier {
  /**
   * Resolves the checked claims, or throws an HttpProblem (401, or 503 when the JWKS can't be fetched).
   * `authorization`: the whole header the token came in, remembered in its place (see `known`).
   */
  verify(token: string, authorization?: string): Promise<TokenClaims>;
  /**
   * The claims of a token `verify` accepted a short while ago (its cache), without a promise, looked
   * up by the token, or by the whole Authorization header when `verify` was given one (the same
   * header is the same token: no need to take it apart again); undefined: call `verify`.
   */
  known?(tokenOrAuthorization: string): TokenClaims | undefined;
}

/** A key configuration that can't work; thrown at start-up, not per request. */
export class KeyConfigError extends Error {}

const PEM_BLOCK = /-----BEGIN (?:PUBLIC KEY|CERTIFICATE|RSA PUBLIC KEY)-----[\s\S]+?-----END (?:PUBLIC KEY|CERTIFICATE|RSA PUBLIC KEY)-----/g;

function algFor(jwk: JWK): (typeof ALLOWED_ALGORITHMS)[number] {
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  throw new KeyConfigError(`PLUGBOARD_JWT_KEYS: unsupported key (kty ${jwk.kty}${jwk.crv ? `, crv ${jwk.crv}` : ''}); use P-256, RSA or Ed25519`);
}

/** Parses JWKS JSON or PEM text into a public JWK set, refusing symmetric or private keys. */
export function parseVerificationKeys(text: string): { jwks: JSONWebKeySet; fromPem: boolean } {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new KeyConfigError('PLUGBOARD_JWT_KEYS: not valid JSON');
    }
    const keys = (parsed as { keys?: unknown }).keys;
    if (!Array.isArray(keys) || keys.length === 0) throw new KeyConfigError('PLUGBOARD_JWT_KEYS: a JWKS needs a non-empty "keys" array');
    for (const jwk of keys as JWK[]) {
      if (jwk.kty === 'oct') throw new KeyConfigError('PLUGBOARD_JWT_KEYS: symmetric (oct) keys are not accepted; HS* tokens are refused');
      if ('d' in jwk) throw new KeyConfigError('PLUGBOARD_JWT_KEYS: contains a private key; give only the public key');
      algFor(jwk);
    }
    return { jwks: { keys: keys as JWK[] }, fromPem: false };
  }
  const blocks = trimmed.match(PEM_BLOCK);
  if (!blocks) throw new KeyConfigError('PLUGBOARD_JWT_KEYS: neither JWKS JSON nor a PEM public key');
  const keys = blocks.map((pem) => {
    let jwk: JWK;
    try {
      jwk = createPublicKey(pem).export({ format: 'jwk' }) as JWK;
    } catch {
      throw new KeyConfigError('PLUGBOARD_JWT_KEYS: a PEM block could not be read as a public key');
    }
    return { ...jwk, alg: algFor(jwk), use: 'sig' };
  });
  return { jwks: { keys }, fromPem: true };
}

function localKeys(text: string): JWTVerifyGetKey {
  const { jwks, fromPem } = parseVerificationKeys(text);
  const set = createLocalJWKSet(jwks);
  // PEM keys (and JWKS without any kid) have no ids to match: ignore the token's kid then.
  const matchKid = !fromPem && jwks.keys.some((k) => k.kid !== undefined);
  return matchKid ? set : (header) => set({ ...header, kid: undefined });
}

function unauthorized(description: string): HttpProblem {
  const safe = description.replace(/["\\]/g, '');
  return new HttpProblem(401, 'unauthorized', description, {
    headers: { 'www-authenticate': `Bearer realm="plugboard", error="invalid_token", error_description="${safe}"` },
  });
}

function describeJoseError(err: unknown): HttpProblem {
  if (err instanceof joseErrors.JWTExpired) return unauthorized('The token has expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return unauthorized('The token is not valid yet (nbf)');
    if (err.claim === 'iat') return unauthorized('The token was issued in the future (iat)');
    return unauthorized(`The token's "${err.claim}" claim is not accepted`);
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed || err instanceof joseErrors.JOSENotSupported) {
    return unauthorized(`The token's algorithm is not accepted (use ${ALLOWED_ALGORITHMS.join(', ')})`);
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys) {
    return unauthorized('No verification key matches the token (kid/alg)');
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return unauthorized('The token signature is invalid');
  if (err instanceof joseErrors.JWKSTimeout || (err instanceof joseErrors.JOSEError && err.code === 'ERR_JOSE_GENERIC')) {
    return new HttpProblem(503, 'upstream', "The vendor's signing keys could not be fetched; try again shortly");
  }
  if (err instanceof joseErrors.JWKSInvalid) return new HttpProblem(503, 'upstream', "The vendor's JWKS is not a valid key set");
  if (err instanceof joseErrors.JOSEError) return unauthorized('The token is malformed');
  if (err instanceof TypeError) return new HttpProblem(503, 'upstream', "The vendor's signing keys could not be fetched; try again shortly");
  return unauthorized('The token could not be verified');
}

const VERIFIED_MAX = 10_000;

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  if (Boolean(options.keys) === Boolean(options.jwksUrl)) throw new KeyConfigError('give exactly one of keys / jwksUrl');
  const getKey: JWTVerifyGetKey = options.keys
    ? localKeys(options.keys)
    : createRemoteJWKSet(new URL(options.jwksUrl!), {
        cooldownDuration: options.jwksCooldownMs ?? 30_000,
        cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
        timeoutDuration: 5_000,
      });

  // A token verified once is trusted again for a short while without another signature check:
  // the embed sends the same token on every request. An entry never outlives the token's exp,
  // and lives at most `verifiedCacheMs` so a key withdrawn from the JWKS stops working soon.
  const verified = new Map<string, { claims: TokenClaims; until: number }>();
  const cacheMs = options.verifiedCacheMs ?? 60_000;

  function known(key: string): TokenClaims | undefined {
    const hit = verified.get(key);
    if (hit === undefined) return undefined;
    if (hit.until > Date.now()) return hit.claims;
    verified.delete(key);
    return undefined;
  }

  return {
    known,
    async verify(token, authorization) {
      const key = authorization ?? token;
      const hit = known(key);
      if (hit) return hit;
      const claims = await verifyAndCheck(token);
      if (cacheMs <= 0) return claims;
      if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value!); // oldest first
      verified.set(key, { claims, until: Math.min(Date.now() + cacheMs, claims.exp * 1000) });
      return claims;
    },
  };

  async function verifyAndCheck(token: string): Promise<TokenClaims> {
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, getKey, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: [...ALLOWED_ALGORITHMS],
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['exp', 'iat', 'sub'],
      }));
    } catch (err) {
      throw describeJoseError(err);
    }
    const parsed = TokenClaims.safeParse(payload);
    if (!parsed.success) {
      const claim = parsed.error.issues[0]?.path.join('.') || 'claims';
      throw unauthorized(`The token's "${claim}" claim is missing or invalid`);
    }
    const claims = parsed.data;
    if (claims.exp - claims.iat > MAX_TOKEN_LIFETIME_S) {
      throw unauthorized(`The token lives longer than ${MAX_TOKEN_LIFETIME_S} s (exp - iat)`);
    }
    if (claims.role === 'vendor' && claims.customer !== undefined) {
      throw unauthorized('A vendor token must not carry a "customer" claim');
    }
    if (claims.role !== 'vendor' && claims.vendor_role !== undefined) {
      throw unauthorized('Only a vendor token may carry a "vendor_role" claim');
    }
    if (claims.role !== 'vendor' && claims.customer === undefined) {
      throw unauthorized('The token has no "customer" claim');
    }
    return claims;
  }
}

export interface AuthVariables {
  claims: TokenClaims;
  /** Audit actor: `user:<sub>` or `vendor:<sub>`. */
  actor: string;
}
export interface CustomerVariables extends AuthVariables {
  customer: Customer;
  /** The store seen by this customer only. */
  tenant: CustomerStore;
}
export type VendorVariables = AuthVariables;

function bearer(header: string | undefined): string {
  if (!header) {
    throw new HttpProblem(401, 'unauthorized', 'Send the vendor-signed token as "Authorization: Bearer <token>"', {
      headers: { 'www-authenticate': 'Bearer realm="plugboard"' },
    });
  }
  const match = /^Bearer[ ]+([A-Za-z0-9_.~+/=-]+)\s*$/i.exec(header);
  if (!match) throw unauthorized('The Authorization header is not a Bearer token');
  return match[1]!;
}

/** The request's claims: remembered by the verifier for this very header, else taken from it (bearer) and verified. */
function claimsOf(verifier: TokenVerifier, authorization: string | undefined): Promise<TokenClaims> {
  const known = authorization === undefined ? undefined : verifier.known?.(authorization);
  return known ? Promise.resolve(known) : verifier.verify(bearer(authorization), authorization);
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Customer routes: admin and member tokens; members may only read. Creates the customer on first sight. */
export function customerAuth<E extends { Variables: CustomerVariables } = { Variables: CustomerVariables }>(options: {
  verifier: TokenVerifier;
  store: Store;
}): MiddlewareHandler<E> {
  const { verifier, store } = options;
  // Not async when the token and its customer are in memory (every request but a customer's first
  // in a while): next()'s promise as it is, no wrapper and no await of what is already here.
  return (c, next) => {
    const authorization = c.req.header('authorization');
    const claims = authorization === undefined ? undefined : verifier.known?.(authorization);
    const customer = claims?.customer === undefined || claims.role === 'vendor' ? undefined : store.knownCustomer?.(claims.customer, claims.customer_name);
    if (!customer) return verifyThenNext(c, next, authorization);
    admit(c, claims!, customer);
    return next();
  };

  async function verifyThenNext(c: Context<E>, next: Next, authorization: string | undefined): Promise<void> {
    const claims = await claimsOf(verifier, authorization);
    checkRole(claims, c.req.method);
    admit(c, claims, await store.ensureCustomer(claims.customer!, claims.customer_name));
    await next();
  }

  function admit(c: Context<E>, claims: TokenClaims, customer: Customer): void {
    checkRole(claims, c.req.method);
    c.set('claims', claims);
    c.set('actor', `user:${claims.sub}`);
    c.set('customer', customer);
    c.set('tenant', store.forCustomer(customer));
  }
}

function checkRole(claims: TokenClaims, method: string): void {
  if (claims.role === 'vendor') {
    throw new HttpProblem(403, 'forbidden', 'Vendor tokens may only call /api/v1/vendor/*');
  }
  if (claims.role === 'member' && !READ_METHODS.has(method)) {
    throw new HttpProblem(403, 'forbidden', 'Members may only read; an admin must make this change');
  }
}

/** Vendor routes: only `role: "vendor"` tokens (no customer). */
export function vendorAuth<E extends { Variables: VendorVariables } = { Variables: VendorVariables }>(options: {
  verifier: TokenVerifier;
}): MiddlewareHandler<E> {
  return async (c, next) => {
    const claims = await claimsOf(options.verifier, c.req.header('authorization'));
    if (claims.role !== 'vendor') throw new HttpProblem(403, 'forbidden', 'Only vendor tokens may call the vendor API');
    c.set('claims', claims);
    c.set('actor', `vendor:${claims.sub}`);
    await next();
  };
}
