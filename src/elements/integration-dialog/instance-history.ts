import { html, nothing, type ReactiveControllerHost, type TemplateResult } from 'lit';
import { ApiError } from '../../client/api-error.js';
import type { PlugClient } from '../../client/index.js';
import type { AuditEntry, Instance, IntegrationDetail } from '../../protocol/index.js';
import { ProblemType } from '../../protocol/problem-types.js';
import { keyInWords } from '../../protocol/words.js';
import type { StringKey } from '../i18n.js';

/** What the setup hands to the history section of an instance. */
export interface InstanceHistoryContext {
  client: PlugClient;
  instance: Instance;
  /** The integration: entries name its connections, flows and fields by their labels, never their keys. */
  detail: IntegrationDetail;
  t: (key: StringKey, vars?: Record<string, string | number>) => string;
  locale: string | undefined;
}

/** The actions the server writes, as the customer reads them; one this version doesn't know reads "Changed", never its internal name. */
const ACTIONS: Record<string, StringKey> = {
  'instance.created': 'history.created',
  'instance.config_saved': 'history.configSaved',
  'instance.activated': 'history.activated',
  'instance.paused': 'history.paused',
  'instance.error': 'history.failing',
  'instance.recovered': 'history.recovered',
  'connection.set': 'history.credentialsSaved',
  'connection.connected': 'history.connected',
  'connection.deleted': 'history.disconnected',
  'connection.needs_attention': 'history.needsAttention',
  'webhook.secret_rotated': 'history.secretRotated',
  'data_source.called_with_unsaved_values': 'history.dataSourceCalled',
  'instance.upgraded': 'history.upgraded',
  'instance.rolled_back': 'history.rolledBack',
  'execution.retried': 'history.retried',
  'execution.rerun': 'history.rerun',
  'connection.oauth_failed': 'history.connectFailed',
  'connection.oauth_refused': 'history.connectRefused',
  'connection.proxied': 'history.proxied',
};

type State = 'idle' | 'loading' | 'ready' | 'error' | 'forbidden';

/**
 * The dialog's History section: who changed the instance, what and when, newest first, read on
 * demand (a disclosure button), older pages on request. The server answers admins only; a member
 * who opens it is told so.
 */
export class InstanceHistory {
  #open = false;
  #of: string | undefined;
  #state: State = 'idle';
  #events: AuditEntry[] = [];
  #next: string | null = null;
  #loadingOlder = false;
  #request: AbortController | undefined;

  constructor(private readonly host: ReactiveControllerHost) {}

