// Tables of the OAuth subsystem, typed for `store.db.withTables<OAuthTables>()`.

/** One authorization attempt: single use, 10 minutes, bound to customer, instance and connection. */
export interface OAuthSessionsTable {
  /** The `state` sent to the provider: 32 random bytes, base64url. */
  state: string;
  customer_id: string;
  instance_id: string;
  connection: string;
  /** PKCE code verifier, encrypted (aad binds it to this state). */
  verifier: string;
  /** The caller's origin: the only target the callback page posts its result to. */
  origin: string;
  /** `popup` or `redirect` */
  mode: string;
  return_url: string | null;
  /** Who started it (`user:<sub>`), for the audit event written at the callback. */
  actor: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  /** The provider's authorization URL the start page sends the browser to. */
  provider_url: string | null;
  /** The connection's label, for the start page's "Connecting to …". */
  provider_label: string | null;
  /** SHA-256 (hex) of the start cookie's value: set once by the start page, required by the callback. */
  browser_hash: string | null;
  /** The connection's fields given at authorize (ConnectionParams), encrypted (aad binds it to this state). */
  params: string | null;
}

// A type alias, not an interface: Kysely's withTables wants an index-signature-compatible record.
export type OAuthTables = {
  oauth_sessions: OAuthSessionsTable;
};
