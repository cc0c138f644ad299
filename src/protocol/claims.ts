import * as z from 'zod/mini';

export const Role = z.enum(['admin', 'member', 'vendor']);
export type Role = z.infer<typeof Role>;

/**
 * What a vendor token's holder may do across customers: `viewer` reads, `support` also acts for
 * customers (deploy, configure, pause, retry), `admin` also changes entitlements and erases
 * customers. A vendor token without `vendor_role` is an admin (tokens signed before roles existed).
 */
export const VendorRole = z.enum(['viewer', 'support', 'admin']);
export type VendorRole = z.infer<typeof VendorRole>;
export const DEFAULT_VENDOR_ROLE: VendorRole = 'admin';

/**
 * What a customer's plan includes: integration keys and integration labels. An integration is
 * entitled when its key or one of its labels is listed; absent means everything, [] nothing.
 */
export const Entitlements = z.array(z.string().check(z.minLength(1), z.maxLength(100))).check(z.maxLength(200));
export type Entitlements = z.infer<typeof Entitlements>;

/**
 * Claims of the vendor-signed JWT. `customer` is the tenant's external id, required for
 * every role but `vendor`, which must not carry one.
 */
export const TokenClaims = z.object({
  iss: z.string(),
  aud: z.union([z.string(), z.array(z.string())]),
  sub: z.string().check(z.minLength(1)),
  customer: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
  customer_name: z.optional(z.string().check(z.maxLength(200))),
  name: z.optional(z.string().check(z.maxLength(200))),
  role: Role,
  /** Vendor tokens only: see VendorRole. */
  vendor_role: z.optional(VendorRole),
  /** Customer tokens only: the plan's entitlements (the vendor API's stored value, when set, wins). */
  entitlements: z.optional(Entitlements),
  iat: z.number(),
  exp: z.number(),
  nbf: z.optional(z.number()),
});
export type TokenClaims = z.infer<typeof TokenClaims>;

/** Longest lifetime (exp - iat) accepted, in seconds. */
export const MAX_TOKEN_LIFETIME_S = 3600;
