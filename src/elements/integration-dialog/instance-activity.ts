import { html, nothing, type ReactiveControllerHost, type TemplateResult } from 'lit';
import type { PlugClient } from '../../client/index.js';
import type { FlowSpec, Instance, WebhookEndpoint } from '../../protocol/index.js';
import '../execution-log/define.js';
import type { StringKey, Translations } from '../i18n.js';

/** What the setup hands to the activity section of an instance. */
export interface InstanceActivityContext {
  client: PlugClient;
  instance: Instance;
  /** The integration's flows: the runs are titled with their labels. */
  flows: FlowSpec[];
  t: (key: StringKey, vars?: Record<string, string | number>) => string;
  translations: Translations | undefined;
  /** The dialog's `theme` and language, handed down (neither crosses the shadow root by itself). */
  theme: 'light' | 'dark' | 'auto' | undefined;
  lang: string | undefined;
  /** Says something through the dialog's polite live region. */
  announce: (text: string) => void;
  /** A request failed: the dialog shows it and fires `plug-error`. */
  failed: (action: string, error: unknown) => void;
}

const LOG_PARTS = 'filter, list, item, toggle, status, summary, log, details, error, truncated, button';

/**
 * The dialog's view of a running instance: its webhook URLs (with copy buttons, and a signing
 * secret made on demand and shown once) and its runs (`<plug-execution-log>`). Keeps the
 * secrets it was handed only in memory, only while the dialog lives (it calls `forget()` when
 * it leaves the page), and never for another instance.
 */
export class InstanceActivity {
  #secrets = new Map<string, string>();
  #secretsOf: string | undefined;
  #busy = false;

  constructor(private readonly host: ReactiveControllerHost & { readonly renderRoot: ParentNode }) {}

  /** Drops the signing secrets shown so far. */
  forget(): void {
    this.#secrets.clear();
  }

  async #copy(ctx: InstanceActivityContext, input: HTMLInputElement | null, text: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(text);
      ctx.announce(ctx.t('webhooks.copied'));
    } catch {
      // No clipboard permission (or an old browser): leave the text selected for Ctrl+C.
      input?.focus();
      input?.select();
      ctx.announce(ctx.t('webhooks.copyFailed'));
    }
  }

  async #newSecret(ctx: InstanceActivityContext, flow: string): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    this.host.requestUpdate();
    try {
      const { secret } = await ctx.client.webhookSecret(ctx.instance.id, flow);
      this.#secrets.set(flow, secret);
      this.host.requestUpdate();
      await this.host.updateComplete;
      this.host.renderRoot.querySelector<HTMLInputElement>(`input[data-secret="${CSS.escape(flow)}"]`)?.focus();
    } catch (error) {
      ctx.failed('webhook-secret', error);
    } finally {
      this.#busy = false;
      this.host.requestUpdate();
    }
  }

  #renderCopyRow(ctx: InstanceActivityContext, id: string, label: string, value: string, attr: { secret?: string } = {}): TemplateResult {
    const field = (): HTMLInputElement | null => this.host.renderRoot.querySelector<HTMLInputElement>(`#${CSS.escape(id)}`);
    return html`<div class="copy-row">
      <label for=${id}>${label}</label>
      <div class="copy-field">
        <input id=${id} part="input" type="text" readonly .value=${value} data-secret=${attr.secret ?? nothing} spellcheck="false" />
        <button part="button" class="button" type="button" @click=${() => void this.#copy(ctx, field(), value)}>
          ${ctx.t('webhooks.copy')}<span class="visually-hidden">: ${label}</span>
        </button>
      </div>
    </div>`;
  }

  #renderWebhook(ctx: InstanceActivityContext, hook: WebhookEndpoint, index: number): TemplateResult {
    const secret = this.#secrets.get(hook.flow);
    const label = hook.label;
    return html`<li class="webhook">
      ${this.#renderCopyRow(ctx, `webhook-url-${index}`, label ? ctx.t('webhooks.url', { flow: label }) : ctx.t('webhooks.urlPlain'), hook.url)}
      ${hook.description ? html`<p class="muted">${hook.description}</p>` : nothing}
      ${
        hook.hmac
          ? html`<p class="muted">${ctx.t('webhooks.signed')}</p>
            ${
              secret
                ? html`${this.#renderCopyRow(
                    ctx,
                    `webhook-secret-${index}`,
                    label ? ctx.t('webhooks.secret', { flow: label }) : ctx.t('webhooks.secretPlain'),
                    secret,
                    { secret: hook.flow },
                  )}
                  <p class="notice">${ctx.t('webhooks.secretOnce')}</p>`
                : nothing
            }
            <div>
              <button part="button" class="button" type="button" @click=${() => void this.#newSecret(ctx, hook.flow)}>
                ${ctx.t('webhooks.newSecret')}
              </button>
            </div>`
          : nothing
      }
    </li>`;
  }

  /** The webhook URLs and runs of an instance that has left draft; nothing for a draft. */
  render(ctx: InstanceActivityContext): TemplateResult | typeof nothing {
    const { instance } = ctx;
    if (instance.status === 'draft') return nothing;
    if (this.#secretsOf !== instance.id) {
      this.#secrets.clear();
      this.#secretsOf = instance.id;
    }
    // Only URLs the customer gives to a third party: the ones the vendor's product calls are not theirs to see.
    const hooks = (instance.webhooks ?? []).filter((hook) => hook.customerFacing === true);
    return html`${
      hooks.length > 0
        ? html`<section aria-labelledby="webhooks-heading">
            <h3 id="webhooks-heading">${ctx.t('webhooks.title')}</h3>
            <ul class="webhooks">
              ${hooks.map((hook, i) => this.#renderWebhook(ctx, hook, i))}
            </ul>
          </section>`
        : nothing
    }
      <section aria-labelledby="runs-heading">
        <h3 id="runs-heading">${ctx.t('webhooks.runs')}</h3>
        <plug-execution-log
          exportparts=${LOG_PARTS}
          .client=${ctx.client}
          .flows=${ctx.flows}
          .translations=${ctx.translations}
          instance-id=${instance.id}
          theme=${ctx.theme ?? nothing}
          lang=${ctx.lang ?? nothing}
        ></plug-execution-log>
      </section>`;
  }
}
