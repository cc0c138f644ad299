import { html, nothing, type TemplateResult } from 'lit';
import type { ConnectionSpec, FieldError, Instance } from '../../protocol/index.js';
import { connectionStatusText } from '../i18n.js';
import { renderOAuthConnection } from './oauth-connection.js';
import { FORM_PARTS, fieldsOf, type SetupSection } from './setup-section.js';

/**
 * The value an API-key form goes back to once its key is stored (a stored key is never sent
 * back: the field says "Set"). Not bound in the template: Lit sets an object binding again on
 * every render, which would wipe what the customer is typing whenever the dialog re-renders.
 */
export const NO_VALUES: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/** What the setup hands to the connections step. */
export interface ConnectionsContext extends SetupSection {
  /** Creates the instance on the first save of a credential or the first sign-in (setup alone creates nothing). */
  ensureInstance: () => Promise<Instance>;
  /** The server's refusal of the last credentials saved, per connection name. */
  credentialErrors: Record<string, FieldError[]>;
  saveCredentials: (spec: ConnectionSpec) => void;
  /** An OAuth connection's fields, checked by their form (throws when it refused them). */
  connectionFields: (spec: ConnectionSpec) => Record<string, string>;
  /** The server refused an OAuth connection's fields. */
  connectionFieldErrors: (spec: ConnectionSpec, errors: FieldError[]) => void;
  /** A connect button changed the instance (connected, disconnected). */
  changed: (instance: Instance) => void;
  failed: (error: unknown) => void;
}

/**
 * @internal The wizard's connections step: one box per connection with its status; an API key
 * gets a `<plug-config-form>` for its secret fields, the others a `<plug-connect-button>`.
 */
export function renderConnections(ctx: ConnectionsContext): TemplateResult[] {
  const { instance, t } = ctx;
  // The connection's own fields: an API key's values, or what an OAuth connection needs before signing in.
  const form = (spec: ConnectionSpec, secretsSet: string[]) =>
    html`<plug-config-form
      part="form"
      exportparts=${FORM_PARTS}
      data-connection=${spec.name}
      .schema=${spec.schema ?? { type: 'object', properties: {} }}
      .secretsSet=${secretsSet}
      .errors=${ctx.credentialErrors[spec.name] ?? []}
      .translations=${ctx.translations}
      ?disabled=${ctx.busy}
    ></plug-config-form>`;
  return ctx.detail.connections.map((spec) => {
    const st = instance?.connections.find((c) => c.name === spec.name);
    const status = st?.status ?? 'missing';
    return html`<div class="connection" role="group" aria-labelledby="conn-${spec.name}">
      <div class="connection-head">
        <h4 id="conn-${spec.name}">${spec.label}</h4>
        <span class="muted" data-status=${status}>${connectionStatusText(t, status, st?.accountName)}</span>
      </div>
      ${spec.description ? html`<p class="muted">${spec.description}</p>` : nothing}
      ${st?.error ? html`<p class="notice">${st.error}</p>` : nothing}
      ${
        spec.kind === 'apiKey'
          ? html`${form(spec, status === 'connected' ? fieldsOf(spec.schema) : [])}
            <div class="actions">
              <button part="button" class="button" type="button" ?disabled=${ctx.busy} @click=${() => ctx.saveCredentials(spec)}>
                ${t(status === 'connected' ? 'connection.replace' : 'connection.save')}
              </button>
            </div>`
          : html`${spec.schema ? form(spec, []) : nothing}${renderOAuthConnection({
              client: ctx.client,
              instance,
              ensureInstance: ctx.ensureInstance,
              spec,
              state: st,
              disabled: ctx.busy,
              t,
              changed: ctx.changed,
              failed: ctx.failed,
              ...(spec.schema
                ? { fields: () => ctx.connectionFields(spec), fieldErrors: (errors: FieldError[]) => ctx.connectionFieldErrors(spec, errors) }
                : {}),
            })}`
      }
    </div>`;
  });
}
