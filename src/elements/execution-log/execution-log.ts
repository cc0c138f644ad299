import { html, nothing, type PropertyDeclarations, type PropertyValues, type TemplateResult } from 'lit';
import type { PlugClient } from '../../client/index.js';
import type { ExecutionDetail, ExecutionLogLine, ExecutionStatus, ExecutionSummary, FlowSpec } from '../../protocol/index.js';
import { keyInWords, resultInWords } from '../../protocol/words.js';
import { PlugApiElement } from '../base/api-element.js';
import { addEnglish } from '../i18n.js';
import { badgeStyles } from '../instance-status/status-badge.js';
import { buttonStyles } from '../marketplace/marketplace.styles.js';
import { tokens } from '../themes/tokens.js';
import { executionLogStyles } from './execution-log.styles.js';
import { executionsEn } from './execution-strings.js';
import { LiveRefresh } from './live-refresh.js';

addEnglish(executionsEn);

type ListState = { kind: 'idle' } | { kind: 'loading' } | { kind: 'ready' } | { kind: 'error'; message: string };
type LogState = { kind: 'loading' } | { kind: 'ready'; detail: ExecutionDetail } | { kind: 'error'; message: string };

const STATUSES: readonly ExecutionStatus[] = ['queued', 'running', 'succeeded', 'failed', 'timed_out'];
const UNFINISHED: ReadonlySet<ExecutionStatus> = new Set(['queued', 'running']);
/** Longest wait between polls while the page is hidden or polls fail. */
const MAX_POLL_MS = 60_000;

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

/** An execution id made safe for an `id` attribute (ids are opaque strings). */
function domId(executionId: string): string {
  return `log-${executionId.replace(/[^\w-]/g, '_')}`;
}

/**
 * @customElement plug-execution-log
 * @summary The runs of one instance, newest first: status, flow, trigger, when and how long.
 * Expanding a run shows its error and its `ctx.log` lines. Filter by status; older runs load
 * page by page.
 *
 * Live: while connected it polls the newest page every `poll-interval` ms (default 5000) and
 * merges what changed; new runs are announced politely. While the page is hidden, or when a
 * poll fails, the wait doubles up to 60 s; the page becoming visible polls at once. Open logs
 * of unfinished runs are read again on each poll. Polling stops when the element is removed.
 *
 * Works alone with `api` + `token` / `getToken`, or inside `<plug-provider>`.
 *
 * @event {CustomEvent<ErrorEventDetail>} plug-error - A request failed (`load-executions`,
 * `load-older-executions`, `refresh-executions` once per failing streak, `load-execution`).
 *
 * @csspart filter - The status filter `<select>`.
 * @csspart list - The list of runs.
 * @csspart item - One run.
 * @csspart toggle - The button that expands or collapses a run.
 * @csspart status - A run's status badge (also `status-<status>`, e.g. `status-failed`).
 * @csspart log - The expanded part of a run: error, result and log lines.
 * @csspart summary - A run's result in words (what the flow returned as its `summary`).
 * @csspart details - The disclosure with a run's raw result.
 * @csspart error - A failed run's error text.
 * @csspart truncated - The marker shown when later log lines were not kept.
 * @csspart button - Retry and "load older" buttons.
 *
 * @cssproperty --plug-log-background - Background of an expanded log (default `--plug-color-surface-raised`).
 * @cssproperty --plug-log-font-family - Font of log lines (default monospace).
 */
export class PlugExecutionLog extends PlugApiElement {
  static override styles = [tokens, buttonStyles, badgeStyles, executionLogStyles];
  // `static properties`, not decorators: see PlugApiElement.
  static override properties: PropertyDeclarations = {
    list: { state: true },
    executions: { state: true },
    nextCursor: { state: true },
    older: { state: true },
    expanded: { state: true },
    logs: { state: true },
    refreshFailed: { state: true },
    announcement: { state: true },
    instanceId: { attribute: 'instance-id' },
    status: { reflect: true },
    pollInterval: { attribute: 'poll-interval', type: Number },
    flows: { attribute: false },
    pageSize: { attribute: 'page-size', type: Number },
    runActions: { attribute: false },
  };

