import { ContextConsumer } from '@lit/context';
import type { PropertyDeclarations } from 'lit';
import { ApiError, NETWORK_ERROR_TYPE, createClient, type PlugClient } from '../../client/index.js';
import { clientContext, translationsContext } from '../context.js';
import { format, type StringKey, type Translations } from '../i18n.js';
import type {} from '../events.js';
import { PlugElement } from './plug-element.js';

/**
 * Base of the elements that talk to the API. The client comes from, in order: the `client`
 * property (a parent element hands its own down), the element's own `api` + `token` /
 * `getToken`, or a `<plug-provider>` ancestor through context.
 */
export class PlugApiElement extends PlugElement {
  // `static properties` and `declare` fields, not decorators, in every element: esbuild lowers
  // standard decorators with ~2 KB of helpers, per-field storage and, in a decorated class, every
  // `#private` member turned into WeakMap calls (the customer-facing files were 4.2 KB gzip
  // heavier with them). Defaults are set in the constructor. Written out in each class: the
  // manifest analyzer reads only a literal object.
  static override properties: PropertyDeclarations = {
    api: {},
    token: {},
    getToken: { attribute: false },
    client: { attribute: false },
    translations: { attribute: false },
    theme: { reflect: true },
  };

  #own: { api: string; token: string | undefined; getToken: (() => string | Promise<string>) | undefined; client: PlugClient } | undefined;

  #clientConsumer = new ContextConsumer(this, { context: clientContext, subscribe: true });
  #translationsConsumer = new ContextConsumer(this, { context: translationsContext, subscribe: true });

  /** Base URL of the Plugboard API, e.g. `https://plugboard.example.com/api/v1`. */
  declare api: string | undefined;

  /** A vendor-signed JWT. Prefer `getToken` for pages that stay open longer than a token lives. */
  declare token: string | undefined;

  /** Returns a fresh JWT; called before the current one expires and after a 401. */
  declare getToken: (() => string | Promise<string>) | undefined;

  /** An API client to use instead of `api`/`token` (set by parent elements). */
  declare client: PlugClient | undefined;

  /** Replacement strings (keys in `i18n.ts`); English for the rest. */
  declare translations: Translations | undefined;

  /** `light` or `dark` forces one; `auto` follows the visitor's system (`prefers-color-scheme`); unset follows the host page's `color-scheme`. */
  declare theme: 'light' | 'dark' | 'auto' | undefined;

  /** The client of a `<plug-provider>` around this element (the consumer updates the element when it changes). */
  protected get contextClient(): PlugClient | undefined {
    return this.#clientConsumer.value;
  }

  /** The translations of a `<plug-provider>` around this element. */
  protected get contextTranslations(): Translations | undefined {
    return this.#translationsConsumer.value;
  }

  /**
   * The client this element uses, or undefined while none is configured. With `api` but no
   * `token`/`getToken` yet there is none: a request then would only earn a 401, so the element
   * waits and loads once a token source is set.
   */
  protected get apiClient(): PlugClient | undefined {
    if (this.client) return this.client;
    if (!this.api) return this.contextClient;
    if (!this.token && !this.getToken) return undefined;
    const own = this.#own;
    if (own?.api !== this.api || own.token !== this.token || own.getToken !== this.getToken) {
      this.#own = {
        api: this.api,
        token: this.token,
        getToken: this.getToken,
        client: createClient({ api: this.api, token: this.token, getToken: this.getToken }),
      };
    }
    return this.#own!.client;
  }

  /** This element's string for `key`: own translations, then the provider's, then English. */
  protected t(key: StringKey, vars?: Record<string, string | number>): string {
    const own = this.translations;
    const shared = this.contextTranslations;
    const merged = own && shared ? { ...shared, ...own } : (own ?? shared);
    return format(merged, key, vars, this.locale);
  }

  /** Language for Intl formatting: the element's `lang`, the nearest ancestor's, or the page's. */
  protected get locale(): string | undefined {
    const host = this.closest('[lang]') as HTMLElement | null;
    return this.lang || host?.lang || document.documentElement.lang || undefined;
  }

  /** A message a customer can act on, for an error from the client. */
  protected describeError(error: unknown): string {
    if (error instanceof ApiError) {
      if (error.problem.type === NETWORK_ERROR_TYPE) return this.t('error.network');
      if (error.status === 401) return this.t('error.unauthorized');
      if (error.status === 403) return this.t('error.forbidden');
      return error.problem.detail ?? error.problem.title ?? this.t('error.generic');
    }
    return this.t('error.generic');
  }

  /** Fires `plug-error` so the host can log or show it. */
  protected reportError(action: string, error: unknown): void {
    if (error instanceof DOMException && error.name === 'AbortError') return;
    this.emit('plug-error', {
      detail: {
        action,
        message: this.describeError(error),
        problem: error instanceof ApiError ? error.problem : undefined,
      },
    });
  }
}
