import { ContextProvider } from '@lit/context';
import { css, html, type PropertyDeclarations } from 'lit';
import { createClient, type PlugClient } from '../../client/index.js';
import { PlugElement } from '../base/plug-element.js';
import { clientContext, translationsContext } from '../context.js';
import type { Translations } from '../i18n.js';

/**
 * @customElement plug-provider
 * @summary Optional: gives every Plugboard element inside it one API client (one token
 * refresh for all) and one set of translations. Renders its children as they are.
 *
 * @slot - Any markup, with Plugboard elements anywhere inside.
 */
export class PlugProvider extends PlugElement {
  static override styles = css`
    :host {
      display: contents;
    }
  `;

  // No decorators in the eager core (see PlugApiElement); PlugApiElement's client-source properties,
  // written out because the manifest analyzer reads only a literal object.
  static override properties: PropertyDeclarations = {
    api: {},
    token: {},
    getToken: { attribute: false },
    client: { attribute: false },
    translations: { attribute: false },
  };

  #client = new ContextProvider(this, { context: clientContext });
  #translations = new ContextProvider(this, { context: translationsContext });

  /** Base URL of the Plugboard API, e.g. `https://plugboard.example.com/api/v1`. */
  declare api: string | undefined;

  /** A vendor-signed JWT. Prefer `getToken`. */
  declare token: string | undefined;

  /** Returns a fresh JWT; called before the current one expires and after a 401. */
  declare getToken: (() => string | Promise<string>) | undefined;

  /** A ready client to share instead of `api`/`token`/`getToken`. */
  declare client: PlugClient | undefined;

  /** Replacement strings for every element inside (an element's own `translations` win). */
  declare translations: Translations | undefined;

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    super.willUpdate(changed);
    if (changed.has('api') || changed.has('token') || changed.has('getToken') || changed.has('client')) {
      // A new value, never a mutated one: consumers update on identity. No token source yet: no
      // client, so consumers wait instead of sending a request that can only get a 401.
      const ready = this.api && (this.token || this.getToken);
      this.#client.setValue(this.client ?? (ready ? createClient({ api: this.api!, token: this.token, getToken: this.getToken }) : undefined));
    }
    if (changed.has('translations')) this.#translations.setValue(this.translations);
  }

  override render() {
    return html`<slot></slot>`;
  }
}