  #listAbort: AbortController | undefined;
  #pollAbort: AbortController | undefined;
  #logAborts = new Map<string, AbortController>();
  /** Bumped on every reload: answers for an older list are dropped. */
  #generation = 0;
  /** What the current list was loaded for; a change reloads. */
  #loadedFor: readonly unknown[] = [];
  /** A poll failed and `plug-error` was fired; the next failure of the streak stays quiet. */
  #pollFailing = false;

  #live = new LiveRefresh(this, () => this.#poll(), {
    interval: () => this.pollInterval,
    maxInterval: MAX_POLL_MS,
  });

  declare private list: ListState;
  declare private executions: ExecutionSummary[];
  declare private nextCursor: string | null;
  declare private older: ListState;
  declare private expanded: ReadonlySet<string>;
  declare private logs: ReadonlyMap<string, LogState>;
  declare private refreshFailed: boolean;
  declare private announcement: string;

  /** The instance whose runs to show. */
  declare instanceId: string | undefined;

  /** Only runs with this status (`queued`, `running`, `succeeded`, `failed`, `timed_out`); empty for all. The filter control sets it. */
  declare status: ExecutionStatus | '';

  /** Milliseconds between live refreshes while the page is visible; 0 turns them off. */
  declare pollInterval: number;

  /**
   * The integration's flows (`flows` of its detail): runs are titled with their labels. Without
   * them a run's flow key is put in words ("syncContacts" → "Sync contacts").
   */
  declare flows: FlowSpec[] | undefined;

  /** Runs per page (1 to 100). */
  declare pageSize: number;

  /** Buttons shown in an open run, under its log (the vendor console's retry and re-run); none by default. */
  declare runActions: ((execution: ExecutionSummary) => TemplateResult | typeof nothing) | undefined;

  constructor() {
    super();
    this.list = { kind: 'idle' };
    this.#clear();
    this.announcement = '';
    this.status = '';
    this.pollInterval = 5000;
    this.pageSize = 20;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Back in the page after a removal: read again (requests were aborted on the way out).
    if (this.hasUpdated) this.requestUpdate();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#abortAll();
    this.#loadedFor = [];
  }

  override willUpdate(changed: PropertyValues<this>): void {
    super.willUpdate(changed);
    const args = [this.apiClient, this.instanceId, this.status, this.pageSize];
    // Lit still updates a removed element; it reads nothing until it is back.
    if (this.isConnected && args.some((arg, i) => arg !== this.#loadedFor[i])) {
      this.#loadedFor = args;
      void this.#reload();
    }
    if (changed.has('pollInterval') && changed.get('pollInterval') !== undefined) this.#live.restart();
  }

  #abortAll(): void {
    this.#listAbort?.abort();
    this.#pollAbort?.abort();
    for (const controller of this.#logAborts.values()) controller.abort();
    this.#logAborts.clear();
  }

  #query(signal: AbortSignal, cursor?: string) {
    return { status: this.status || undefined, limit: Math.min(Math.max(Math.trunc(this.pageSize) || 20, 1), 100), cursor, signal };
  }

  /** No runs read yet: the list's state before its first page. */
  #clear(): void {
    this.executions = [];
    this.nextCursor = null;
    this.older = { kind: 'idle' };
    this.expanded = new Set();
    this.logs = new Map();
    this.refreshFailed = false;
  }

  /** Reads the first page from scratch (first load, new instance, filter or client, retry). */
  async #reload(): Promise<void> {
    this.#abortAll();
    const generation = ++this.#generation;
    this.#clear();
    const client = this.apiClient;
    const id = this.instanceId;
    if (!client || !id) {
      this.list = { kind: 'idle' };
      return;
    }
    this.list = { kind: 'loading' };
    const controller = (this.#listAbort = new AbortController());
    try {
      const page = await client.executions(id, this.#query(controller.signal));
      if (generation !== this.#generation) return;
      this.executions = page.executions;
      this.nextCursor = page.nextCursor;
      this.list = { kind: 'ready' };
      this.#live.restart();
    } catch (error) {
      if (isAbort(error) || generation !== this.#generation) return;
      this.list = { kind: 'error', message: this.describeError(error) };
      this.reportError('load-executions', error);
    }
  }

  /** One live refresh: merges the newest page into the list. Resolves false when it failed. */
  async #poll(): Promise<boolean> {
    const client = this.apiClient;
    const id = this.instanceId;
    if (!client || !id || this.list.kind !== 'ready') return true;
    const generation = this.#generation;
    const controller = (this.#pollAbort = new AbortController());
    try {
      const page = await client.executions(id, this.#query(controller.signal));
      if (generation !== this.#generation) return true;
      this.#merge(page.executions, page.nextCursor);
      this.#pollFailing = false;
      this.refreshFailed = false;
      await Promise.all([...this.expanded].filter((eid) => this.#needsLogRefresh(eid)).map((eid) => this.#loadLog(client, eid, false)));
      return true;
    } catch (error) {
      if (isAbort(error) || generation !== this.#generation) return true;
      this.refreshFailed = true;
      if (!this.#pollFailing) this.reportError('refresh-executions', error);
      this.#pollFailing = true;
      return false;
    }
  }

  /** The newest page replaces what it covers; older runs already shown stay below it. */
  #merge(fresh: ExecutionSummary[], cursor: string | null): void {
    const known = new Map(this.executions.map((e) => [e.id, e]));
    const freshIds = new Set(fresh.map((e) => e.id));
    const oldest = fresh.at(-1);
    const below = cursor === null || !oldest ? [] : this.executions.filter((e) => !freshIds.has(e.id) && Date.parse(e.queuedAt) <= Date.parse(oldest.queuedAt));
    const added = fresh.filter((e) => !known.has(e.id));
    const finished = fresh.filter((e) => {
      const before = known.get(e.id);
      return before && UNFINISHED.has(before.status) && !UNFINISHED.has(e.status);
    });
    this.executions = [...fresh, ...below];
    // Runs already shown below keep the cursor that comes after them.
    this.nextCursor = below.length > 0 ? this.nextCursor : cursor;
    const news: string[] = [];
    if (added.length > 0) news.push(this.t('executions.new', { count: added.length }));
    for (const e of finished) news.push(this.t('executions.finished', { flow: this.#flowLabel(e.flow), status: this.t(`executions.status.${e.status}`) }));
    if (news.length > 0) this.#announce(news.join('. '));
  }

  #needsLogRefresh(executionId: string): boolean {
    const log = this.logs.get(executionId);
    const summary = this.executions.find((e) => e.id === executionId);
    if (!summary || log?.kind === 'loading') return false;
    if (log?.kind !== 'ready') return false;
    return UNFINISHED.has(log.detail.status) || log.detail.status !== summary.status;
  }

  #announce(text: string): void {
    // Cleared first so the same words twice are announced twice.
    this.announcement = '';
    requestAnimationFrame(() => (this.announcement = text));
  }

  async #loadLog(client: PlugClient, executionId: string, showLoading: boolean): Promise<void> {
    this.#logAborts.get(executionId)?.abort();
    const controller = new AbortController();
    this.#logAborts.set(executionId, controller);
    const generation = this.#generation;
    if (showLoading) this.#setLog(executionId, { kind: 'loading' });
    try {
      const detail = await client.execution(executionId, controller.signal);
      if (generation !== this.#generation) return;
      this.#setLog(executionId, { kind: 'ready', detail });
      // The detail may be newer than the list: show its status in the row too.
      this.executions = this.executions.map((e) => (e.id === detail.id ? { ...e, ...summaryOf(detail) } : e));
    } catch (error) {
      if (isAbort(error) || generation !== this.#generation) return;
      // A failed live re-read keeps the lines already shown.
      if (showLoading || this.logs.get(executionId)?.kind !== 'ready') {
        this.#setLog(executionId, { kind: 'error', message: this.describeError(error) });
      }
      this.reportError('load-execution', error);
    } finally {
      if (this.#logAborts.get(executionId) === controller) this.#logAborts.delete(executionId);
    }
  }

  #setLog(executionId: string, log: LogState): void {
    const next = new Map(this.logs);
    next.set(executionId, log);
    this.logs = next;
  }

  #toggle(execution: ExecutionSummary): void {
    const next = new Set(this.expanded);
    if (next.has(execution.id)) {
      next.delete(execution.id);
    } else {
      next.add(execution.id);
      const client = this.apiClient;
      const log = this.logs.get(execution.id);
      if (client && (!log || log.kind === 'error' || (log.kind === 'ready' && log.detail.status !== execution.status))) {
        void this.#loadLog(client, execution.id, true);
      }
    }
    this.expanded = next;
  }

  async #loadOlder(): Promise<void> {
    const client = this.apiClient;
    const id = this.instanceId;
    const cursor = this.nextCursor;
    if (!client || !id || !cursor || this.older.kind === 'loading') return;
    const generation = this.#generation;
    this.older = { kind: 'loading' };
    const controller = (this.#listAbort = new AbortController());
    try {
      const page = await client.executions(id, this.#query(controller.signal, cursor));
      if (generation !== this.#generation) return;
      const shown = new Set(this.executions.map((e) => e.id));
      const added = page.executions.filter((e) => !shown.has(e.id));
      this.executions = [...this.executions, ...added];
      this.nextCursor = page.nextCursor;
      this.older = { kind: 'idle' };
      await this.updateComplete;
      // The button is gone on the last page: keep focus in the list, on the first run it added.
      if (!this.nextCursor && added[0]) this.#toggleButton(added[0].id)?.focus();
    } catch (error) {
      if (isAbort(error) || generation !== this.#generation) return;
      this.older = { kind: 'error', message: this.describeError(error) };
      this.reportError('load-older-executions', error);
    }
  }

  #toggleButton(executionId: string): HTMLButtonElement | null {
    return this.renderRoot.querySelector<HTMLButtonElement>(`li[data-id="${CSS.escape(executionId)}"] > button.toggle`);
  }

  #onFilter = (event: Event): void => {
    const value = (event.target as HTMLSelectElement).value;
    this.status = value === '' ? '' : (value as ExecutionStatus);
  };

  #retry = async (): Promise<void> => {
    // The retry button goes away: put focus somewhere that stays.
    this.renderRoot.querySelector<HTMLSelectElement>('select')?.focus();
    await this.#reload();
  };

  /** Reads the newest runs now (and open logs of unfinished ones), as a live refresh would. */
  refresh(): void {
    if (this.list.kind === 'ready') this.#live.now();
    else void this.#reload();
  }

  // ---------------------------------------------------------------- render

  #formatDuration(ms: number): string {
    const unit = (value: number, u: string, digits = 0) =>
      new Intl.NumberFormat(this.locale, { style: 'unit', unit: u, unitDisplay: 'short', maximumFractionDigits: digits }).format(value);
    if (ms < 1000) return unit(ms, 'millisecond');
    if (ms < 60_000) return unit(ms / 1000, 'second', 1);
    return unit(ms / 60_000, 'minute', 1);
  }

  #formatRelative(iso: string): string {
    const seconds = (Date.parse(iso) - Date.now()) / 1000;
    const abs = Math.abs(seconds);
    const rtf = new Intl.RelativeTimeFormat(this.locale, { numeric: 'auto' });
    if (abs < 45) return rtf.format(Math.round(seconds), 'second');
    if (abs < 45 * 60) return rtf.format(Math.round(seconds / 60), 'minute');
    if (abs < 22 * 3600) return rtf.format(Math.round(seconds / 3600), 'hour');
    if (abs < 7 * 86400) return rtf.format(Math.round(seconds / 86400), 'day');
    return new Intl.DateTimeFormat(this.locale, { dateStyle: 'medium' }).format(new Date(iso));
  }

  #formatAbsolute(iso: string): string {
    return new Intl.DateTimeFormat(this.locale, { dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(iso));
  }

  #formatLineTime(iso: string): string {
    return new Intl.DateTimeFormat(this.locale, { hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3 }).format(new Date(iso));
  }

  #renderBadge(status: ExecutionStatus): TemplateResult {
    return html`<span part="status status-${status}" class="badge" data-status=${status}>${this.t(`executions.status.${status}`)}</span>`;
  }

  /** What the customer calls a flow: its label, never its key. */
  #flowLabel(flow: string): string {
    return this.flows?.find((f) => f.name === flow)?.label ?? keyInWords(flow);
  }

  #renderLine(line: ExecutionLogLine): TemplateResult {
    return html`<li class="line" data-level=${line.level}>
      <span class="level">${this.t(`executions.level.${line.level}`)}</span>
      <time datetime=${line.at}>${this.#formatLineTime(line.at)}</time>
      <span class="message">${line.message}</span>
    </li>`;
  }

  #renderLog(execution: ExecutionSummary): TemplateResult {
    const log = this.logs.get(execution.id);
    const detail = log?.kind === 'ready' ? log.detail : undefined;
    const error = detail?.error ?? execution.error;
    const result = detail?.resultSummary ?? execution.resultSummary;
    let body: TemplateResult;
    if (!log || log.kind === 'loading') {
      body = html`<p class="muted">${this.t('executions.logsLoading')}</p>`;
    } else if (log.kind === 'error') {
      const client = this.apiClient;
      body = html`<p class="alert" role="alert">${this.t('executions.logsError')} ${log.message}</p>
        <button part="button" class="button" type="button" @click=${() => client && void this.#loadLog(client, execution.id, true)}>
          ${this.t('executions.retry')}
        </button>`;
    } else {
      body = html`${
        log.detail.logs.length === 0
          ? html`<p class="muted">${this.t('executions.logsEmpty')}</p>`
          : html`<ol class="lines">${log.detail.logs.map((line) => this.#renderLine(line))}</ol>`
      }
      ${log.detail.logsTruncated ? html`<p part="truncated" class="truncated">${this.t('executions.truncated')}</p>` : nothing}`;
    }
    return html`<div part="log" class="log" id=${domId(execution.id)} role="region" aria-label=${this.t('executions.logs', { flow: this.#flowLabel(execution.flow) })}>
      ${error ? html`<p part="error" class="error-text">${this.t('executions.errorText', { error })}</p>` : nothing}
      ${
        result
          ? html`<details part="details" class="details">
            <summary>${this.t('executions.details')}</summary>
            <pre>${indented(result)}</pre>
          </details>`
          : nothing
      }
      <p class="muted">
        ${this.t('executions.queuedAt', { time: this.#formatAbsolute(execution.queuedAt) })}${
          execution.startedAt ? html` · ${this.t('executions.started', { time: this.#formatAbsolute(execution.startedAt) })}` : nothing
        }
      </p>
      ${body} ${this.runActions?.(execution) ?? nothing}
    </div>`;
  }

  #renderItem(execution: ExecutionSummary): TemplateResult {
    const open = this.expanded.has(execution.id);
    const at = execution.startedAt ?? execution.queuedAt;
    const when = this.t(execution.startedAt ? 'executions.started' : 'executions.queuedAt', { time: this.#formatRelative(at) });
    const summary = resultInWords(execution.resultSummary);
    return html`<li part="item" class="item" data-id=${execution.id} data-status=${execution.status}>
      <button
        part="toggle"
        class="toggle"
        type="button"
        aria-expanded=${open ? 'true' : 'false'}
        aria-controls=${open ? domId(execution.id) : nothing}
        @click=${() => this.#toggle(execution)}
      >
        <span class="chevron" aria-hidden="true"></span>
        <span class="flow">${this.#flowLabel(execution.flow)}</span>
        ${this.#renderBadge(execution.status)}
        <span class="meta">
          ${summary ? html`<span part="summary" class="summary">${summary}</span>` : nothing}
          <span>${this.t(`executions.trigger.${execution.trigger}`)}</span>
          <time datetime=${at} title=${this.#formatAbsolute(at)}>${when}</time>
          ${
            execution.durationMs !== null
              ? html`<span>${this.t('executions.duration', { duration: this.#formatDuration(execution.durationMs) })}</span>`
              : nothing
          }
          ${execution.attempt > 1 ? html`<span>${this.t('executions.attempt', { attempt: execution.attempt })}</span>` : nothing}
        </span>
      </button>
      ${open ? this.#renderLog(execution) : nothing}
    </li>`;
  }

  #renderList(): TemplateResult {
    const list = this.list;
    if (list.kind === 'idle' || list.kind === 'loading') {
      return html`<p class="muted" aria-busy="true">${this.t('executions.loading')}</p>`;
    }
    if (list.kind === 'error') {
      return html`<div class="alert" role="alert">${this.t('executions.error')} ${list.message}</div>
        <div><button part="button" class="button" type="button" @click=${this.#retry}>${this.t('executions.retry')}</button></div>`;
    }
    if (this.executions.length === 0) {
      return html`<p class="muted">${this.t(this.status ? 'executions.emptyFiltered' : 'executions.empty')}</p>`;
    }
    const older = this.older;
    return html`<ul part="list" class="list" aria-label=${this.t('executions.label')}>
        ${this.executions.map((e) => this.#renderItem(e))}
      </ul>
      ${this.refreshFailed ? html`<p class="muted">${this.t('executions.refreshFailed')}</p>` : nothing}
      ${older.kind === 'error' ? html`<p class="alert" role="alert">${older.message}</p>` : nothing}
      ${
        this.nextCursor
          ? html`<div>
            <button
              part="button"
              class="button older"
              type="button"
              aria-disabled=${older.kind === 'loading' ? 'true' : 'false'}
              @click=${() => void this.#loadOlder()}
            >
              ${this.t(older.kind === 'loading' ? 'executions.loadingOlder' : 'executions.loadOlder')}
            </button>
          </div>`
          : nothing
      }`;
  }

  override render() {
    return html`<div class="base" aria-busy=${this.list.kind === 'loading' ? 'true' : 'false'}>
      <div class="toolbar">
        <label for="filter">${this.t('executions.filter')}</label>
        <select id="filter" part="filter" @change=${this.#onFilter}>
          <option value="" .selected=${this.status === ''}>${this.t('executions.filterAll')}</option>
          ${STATUSES.map((s) => html`<option value=${s} .selected=${this.status === s}>${this.t(`executions.status.${s}`)}</option>`)}
        </select>
      </div>
      ${this.#renderList()}
      <div class="visually-hidden" role="status" aria-live="polite">${this.announcement}</div>
    </div>`;
  }
}

/** The summary fields of a detail (the list rows show these). */
function summaryOf(detail: ExecutionDetail): ExecutionSummary {
  const { logs: _logs, logsTruncated: _truncated, ...summary } = detail;
  return summary;
}

/** The raw result as stored (compact JSON, cut at a size limit), indented when it parses, so it wraps into readable lines. */
function indented(result: string): string {
  try {
    return JSON.stringify(JSON.parse(result), null, 2);
  } catch {
    return result;
  }
}
