import { html, type TemplateResult } from 'lit';
import type { PlugClient } from '../../client/index.js';
import type { ConnectionSpec, ConnectionState, Instance } from '../../protocol/index.js';
import type { StringKey } from '../i18n.js';

/** What the dialog hands to the renderer of an OAuth-style connection. */
export interface OAuthConnectionContext {
  client: PlugClient;
  instance: Instance;
  spec: ConnectionSpec;
  state: ConnectionState | undefined;
  disabled: boolean;
  t: (key: StringKey, vars?: Record<string, string | number>) => string;
  /** Call with the instance after the connection changed (the dialog re-renders, fires no event). */
  changed: (instance: Instance) => void;
  /** Call when connecting failed: the dialog announces it and fires `plug-error`. */
  failed: (error: unknown) => void;
}

/**
 * The seam for OAuth connections. This placeholder sends the whole page through the
 * provider's sign-in (`mode: 'redirect'`, back to this page); `<plug-connect-button>`
 * (popup, postMessage, status) replaces this function's body when it lands.
 */
export function renderOAuthConnection(ctx: OAuthConnectionContext): TemplateResult {
  const connected = ctx.state?.status === 'connected';
  const connect = async (): Promise<void> => {
    try {
      const { authorizationUrl } = await ctx.client.authorize(ctx.instance.id, ctx.spec.name, {
        mode: 'redirect',
        returnUrl: location.href,
      });
      location.assign(authorizationUrl);
    } catch (error) {
      ctx.failed(error);
    }
  };
  return html`<button part="button connect-button" class="button primary" type="button" ?disabled=${ctx.disabled} @click=${connect}>
    ${ctx.t(connected ? 'connection.reconnect' : 'connection.connect')}
  </button>`;
}