  #reset(instanceId: string): void {
    this.#request?.abort();
    this.#of = instanceId;
    this.#open = false;
    this.#state = 'idle';
    this.#events = [];
    this.#next = null;
    this.#loadingOlder = false;
  }

  async #load(ctx: InstanceHistoryContext, older: boolean): Promise<void> {
    this.#request?.abort();
    const request = (this.#request = new AbortController());
    if (older) this.#loadingOlder = true;
    else this.#state = 'loading';
    this.host.requestUpdate();
    try {
      const page = await ctx.client.audit(ctx.instance.id, { ...(older && this.#next ? { cursor: this.#next } : {}), signal: request.signal });
      if (request.signal.aborted) return;
      this.#events = older ? [...this.#events, ...page.events] : page.events;
      this.#next = page.nextCursor;
      this.#state = 'ready';
    } catch (error) {
      if (request.signal.aborted) return;
      const forbidden = error instanceof ApiError && error.problem.type === ProblemType.forbidden;
      // A failed older page keeps what is shown; its button offers the page again.
      if (!older || forbidden) this.#state = forbidden ? 'forbidden' : 'error';
    } finally {
      if (!request.signal.aborted) {
        this.#loadingOlder = false;
        this.host.requestUpdate();
      }
    }
  }

  #toggle(ctx: InstanceHistoryContext): void {
    this.#open = !this.#open;
    if (this.#open && (this.#state === 'idle' || this.#state === 'error')) void this.#load(ctx, false);
    this.host.requestUpdate();
  }

  #who(ctx: InstanceHistoryContext, event: AuditEntry): string {
    if (event.actor.type === 'user') return event.actor.name ?? event.actor.id ?? ctx.t('history.someone');
    // The vendor's staff, by the name their vendor token carries ("Acme support (jane@…)").
    if (event.actor.type === 'vendor') return event.actor.name ?? ctx.t('history.vendor');
    return ctx.t('history.system');
  }

  #what(ctx: InstanceHistoryContext, event: AuditEntry): string {
    const key = ACTIONS[event.action];
    const { version } = event.details;
    const label = ctx.t(key ?? 'history.other', { version: typeof version === 'string' ? version : '' });
    const about = this.#about(ctx.detail, event);
    return about ? `${label} (${about})` : label;
  }

  /** What an entry is about, in the customer's words: a connection's or flow's label, the field a data source fills. */
  #about(detail: IntegrationDetail, event: AuditEntry): string | undefined {
    const { connection, flow, dataSource } = event.details;
    if (typeof connection === 'string') return detail.connections.find((c) => c.name === connection)?.label ?? keyInWords(connection);
    if (typeof flow === 'string') return detail.flows.find((f) => f.name === flow)?.label ?? keyInWords(flow);
    if (typeof dataSource !== 'string') return undefined;
    for (const page of detail.configPages) {
      const props = (page.schema.properties ?? {}) as Record<string, { title?: unknown; 'x-plug-data-source'?: unknown }>;
      const field = Object.values(props).find((p) => p['x-plug-data-source'] === dataSource);
      if (typeof field?.title === 'string') return field.title;
    }
    return undefined;
  }

  #renderEvent(ctx: InstanceHistoryContext, event: AuditEntry, when: Intl.DateTimeFormat): TemplateResult {
    return html`<li class="history-entry">
      <time datetime=${event.at}>${when.format(new Date(event.at))}</time>
      <span>${ctx.t('history.entry', { who: this.#who(ctx, event), what: this.#what(ctx, event) })}</span>
    </li>`;
  }

  #renderPanel(ctx: InstanceHistoryContext): TemplateResult | typeof nothing {
    const { t } = ctx;
    switch (this.#state) {
      case 'idle':
        return nothing;
      case 'loading':
        return html`<p class="muted" role="status">${t('history.loading')}</p>`;
      case 'forbidden':
        return html`<p class="muted">${t('history.forbidden')}</p>`;
      case 'error':
        return html`<div class="alert" role="alert">
          ${t('history.error')}
          <button part="button" class="button" type="button" @click=${() => void this.#load(ctx, false)}>${t('history.retry')}</button>
        </div>`;
      case 'ready': {
        if (this.#events.length === 0) return html`<p class="muted">${t('history.empty')}</p>`;
        const when = new Intl.DateTimeFormat(ctx.locale, { dateStyle: 'medium', timeStyle: 'short' });
        return html`<ol class="history-list">
            ${this.#events.map((e) => this.#renderEvent(ctx, e, when))}
          </ol>
          ${
            this.#next
              ? html`<div>
                <button part="button" class="button" type="button" ?disabled=${this.#loadingOlder} @click=${() => void this.#load(ctx, true)}>
                  ${t(this.#loadingOlder ? 'history.loadingOlder' : 'history.loadOlder')}
                </button>
              </div>`
              : nothing
          }`;
      }
    }
  }

  /** The History disclosure of an instance; its list is read when the customer opens it. */
  render(ctx: InstanceHistoryContext): TemplateResult {
    if (this.#of !== ctx.instance.id) this.#reset(ctx.instance.id);
    return html`<section class="history" aria-labelledby="history-heading">
      <h3 id="history-heading">
        <button
          id="history-toggle"
          part="button"
          class="button disclosure"
          type="button"
          aria-expanded=${this.#open ? 'true' : 'false'}
          aria-controls="history-panel"
          @click=${() => this.#toggle(ctx)}
        >
          ${ctx.t('history.title')}
        </button>
      </h3>
      <div id="history-panel" ?hidden=${!this.#open}>${this.#open ? this.#renderPanel(ctx) : nothing}</div>
    </section>`;
  }
}
