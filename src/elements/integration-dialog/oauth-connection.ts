import { html, nothing, type TemplateResult } from 'lit';
import type { PlugClient } from '../../client/index.js';
import { ApiError } from '../../client/api-error.js';
import type { AuthorizeBody, AuthorizeResponse, ConnectEventDetail, ConnectionSpec, ConnectionState, FieldError, Instance } from '../../protocol/index.js';
import '../connect-button/define.js';
import type { StringKey, Translations } from '../i18n.js';

/** What the dialog hands to the renderer of an OAuth-style connection. */
export interface OAuthConnectionContext {
  client: PlugClient;
  /** Undefined until the first save: the sign-in creates it (`ensureInstance`). */
  instance: Instance | undefined;
  ensureInstance: () => Promise<Instance>;
  spec: ConnectionSpec;
  state: ConnectionState | undefined;
  disabled: boolean;
  t: (key: StringKey, vars?: Record<string, string | number>) => string;
  /** The dialog's replacement strings, handed to the connect button. */
  translations?: Translations;
  /** Call with the instance after the connection changed (the dialog re-renders, fires no event). */
  changed: (instance: Instance) => void;
  /** Call when connecting failed: the dialog announces it and fires `plug-error`. */
  failed: (error: unknown) => void;
  /**
   * The connection's fields (shop, subdomain, the customer's own OAuth client), checked by their
   * form; undefined when the connection has none. Throws when the form refused them.
   */
  fields?: () => Record<string, string>;
  /** The server refused the fields: put its messages on them. */
  fieldErrors?: (errors: FieldError[]) => void;
}

/**
 * The seam for OAuth connections: `<plug-connect-button>` (popup opened on the click,
 * postMessage from the callback origin only, blocked-popup fallback to a full-page redirect,
 * Reconnect/Disconnect). The dialog shows the label and status; the button shows its messages.
 */
export function renderOAuthConnection(ctx: OAuthConnectionContext): TemplateResult {
  const onConnect = (event: CustomEvent<ConnectEventDetail>): void => {
    if (event.detail.instance) ctx.changed(event.detail.instance);
    else void ctx.client.instance(event.detail.instanceId).then(ctx.changed, ctx.failed);
  };
  // The authorize request goes through here so that a sign-in before any save creates the instance first.
  const authorize = async (body: AuthorizeBody): Promise<AuthorizeResponse> => {
    const fields = ctx.fields?.();
    try {
      return await ctx.client.authorize((await ctx.ensureInstance()).id, ctx.spec.name, fields ? { ...body, fields } : body);
    } catch (error) {
      if (error instanceof ApiError && error.status === 422 && error.errors.length > 0) ctx.fieldErrors?.(error.errors);
      throw error;
    }
  };
  return html`<plug-connect-button
    compact
    exportparts="button, connect-button, disconnect-button, cancel-button, message"
    .client=${ctx.client}
    instance-id=${ctx.instance?.id ?? nothing}
    .authorize=${authorize}
    connection=${ctx.spec.name}
    label=${ctx.spec.label}
    .status=${ctx.state?.status ?? 'missing'}
    .reason=${ctx.state?.error ?? null}
    .account=${ctx.state?.accountName ?? null}
    ?disabled=${ctx.disabled}
    .translations=${ctx.translations}
    @plug-connect=${onConnect}
  ></plug-connect-button>`;
}
