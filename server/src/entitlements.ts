// Who sees what: a customer's entitlements name integration keys and labels. The value the vendor
// API stored for the customer wins over the token's `entitlements` claim (staff grant a trial or
// take an integration away without waiting for the vendor's backend to sign new tokens); neither
// set means everything, as before entitlements existed.
import type { TokenClaims } from 'plugboard/protocol';
import type { Customer } from './store/types.js';

/** The customer's grants: undefined = everything. */
export type Grants = readonly string[] | undefined;

export function grantsOf(customer: Pick<Customer, 'entitlements'>, claims?: Pick<TokenClaims, 'entitlements'>): Grants {
  return customer.entitlements ?? claims?.entitlements;
}

export function isEntitled(integration: { key: string; labels: readonly string[] }, grants: Grants): boolean {
  if (grants === undefined) return true;
  return grants.includes(integration.key) || integration.labels.some((label) => grants.includes(label));
}
