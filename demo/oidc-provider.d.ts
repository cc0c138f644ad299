// The part of oidc-provider 9's API the demo authorization server uses (the package ships no
// types, and @types/oidc-provider is not installed).
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface ClientMetadata {
    client_id: string;
    client_secret?: string;
    redirect_uris?: string[];
    grant_types?: string[];
    response_types?: string[];
    token_endpoint_auth_method?: string;
    scope?: string;
    [key: string]: unknown;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): Promise<Record<string, unknown>> | Record<string, unknown>;
  }

  export interface KoaContextWithOIDC {
    oidc: {
      params?: Record<string, unknown>;
      client?: { clientId: string };
      route?: string;
    };
  }

  export interface Configuration {
    clients?: ClientMetadata[];
    jwks?: { keys: Record<string, unknown>[] };
    cookies?: { keys: string[] };
    scopes?: string[];
    claims?: Record<string, string[] | null>;
    features?: Record<string, { enabled: boolean; [key: string]: unknown }>;
    ttl?: Record<string, number | ((...args: unknown[]) => number)>;
    interactions?: { url(ctx: unknown, interaction: { uid: string }): string };
    findAccount?(ctx: unknown, id: string): Promise<Account | undefined> | Account | undefined;
    issueRefreshToken?(ctx: unknown, client: { grantTypeAllowed(type: string): boolean }, source: unknown): boolean | Promise<boolean>;
    rotateRefreshToken?: boolean | ((ctx: unknown) => boolean);
    pkce?: { required?(ctx: unknown, client: unknown): boolean };
    renderError?(ctx: { type: string; body: string }, out: Record<string, string>, error: Error): void | Promise<void>;
    clientBasedCORS?(ctx: unknown, origin: string, client: unknown): boolean;
    [key: string]: unknown;
  }

  export interface Interaction {
    uid: string;
    prompt: { name: string; details: Record<string, unknown> };
    params: Record<string, string | undefined>;
    session?: { accountId?: string };
    grantId?: string;
  }

  export interface Grant {
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }

  export interface StoredToken {
    accountId?: string;
    clientId: string;
    scope?: string;
    isExpired?: boolean;
    kind: string;
  }

  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    issuer: string;
    proxy: boolean;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
    on(event: string, listener: (...args: never[]) => void): this;
    Grant: {
      new (init: { accountId: string; clientId: string }): Grant;
      find(id: string): Promise<Grant | undefined>;
    };
    AccessToken: { find(token: string): Promise<StoredToken | undefined> };
    ClientCredentials: { find(token: string): Promise<StoredToken | undefined> };
  }
}
