import * as z from 'zod/mini';

export const Role = z.enum(['admin', 'member', 'vendor']);
export type Role = z.infer<typeof Role>;

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
  iat: z.number(),
  exp: z.number(),
  nbf: z.optional(z.number()),
});
export type TokenClaims = z.infer<typeof TokenClaims>;

/** Longest lifetime (exp - iat) accepted, in seconds. */
export const MAX_TOKEN_LIFETIME_S = 3600;
