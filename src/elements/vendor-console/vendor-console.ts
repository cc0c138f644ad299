import { Task, initialState } from '@lit/task';
import { html, nothing, type PropertyDeclarations, type PropertyValues } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type {
  AlertType,
  CustomerSummary,
  ExecutionSummary,
  FlowSpec,
  Instance,
  InstanceStatus,
  IntegrationSummary,
  IntegrationVersions,
  UpgradeJob,
  UpgradeJobList,
  VendorAlert,
  VendorAlertList,
  VendorStaff,
} from '../../protocol/index.js';
import { isApiError, type PlugClient } from '../../client/index.js';
import { createVendorConsoleClient, type VendorConsoleClient } from '../../client/vendor.js';
import { PlugApiElement } from '../base/api-element.js';
import { addEnglish, connectionStatusText, type StringKey } from '../i18n.js';
import { consoleEn } from '../console-strings.js';
import { loadDetailElements } from '../detail-loader.js';
import { badgeStyles, renderStatusBadge } from '../instance-status/status-badge.js';
import { buttonStyles, skeletonStyles } from '../marketplace/marketplace.styles.js';
import { tokens } from '../themes/tokens.js';
import { vendorConsoleStyles } from './vendor-console.styles.js';

addEnglish(consoleEn);

/** Customers per page of the list. */
const PAGE = 25;
/** Quiet time after a keystroke before the search asks the server. */
const SEARCH_DELAY_MS = 250;
/** How often a running bulk upgrade's progress is read. */
const JOB_POLL_MS = 1000;
/** Past bulk jobs per page of the Versions view's "Recent jobs". */
const JOBS_PAGE = 10;

interface CustomerPage {
  customers: CustomerSummary[];
  nextCursor: string | null;
}

interface AlertFilters {
  type?: AlertType;
  status?: InstanceStatus;
  integration?: string;
  /** A day (`YYYY-MM-DD`, the date input's value): alerts from its start, local time. */
  since?: string;
}

/** Each alert type's string. */
const ALERT_WORDS: Record<AlertType, StringKey> = {
  'execution.failed': 'console.alert.executionFailed',
  'instance.error': 'console.alert.instanceError',
  'instance.recovered': 'console.alert.instanceRecovered',
  'instance.activated': 'console.alert.instanceActivated',
  'instance.paused': 'console.alert.instancePaused',
  'instance.deleted': 'console.alert.instanceDeleted',
};
const STATUSES: InstanceStatus[] = ['active', 'error', 'paused', 'draft'];

interface CustomerView {
  integrations: IntegrationSummary[];
  instances: Map<string, Instance>;
}

type View = 'customers' | 'alerts' | 'versions';
const HEADINGS: Record<View, StringKey> = { customers: 'console.title', alerts: 'console.alertsTitle', versions: 'console.versionsTitle' };

/** A row's version change: asked (confirm), then running (busy), or refused (the problem shown in the row). */
interface VersionChange {
  key: string;
  action: 'upgrade' | 'rollback';
  state: 'confirm' | 'busy' | 'failed';
  detail?: string;
  errors?: { path: string; message: string }[];
}

/** A job of the list as the list has it (no outcomes). */
type ListedJob = UpgradeJobList['jobs'][number];

/** A past job's failures, read when its "Failures" is opened: the job with its outcomes, or why it could not be read. */
type JobDetail = { job: UpgradeJob } | { error: string };

/** A bulk upgrade of one integration in the Versions view: asked (confirm), then its job as last read. */
interface BulkUpgrade {
  customer: string;
  job?: UpgradeJob;
  /** Reading its progress, or starting its rollback, failed: why. */
  lost?: string;
  /** "Roll back this job" was pressed: asked first. */
  confirmRollback?: boolean;
}

/**
 * @customElement plug-vendor-console
 * @summary The vendor's console for its own staff: find a customer (search, pages), see its
 * integrations with status, connection health, last error and the version each runs, their runs
 * and logs (retry, run again), alerts across customers, and set up, configure, connect, activate,
 * pause, update, roll back or delete them on the customer's behalf; the Versions view upgrades
 * every instance of an integration (or one customer's) and follows the job. Takes a vendor token
 * (`role: "vendor"`); a `vendor_role: "viewer"` token sees no actions (the server refuses them
 * anyway). Its own entry, `plugboard-console.js`, which no customer's page loads: a script tag, or
 * `await loadVendorConsole()` from `plugboard.js`.
 *
 * @event {CustomEvent<ErrorEventDetail>} plug-error - A load or an action failed.
 * @event {CustomEvent<InstanceEventDetail>} plug-instance-activated - Staff activated an instance (also the dialog's instance events).
 * @event {CustomEvent<InstanceEventDetail>} plug-instance-paused - Staff paused an instance.
 * @event {CustomEvent<InstanceDeletedDetail>} plug-instance-deleted - Staff deleted an instance.
 *
 * @csspart header - The bar with the title and who is signed in.
 * @csspart customers - The customer list with its search.
 * @csspart search - The customer search input.
 * @csspart customer - Each customer in the list.
 * @csspart detail - The selected customer's integrations.
 * @csspart alerts - The alerts view: its filters and list.
 * @csspart versions - The Versions view: each integration's loaded versions and bulk upgrade.
 * @csspart job - A bulk upgrade's progress, counts and failures.
 * @csspart progress - The bulk upgrade's progress bar.
 * @csspart row - Each integration of the selected customer.
 * @csspart button - Buttons.
 * @csspart message - Loading, empty and error messages.
 * @csspart dialog - The integration dialog (forwarded) staff manage an instance in.
 *
 * @cssproperty --plug-console-list-width - Width of the customer list beside the detail (default 20rem).
 * @cssproperty --plug-color-primary - Brand color (every `--plug-color-*`, `--plug-space-*`, `--plug-radius-*`, `--plug-font-*` token applies).
 */
export class PlugVendorConsole extends PlugApiElement {
  static override styles = [tokens, buttonStyles, skeletonStyles, badgeStyles, vendorConsoleStyles];
  // `static properties`, not decorators: see PlugApiElement.
  static override properties: PropertyDeclarations = {
    typed: { state: true },
    query: { state: true },
    more: { state: true },
    loadingMore: { state: true },
    selected: { state: true },
    openKey: { state: true },
    runsOf: { state: true },
    runFlows: { state: true },
    confirming: { state: true },
    busy: { state: true },
    notice: { state: true },
    view: { state: true },
    change: { state: true },
    bulk: { state: true },
    alertFilters: { state: true },
    olderAlerts: { state: true },
    copied: { state: true },
    olderJobs: { state: true },
    jobDetails: { state: true },
    jobRollback: { state: true },
    customerLink: { attribute: 'customer-link' },
  };

  #vendor: { key: unknown[]; client: VendorConsoleClient } | undefined;
  #customerClients = new Map<string, PlugClient>();
  #searchTimer: ReturnType<typeof setTimeout> | undefined;
  #jobTimers = new Set<ReturnType<typeof setTimeout>>();
  #jobsTimer: ReturnType<typeof setTimeout> | undefined;

  declare private typed: string;
  declare private query: string;
  /** Pages loaded after the first ("Load more"). */
  declare private more: CustomerPage | undefined;
  declare private loadingMore: boolean;
  declare private selected: CustomerSummary | undefined;
  declare private openKey: string | undefined;
  declare private runsOf: string | undefined;
  declare private runFlows: FlowSpec[] | undefined;
  declare private confirming: string | undefined;
  declare private busy: string | undefined;
  declare private notice: string;
  declare private view: View;
  declare private change: VersionChange | undefined;
  /** By integration key: the bulk upgrades asked for or running in the Versions view. */
  declare private bulk: ReadonlyMap<string, BulkUpgrade>;
  declare private alertFilters: AlertFilters;
  /** Older pages of alerts ("Load older alerts"). */
  declare private olderAlerts: VendorAlertList | undefined;
  declare private copied: string;
  /** Older pages of the Versions view's recent jobs ("Load more jobs"). */
  declare private olderJobs: UpgradeJobList | undefined;
  /** By job id: the past jobs whose failures were opened. */
  declare private jobDetails: ReadonlyMap<string, JobDetail>;
  /** A past job whose "Roll back this job" was pressed (asked first), or whose rollback was refused. */
  declare private jobRollback: { jobId: string; error?: string } | undefined;

  /**
   * A link to your own app where a customer connects an integration themselves (an OAuth sign-in
   * only the customer can do). `{customer}` (your id of the customer) and `{integration}` (its key)
   * are filled in. Without it the console tells staff to ask the customer.
   */
  declare customerLink: string | undefined;

  constructor() {
    super();
    this.typed = '';
    this.query = '';
    this.loadingMore = false;
    this.notice = '';
    this.view = 'customers';
    this.bulk = new Map();
    this.alertFilters = {};
    this.copied = '';
    this.jobDetails = new Map();
  }

  #staff = new Task(this, {
    task: async ([client], { signal }): Promise<VendorStaff | typeof initialState> => (client ? client.me(signal) : initialState),
    args: () => [this.vendorClient] as const,
  });

  #firstPage = new Task(this, {
    task: async ([client, q], { signal }): Promise<CustomerPage | typeof initialState> => {
      if (!client) return initialState;
      try {
        return await client.customers({ q: q || undefined, limit: PAGE, signal });
      } catch (error) {
        this.reportError('load-customers', error);
        throw error;
      }
    },
    args: () => [this.vendorClient, this.query] as const,
  });

  #customer = new Task(this, {
    task: async ([client, customer], { signal }): Promise<CustomerView | typeof initialState> => {
      if (!client || !customer) return initialState;
      try {
        const scoped = this.#clientFor(customer.id);
        const [{ integrations }, { instances }] = await Promise.all([scoped.catalog(signal), scoped.instances(signal)]);
        return { integrations, instances: new Map(instances.map((i) => [i.integrationKey, i])) };
      } catch (error) {
        this.reportError('load-customer', error);
        throw error;
      }
    },
    args: () => [this.vendorClient, this.selected] as const,
  });

  #alerts = new Task(this, {
    task: async ([client, view, filters], { signal }): Promise<VendorAlertList | typeof initialState> => {
      if (!client || view !== 'alerts') return initialState;
      try {
        return await client.alerts({ ...this.#alertQuery(filters), limit: PAGE, signal });
      } catch (error) {
        this.reportError('load-alerts', error);
        throw error;
      }
    },
    args: () => [this.vendorClient, this.view, this.alertFilters] as const,
  });

  #versions = new Task(this, {
    task: async ([client, view], { signal }): Promise<IntegrationVersions | typeof initialState> => {
      if (!client || !view) return initialState;
      try {
        return await client.integrationVersions(signal);
      } catch (error) {
        this.reportError('load-versions', error);
        throw error;
      }
    },
    // The Alerts view's integration filter lists them too: read once for both views.
    args: () => [this.vendorClient, this.view !== 'customers'] as const,
  });

  #jobs = new Task(this, {
    task: async ([client, view], { signal }): Promise<UpgradeJobList | typeof initialState> => {
      clearTimeout(this.#jobsTimer);
      if (!client || view !== 'versions') return initialState;
      try {
        const page = await client.upgradeJobs({ limit: JOBS_PAGE, signal });
        // A job running (started here or elsewhere) shows its progress: read the list again until none runs.
        if (page.jobs.some((j) => j.status === 'running')) this.#jobsTimer = setTimeout(() => void this.#jobs.run(), JOB_POLL_MS);
        return page;
      } catch (error) {
        this.reportError('load-upgrades', error);
        throw error;
      }
    },
    args: () => [this.vendorClient, this.view] as const,
  });

  /** The vendor API client for this element's `api` and token, or undefined until both are set. */
  private get vendorClient(): VendorConsoleClient | undefined {
    if (!this.api || (!this.token && !this.getToken)) return undefined;
    const key = [this.api, this.token, this.getToken];
    if (!this.#vendor || this.#vendor.key.some((k, i) => k !== key[i])) {
      this.#vendor = { key, client: createVendorConsoleClient({ api: this.api, token: this.token, getToken: this.getToken }) };
      this.#customerClients.clear();
    }
    return this.#vendor.client;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    for (const name of ['plug-instance-created', 'plug-config-saved', 'plug-instance-activated', 'plug-instance-paused', 'plug-instance-deleted'] as const) {
      this.addEventListener(name, this.#onChanged);
    }
    for (const [key, bulk] of this.bulk) if (bulk.job?.status === 'running') this.#pollLater(key, bulk.job.id);
    if (this.#jobs.value?.jobs.some((j) => j.status === 'running')) void this.#jobs.run();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.#searchTimer);
    clearTimeout(this.#jobsTimer);
    for (const timer of this.#jobTimers) clearTimeout(timer);
    this.#jobTimers.clear();
    for (const name of ['plug-instance-created', 'plug-config-saved', 'plug-instance-activated', 'plug-instance-paused', 'plug-instance-deleted'] as const) {
      this.removeEventListener(name, this.#onChanged);
    }
  }

  override willUpdate(changed: PropertyValues): void {
    super.willUpdate(changed);
    if (changed.has('query')) this.more = undefined;
    if (changed.has('alertFilters')) this.olderAlerts = undefined;
    if (changed.has('view')) {
      this.olderJobs = undefined;
      this.jobRollback = undefined;
    }
  }

  #alertQuery(filters: AlertFilters) {
    const since = filters.since ? new Date(`${filters.since}T00:00:00`) : undefined;
    return {
      type: filters.type,
      status: filters.status,
      integration: filters.integration || undefined,
      since: since && !Number.isNaN(since.getTime()) ? since.toISOString() : undefined,
    };
  }

  #filter(change: Partial<AlertFilters>): void {
    this.alertFilters = { ...this.alertFilters, ...change };
  }

  #loadOlderAlerts(cursor: string): Promise<void> {
    return this.#loadNextPage('load-alerts', async (client) => {
      const page = await client.alerts({ ...this.#alertQuery(this.alertFilters), cursor, limit: PAGE });
      this.olderAlerts = { alerts: [...(this.olderAlerts?.alerts ?? []), ...page.alerts], nextCursor: page.nextCursor };
    });
  }

  /** "Load more" of any list: one page at a time, a failure said in the toast. */
  async #loadNextPage(action: string, load: (client: VendorConsoleClient) => Promise<void>): Promise<void> {
    const client = this.vendorClient;
    if (!client) return;
    this.loadingMore = true;
    try {
      await load(client);
    } catch (error) {
      this.reportError(action, error);
      this.notice = this.describeError(error);
    } finally {
      this.loadingMore = false;
    }
  }

  /** From an alert to its customer's integrations. */
  #openCustomerOf(alert: VendorAlert): void {
    const { id, externalId, name } = alert.customer;
    this.view = 'customers';
    this.#select({ id, externalId: externalId ?? id, name, createdAt: alert.at, instanceCount: 0 });
  }

  /** Retry (a failed run) or run again (any finished run), from an open run of a row's runs. */
  #runActions = (execution: ExecutionSummary) => {
    if (!this.#canAct || execution.status === 'queued' || execution.status === 'running') return nothing;
    const failed = execution.status === 'failed' || execution.status === 'timed_out';
    return html`<p class="run-actions">
      ${
        failed
          ? html`<button part="button" class="button" type="button" @click=${() => this.#runAgain(execution, 'retry')}>${this.t('console.retryRun')}</button>`
          : nothing
      }
      <button part="button" class="button" type="button" @click=${() => this.#runAgain(execution, 'rerun')}>${this.t('console.rerun')}</button>
    </p>`;
  };

  async #runAgain(execution: ExecutionSummary, how: 'retry' | 'rerun'): Promise<void> {
    const client = this.vendorClient;
    if (!client) return;
    const flow = this.runFlows?.find((f) => f.name === execution.flow)?.label ?? execution.flow;
    try {
      await client.runAgain(execution.id, how);
      this.notice = this.t('console.rerunQueued', { flow });
    } catch (error) {
      this.reportError(`${how}-execution`, error);
      this.notice = this.t('console.actionFailed', { integration: flow, error: this.describeError(error) });
    }
  }

  #clientFor(customerId: string): PlugClient {
    let client = this.#customerClients.get(customerId);
    if (!client) {
      client = this.vendorClient!.forCustomer(customerId);
      this.#customerClients.set(customerId, client);
    }
    return client;
  }

  get #canAct(): boolean {
    const staff = this.#staff.value;
    return staff !== undefined && staff.vendorRole !== 'viewer';
  }

  /** Something changed an instance (the dialog or a quick action): read the customer again. */
  #onChanged = (): void => {
    void this.#customer.run();
  };

  #onSearch(value: string): void {
    this.typed = value;
    clearTimeout(this.#searchTimer);
    this.#searchTimer = setTimeout(() => (this.query = value.trim()), SEARCH_DELAY_MS);
  }

  #loadMore(cursor: string): Promise<void> {
    return this.#loadNextPage('load-customers', async (client) => {
      const page = await client.customers({ q: this.query || undefined, cursor, limit: PAGE });
      this.more = { customers: [...(this.more?.customers ?? []), ...page.customers], nextCursor: page.nextCursor };
    });
  }

  #select(customer: CustomerSummary | undefined): void {
    this.selected = customer;
    this.openKey = undefined;
    this.runsOf = undefined;
    this.confirming = undefined;
    this.change = undefined;
    this.notice = '';
  }

  async #open(key: string): Promise<void> {
    try {
      await loadDetailElements();
    } catch (error) {
      this.reportError('open-integration', error);
      return;
    }
    this.openKey = key;
  }

  async #toggleRuns(integrationKey: string, instanceId: string): Promise<void> {
    if (this.runsOf === instanceId) {
      this.runsOf = undefined;
      return;
    }
    try {
      // The flows' labels name the runs as the customer's dialog does.
      const [, detail] = await Promise.all([loadDetailElements(), this.#clientFor(this.selected!.id).integration(integrationKey)]);
      this.runFlows = detail.flows;
    } catch (error) {
      this.reportError('load-runs', error);
      this.notice = this.describeError(error);
      return;
    }
    this.runsOf = instanceId;
  }

  /** A quick action on a row: activate, pause or delete, then the customer is read again. */
  async #act(integration: IntegrationSummary, instance: Instance, action: 'activate' | 'pause' | 'delete'): Promise<void> {
    const client = this.#clientFor(this.selected!.id);
    this.busy = integration.key;
    this.notice = '';
    try {
      if (action === 'delete') {
        await client.deleteInstance(instance.id);
        this.confirming = undefined;
        if (this.runsOf === instance.id) this.runsOf = undefined;
        this.notice = this.t('console.deleted', { integration: integration.name });
        this.emit('plug-instance-deleted', { detail: { instanceId: instance.id, integrationKey: integration.key } });
      } else {
        const updated = action === 'activate' ? await client.activate(instance.id) : await client.pause(instance.id);
        this.notice = this.t('console.done', { integration: integration.name, status: this.t(`status.${updated.status}`) });
        this.emit(action === 'activate' ? 'plug-instance-activated' : 'plug-instance-paused', { detail: { instance: updated } });
      }
    } catch (error) {
      this.reportError(`${action}-instance`, error);
      this.notice = this.t('console.actionFailed', { integration: integration.name, error: this.describeError(error) });
    } finally {
      this.busy = undefined;
      void this.#customer.run();
    }
  }

  /** Update to the current version or roll back to the previous one, asked first; a refusal stays in the row with its field errors. */
  async #changeVersion(integration: IntegrationSummary, instance: Instance, action: VersionChange['action']): Promise<void> {
    const client = this.vendorClient;
    if (!client) return;
    const key = integration.key;
    this.change = { key, action, state: 'busy' };
    this.notice = '';
    try {
      const changed =
        action === 'upgrade' ? await client.upgradeInstance(instance.id, { version: instance.version }) : await client.rollbackInstance(instance.id);
      this.change = undefined;
      const version = changed.integrationVersion ?? '';
      this.notice = this.t(action === 'upgrade' ? 'console.upgraded' : 'console.rolledBack', { integration: integration.name, version });
    } catch (error) {
      this.reportError(`${action}-instance`, error);
      this.change = { key, action, state: 'failed', detail: this.describeError(error), errors: isApiError(error) ? error.errors : [] };
      this.notice = this.t('console.versionFailed', {
        integration: integration.name,
        version: instance.integrationVersion ?? integration.version,
        error: this.describeError(error),
      });
    } finally {
      await this.#customer.run();
      // The button pressed went away with the confirmation: focus goes back to the row's first action.
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLElement>(`.row[data-key="${CSS.escape(key)}"] .actions .button`)?.focus();
    }
  }

  #setBulk(key: string, bulk: BulkUpgrade | undefined): void {
    const next = new Map(this.bulk);
    if (bulk) next.set(key, bulk);
    else next.delete(key);
    this.bulk = next;
  }

  async #startBulk(key: string, version: string): Promise<void> {
    const client = this.vendorClient;
    const asked = this.bulk.get(key);
    if (!client || !asked) return;
    const customer = asked.customer.trim();
    try {
      const job = await client.startBulkUpgrade(key, { to: version, ...(customer ? { customer } : {}) });
      this.#setBulk(key, { customer, job });
      this.notice = this.t('console.jobStarted', { integration: this.#nameOf(key), version });
      this.#pollLater(key, job.id);
      void this.#jobs.run();
    } catch (error) {
      this.reportError('start-upgrade', error);
      this.#setBulk(key, { customer, lost: this.describeError(error) });
    }
  }

  #pollLater(key: string, jobId: string): void {
    const timer = setTimeout(() => {
      this.#jobTimers.delete(timer);
      void this.#poll(key, jobId);
    }, JOB_POLL_MS);
    this.#jobTimers.add(timer);
  }

  async #poll(key: string, jobId: string): Promise<void> {
    const client = this.vendorClient;
    if (!client || this.bulk.get(key)?.job?.id !== jobId) return;
    try {
      const job = await client.upgradeJob(jobId);
      this.#setBulk(key, { customer: this.bulk.get(key)?.customer ?? '', job });
      if (job.status === 'running') return this.#pollLater(key, jobId);
      this.notice = this.#jobText(job);
      void this.#versions.run();
      void this.#jobs.run();
    } catch (error) {
      this.reportError('read-upgrade', error);
      const bulk = this.bulk.get(key);
      if (bulk) this.#setBulk(key, { ...bulk, lost: this.t('console.jobLost', { error: this.describeError(error) }) });
    }
  }

  async #rollbackJob(key: string, jobId: string): Promise<void> {
    const client = this.vendorClient;
    const bulk = this.bulk.get(key);
    if (!client || !bulk) return;
    try {
      const job = await client.rollbackJob(jobId);
      this.#setBulk(key, { customer: bulk.customer, job });
      this.notice = this.t('console.jobRollbackStarted', { integration: this.#nameOf(key) });
      this.#pollLater(key, job.id);
      void this.#jobs.run();
    } catch (error) {
      this.reportError('rollback-upgrade', error);
      this.#setBulk(key, { ...bulk, confirmRollback: false, lost: this.describeError(error) });
    }
  }

  /** What a job has done: its progress while it runs, its counts once finished. */
  #jobText(job: ListedJob): string {
    const { done, total, upgraded, rolledBack = 0, failed, skipped } = job;
    const counts = { integration: this.#nameOf(job.integrationKey), done, total, upgraded, rolledBack, failed, skipped };
    if (job.kind === 'rollback') return this.t(job.status === 'running' ? 'console.jobRollingBack' : 'console.jobRolledBack', counts);
    return this.t(job.status === 'running' ? 'console.jobRunning' : 'console.jobFinished', { ...counts, version: job.to });
  }

  /** An integration's name, from the versions loaded (its key until they are read, or once it is gone). */
  #nameOf(key: string): string {
    return this.#versions.value?.integrations.find((i) => i.key === key)?.name ?? key;
  }

  /** A past job's failures were opened: its outcomes are read once. */
  async #readJobDetail(jobId: string): Promise<void> {
    const client = this.vendorClient;
    if (!client || this.jobDetails.has(jobId)) return;
    let detail: JobDetail;
    try {
      detail = { job: await client.upgradeJob(jobId) };
    } catch (error) {
      this.reportError('read-upgrade', error);
      detail = { error: this.t('console.jobLost', { error: this.describeError(error) }) };
    }
    this.jobDetails = new Map(this.jobDetails).set(jobId, detail);
  }

  #loadOlderJobs(cursor: string): Promise<void> {
    return this.#loadNextPage('load-upgrades', async (client) => {
      const page = await client.upgradeJobs({ cursor, limit: JOBS_PAGE });
      this.olderJobs = { jobs: [...(this.olderJobs?.jobs ?? []), ...page.jobs], nextCursor: page.nextCursor };
    });
  }

  /** "Roll back this job" on a past job, confirmed: the rollback is followed in its integration's row like one started there. */
  async #rollbackPastJob(job: ListedJob): Promise<void> {
    const client = this.vendorClient;
    if (!client) return;
    try {
      const rollback = await client.rollbackJob(job.id);
      this.jobRollback = undefined;
      this.#setBulk(job.integrationKey, { customer: job.customer ?? '', job: rollback });
      this.notice = this.t('console.jobRollbackStarted', { integration: this.#nameOf(job.integrationKey) });
      this.#pollLater(job.integrationKey, rollback.id);
      void this.#jobs.run();
    } catch (error) {
      this.reportError('rollback-upgrade', error);
      this.jobRollback = { jobId: job.id, error: this.describeError(error) };
    }
  }

  /** A question replaced the button pressed: focus goes to its "Cancel", so the keyboard stays in place. */
  #focusQuestion(): void {
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('.version-confirm .keep')?.focus());
  }

  async #copy(link: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(link);
      this.copied = this.t('console.copied');
    } catch {
      this.copied = this.t('console.copyFailed');
    }
  }

  #linkFor(integrationKey: string): string | undefined {
    if (!this.customerLink || !this.selected) return undefined;
    return this.customerLink
      .replace(/\{customer\}/g, encodeURIComponent(this.selected.externalId))
      .replace(/\{integration\}/g, encodeURIComponent(integrationKey));
  }

  /** Reloads the customer list and the selected customer. */
  reload(): void {
    this.more = undefined;
    void this.#firstPage.run();
    if (this.selected) void this.#customer.run();
  }

  #renderHeader() {
    const staff = this.#staff.value;
    const tab = (view: View, key: StringKey) =>
      html`<button part="button" class="button quiet view" type="button" aria-current=${this.view === view ? 'page' : 'false'} @click=${() => (this.view = view)}>
        ${this.t(key)}
      </button>`;
    return html`<header part="header" class="header">
      <h2 id="console-heading" class="visually-hidden">${this.t(HEADINGS[this.view])}</h2>
      <nav class="views" aria-label=${this.t('console.views')}>
        ${tab('customers', 'console.viewCustomers')} ${tab('alerts', 'console.viewAlerts')} ${tab('versions', 'console.viewVersions')}
      </nav>
      ${
        staff
          ? html`<span class="staff">
            <span>${this.t('console.signedInAs', { name: staff.name ?? staff.sub })}</span>
            <span class="role" data-role=${staff.vendorRole}>${this.t(`console.role.${staff.vendorRole}`)}</span>
          </span>`
          : nothing
      }
    </header>`;
  }

  #renderCustomers() {
    const list = (page: CustomerPage) => {
      const customers = this.more ? [...page.customers, ...this.more.customers] : page.customers;
      const cursor = this.more ? this.more.nextCursor : page.nextCursor;
      if (customers.length === 0) {
        return html`<p part="message" class="message">${this.query ? this.t('console.emptySearch', { query: this.query }) : this.t('console.empty')}</p>`;
      }
      return html`<ul class="customer-list">
          ${repeat(
            customers,
            (c) => c.id,
            (c) =>
              html`<li>
                <button
                  part="customer"
                  class="customer"
                  type="button"
                  aria-current=${this.selected?.id === c.id ? 'true' : 'false'}
                  @click=${() => this.#select(c)}
                >
                  <span class="customer-name">${c.name ?? c.externalId}</span>
                  <span class="customer-meta"><span class="mono">${c.externalId}</span> · ${this.t('console.instanceCount', { count: c.instanceCount })}</span>
                </button>
              </li>`,
          )}
        </ul>
        ${this.#renderMore(cursor, this.loadingMore ? this.t('console.loadingMore') : this.t('console.more'), (next) => this.#loadMore(next))}`;
    };
    const loading = html`<ul class="customer-list" aria-busy="true" aria-label=${this.t('console.loading')}>
      ${[0, 1, 2, 3].map(() => html`<li class="skeleton"></li>`)}
    </ul>`;
    return html`<section part="customers" class="customers" aria-labelledby="console-heading">
      <input
        part="search"
        class="search"
        type="search"
        aria-label=${this.t('console.searchLabel')}
        placeholder=${this.t('console.search')}
        .value=${this.typed}
        @input=${(e: Event) => this.#onSearch((e.target as HTMLInputElement).value)}
      />
      ${this.#firstPage.render({
        initial: () => loading,
        pending: () => (this.#firstPage.value ? list(this.#firstPage.value) : loading),
        complete: (page) => list(page),
        error: (error) => html`<div part="message" class="message error" role="alert">
          <p>${this.t('console.error')} ${this.describeError(error)}</p>
          <button part="button" class="button" type="button" @click=${() => this.reload()}>${this.t('console.retry')}</button>
        </div>`,
      })}
    </section>`;
  }

  /** What a task reads: `loading` until its first answer, the last answer while it reads again, its error with "Try again". */
  #renderRead<T>(task: Task<readonly unknown[], T | typeof initialState>, loading: unknown, failed: string, show: (value: T) => unknown) {
    return task.render({
      initial: () => loading,
      pending: () => (task.value === undefined || task.value === initialState ? loading : show(task.value)),
      complete: (value) => (value === initialState ? loading : show(value)),
      error: (error) => html`<div part="message" class="message error" role="alert">
        <p>${failed} ${this.describeError(error)}</p>
        <button part="button" class="button" type="button" @click=${() => void task.run()}>${this.t('console.retry')}</button>
      </div>`,
    });
  }

  /** "Load more" under a paged list, while it has a next page. */
  #renderMore(cursor: string | null, label: string, load: (cursor: string) => Promise<void>) {
    if (!cursor) return nothing;
    return html`<button part="button" class="button more" type="button" ?disabled=${this.loadingMore} @click=${() => load(cursor)}>${label}</button>`;
  }

  #renderConnections(instance: Instance | undefined) {
    if (!instance) return nothing;
    if (instance.connections.length === 0) return html`<span class="muted">${this.t('console.noConnections')}</span>`;
    return html`<ul class="connections" aria-label=${this.t('console.connections')}>
      ${instance.connections.map(
        (c) =>
          html`<li class="connection" data-status=${c.status}>
            <span class="dot" aria-hidden="true"></span><span class="connection-label">${c.label ?? c.name}</span>
            <span>${connectionStatusText((key, vars) => this.t(key, vars), c.status, c.accountName)}</span>
          </li>`,
      )}
    </ul>`;
  }

  #renderLink(integration: IntegrationSummary, instance: Instance) {
    const waiting = instance.connections.filter((c) => c.kind === 'oauth2' && c.status !== 'connected');
    if (!this.#canAct || waiting.length === 0) return nothing;
    const link = this.#linkFor(integration.key);
    const provider = waiting.map((c) => c.label ?? c.name).join(', ');
    return html`<details class="send-link">
      <summary>${this.t('console.sendLink')}</summary>
      ${
        link
          ? html`<p>${this.t('console.linkHelp', { provider })}</p>
            <div class="link-row">
              <input class="link" type="text" readonly aria-label=${this.t('console.sendLink')} .value=${link} />
              <button part="button" class="button" type="button" @click=${() => this.#copy(link)}>${this.t('console.copy')}</button>
            </div>
            <p class="muted" role="status">${this.copied}</p>`
          : html`<p>${this.t('console.linkNone', { provider })}</p>`
      }
    </details>`;
  }

  #renderActions(integration: IntegrationSummary, instance: Instance | undefined) {
    if (!this.#canAct) return nothing;
    const busy = this.busy === integration.key;
    if (!instance) {
      if (integration.entitled === false) return nothing;
      return html`<div class="actions">
        <button part="button" class="button primary" type="button" @click=${() => this.#open(integration.key)}>${this.t('console.deploy')}</button>
      </div>`;
    }
    if (this.confirming === integration.key) {
      return html`<div class="actions confirm" role="alert">
        <p>${this.t('console.deleteConfirm', { integration: integration.name, customer: this.selected?.name ?? this.selected?.externalId ?? '' })}</p>
        <button part="button" class="button keep" type="button" ?disabled=${busy} @click=${() => (this.confirming = undefined)}>
          ${this.t('console.deleteCancel')}
        </button>
        <button part="button" class="button danger primary" type="button" ?disabled=${busy} @click=${() => this.#act(integration, instance, 'delete')}>
          ${this.t('console.delete')}
        </button>
      </div>`;
    }
    const change = this.change?.key === integration.key ? this.change : undefined;
    if (change?.state === 'confirm') return this.#renderVersionConfirm(integration, instance, change.action);
    const canActivate = (instance.status === 'draft' || instance.status === 'paused') && instance.blockers.length === 0 && integration.entitled !== false;
    const changing = change?.state === 'busy' ? change.action : undefined;
    const versionButton = (action: VersionChange['action'], label: string, busyLabel: string) =>
      html`<button
        part="button"
        class=${action === 'upgrade' ? 'button primary' : 'button'}
        type="button"
        aria-busy=${changing === action ? 'true' : 'false'}
        ?disabled=${busy || !!changing}
        @click=${() => {
          this.change = { key: integration.key, action, state: 'confirm' };
          this.#focusQuestion();
        }}
      >
        ${changing === action ? busyLabel : label}
      </button>`;
    return html`<div class="actions">
      <button part="button" class="button" type="button" @click=${() => this.#open(integration.key)}>${this.t('console.manage')}</button>
      ${instance.update ? versionButton('upgrade', this.t('console.update'), this.t('console.updating')) : nothing}
      ${
        instance.previousVersion
          ? versionButton('rollback', this.t('console.rollback', { version: instance.previousVersion }), this.t('console.rollingBack'))
          : nothing
      }
      ${
        canActivate
          ? html`<button part="button" class="button primary" type="button" ?disabled=${busy} @click=${() => this.#act(integration, instance, 'activate')}>
            ${this.t('console.activate')}
          </button>`
          : nothing
      }
      ${
        instance.status === 'active' || instance.status === 'error'
          ? html`<button part="button" class="button" type="button" ?disabled=${busy} @click=${() => this.#act(integration, instance, 'pause')}>
            ${this.t('console.pause')}
          </button>`
          : nothing
      }
      <button part="button" class="button danger" type="button" ?disabled=${busy} @click=${() => (this.confirming = integration.key)}>
        ${this.t('console.delete')}
      </button>
    </div>`;
  }

  #renderVersionConfirm(integration: IntegrationSummary, instance: Instance, action: VersionChange['action']) {
    const customer = this.selected?.name ?? this.selected?.externalId ?? '';
    const from = instance.integrationVersion ?? integration.version;
    const question =
      action === 'upgrade'
        ? this.t('console.updateConfirm', { integration: integration.name, customer, from, version: instance.update?.version ?? integration.version })
        : this.t('console.rollbackConfirm', { integration: integration.name, customer, version: instance.previousVersion ?? '' });
    return html`<div class="actions confirm version-confirm" role="alert">
      <p>${question}</p>
      <button part="button" class="button keep" type="button" @click=${() => (this.change = undefined)}>${this.t('console.cancel')}</button>
      <button part="button" class="button primary" type="button" @click=${() => this.#changeVersion(integration, instance, action)}>
        ${action === 'upgrade' ? this.t('console.update') : this.t('console.rollback', { version: instance.previousVersion ?? '' })}
      </button>
    </div>`;
  }

  /** What a newer version brings (the changelog), and why the last update or rollback was refused. */
  #renderUpdate(integration: IntegrationSummary, instance: Instance) {
    const update = instance.update;
    const failed = this.change?.key === integration.key && this.change.state === 'failed' ? this.change : undefined;
    if (!update && !failed) return nothing;
    return html`${
      update
        ? html`<div class="update">
          <p class="update-title">${this.t('console.updateAvailable', { version: update.version })}</p>
          ${
            update.changelog.length
              ? html`<details class="changelog">
                <summary>${this.t('console.changelog')}</summary>
                <ul>
                  ${update.changelog.map((entry) => html`<li><span class="mono">${this.t('console.version', { version: entry.version })}</span> ${entry.notes}</li>`)}
                </ul>
              </details>`
              : nothing
          }
          ${this.#canAct ? nothing : html`<p class="muted">${this.t('console.rolesNeeded')}</p>`}
        </div>`
        : nothing
    }
    ${
      failed
        ? html`<div class="version-error" role="alert">
          <p>${failed.detail}</p>
          ${failed.errors?.length ? html`<ul>${failed.errors.map((e) => html`<li><span class="mono">${e.path}</span>: ${e.message}</li>`)}</ul>` : nothing}
        </div>`
        : nothing
    }`;
  }

  #renderRow(integration: IntegrationSummary, instance: Instance | undefined) {
    const lastError = instance?.statusReason ?? instance?.connections.find((c) => c.error)?.error;
    const status = instance
      ? renderStatusBadge(instance.status, this.t(`status.${instance.status}`))
      : html`<span class="badge" data-status="none">${integration.entitled === false ? this.t('console.notInPlan') : this.t('console.notDeployed')}</span>`;
    return html`<li part="row" class="row" data-key=${integration.key}>
      <div class="row-main">
        <div class="row-title">
          <h4>${integration.name}</h4>
          <span class="muted">${integration.category} · ${this.t('console.version', { version: instance?.integrationVersion ?? integration.version })}</span>
        </div>
        <div class="row-status">${status}</div>
        <div class="row-health">${this.#renderConnections(instance)}</div>
        ${
          instance
            ? html`<div class="row-meta muted">
              ${this.t('console.updated', { date: new Date(instance.updatedAt).toLocaleString(this.locale, { dateStyle: 'medium', timeStyle: 'short' }) })}
            </div>`
            : nothing
        }
      </div>
      ${lastError && instance?.status === 'error' ? html`<p class="last-error">${this.t('console.lastError', { error: lastError })}</p>` : nothing}
      ${instance ? this.#renderUpdate(integration, instance) : nothing}
      ${instance ? this.#renderLink(integration, instance) : nothing}
      <div class="row-actions">
        ${this.#renderActions(integration, instance)}
        ${
          instance
            ? html`<button part="button" class="button quiet" type="button" aria-expanded=${this.runsOf === instance.id ? 'true' : 'false'} @click=${() => this.#toggleRuns(integration.key, instance.id)}>
              ${this.runsOf === instance.id ? this.t('console.hideRuns') : this.t('console.runs')}
            </button>`
            : nothing
        }
      </div>
      ${
        instance && this.runsOf === instance.id
          ? html`<plug-execution-log
            class="runs"
            .client=${this.#clientFor(this.selected!.id)}
            .translations=${this.translations}
            instance-id=${instance.id}
            .flows=${this.runFlows}
            .runActions=${this.#runActions}
            theme=${this.theme ?? nothing}
          ></plug-execution-log>`
          : nothing
      }
    </li>`;
  }

  #renderDetail() {
    const customer = this.selected;
    if (!customer) return html`<section part="detail" class="detail empty"><p part="message" class="message">${this.t('console.pick')}</p></section>`;
    const body = this.#customer.render({
      initial: () => nothing,
      pending: () =>
        this.#customer.value
          ? this.#renderIntegrations(this.#customer.value)
          : html`<p part="message" class="message" aria-busy="true">${this.t('console.integrationsLoading')}</p>`,
      complete: (view) => this.#renderIntegrations(view),
      error: (error) => html`<div part="message" class="message error" role="alert">
        <p>${this.t('console.integrationsError')} ${this.describeError(error)}</p>
        <button part="button" class="button" type="button" @click=${() => void this.#customer.run()}>${this.t('console.retry')}</button>
      </div>`,
    });
    return html`<section part="detail" class="detail" aria-labelledby="customer-heading">
      <button part="button" class="button quiet back" type="button" @click=${() => this.#select(undefined)}>← ${this.t('console.back')}</button>
      <div class="customer-head">
        <h3 id="customer-heading">${customer.name ?? customer.externalId}</h3>
        <span class="muted mono">${this.t('console.customerId', { id: customer.externalId })}</span>
      </div>
      <h4 class="section-title">${this.t('console.integrations')}</h4>
      ${body}
    </section>`;
  }

  #renderIntegrations(view: CustomerView) {
    if (view.integrations.length === 0) return html`<p part="message" class="message">${this.t('console.noIntegrations')}</p>`;
    // Set up first, then what the plan includes, then the rest.
    const rank = (i: IntegrationSummary) => (view.instances.has(i.key) ? 0 : i.entitled === false ? 2 : 1);
    const sorted = [...view.integrations].sort((a, b) => rank(a) - rank(b));
    return html`<ul class="rows">
      ${repeat(
        sorted,
        (i) => i.key,
        (i) => this.#renderRow(i, view.instances.get(i.key)),
      )}
    </ul>`;
  }

  #renderDialog() {
    if (!this.openKey || !this.selected) return nothing;
    return html`<plug-integration-dialog
      exportparts="dialog,panel,button,form,field,label,input,help,error,badge,icon,progress,toast"
      .client=${this.#clientFor(this.selected.id)}
      .translations=${this.translations}
      integration-key=${this.openKey}
      mode="modal"
      theme=${this.theme ?? nothing}
      lang=${this.locale ?? nothing}
      open
      @plug-dialog-close=${() => {
        const key = this.openKey;
        this.openKey = undefined;
        void this.#customer.run();
        void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(`.row[data-key="${CSS.escape(key ?? '')}"] .actions .button`)?.focus());
      }}
    ></plug-integration-dialog>`;
  }

  #renderAlert(alert: VendorAlert) {
    const customer = alert.customer.name ?? alert.customer.externalId ?? alert.customer.id;
    const at = new Date(alert.at);
    return html`<li part="row" class="alert" data-type=${alert.type}>
      <time datetime=${alert.at}>${at.toLocaleString(this.locale, { dateStyle: 'medium', timeStyle: 'short' })}</time>
      <span class="alert-type" data-type=${alert.type}>${this.t(ALERT_WORDS[alert.type])}</span>
      <span class="alert-what">
        <button part="button" class="button quiet" type="button" aria-label=${this.t('console.openCustomer', { customer })} @click=${() => this.#openCustomerOf(alert)}>
          ${customer}
        </button>
        <span>${alert.instance.integrationKey ? this.#nameOf(alert.instance.integrationKey) : ''}</span>
        ${
          alert.instance.status
            ? renderStatusBadge(alert.instance.status, this.t(`status.${alert.instance.status}`))
            : html`<span class="muted">${this.t('console.alertDeleted')}</span>`
        }
      </span>
      <span class="alert-detail muted">
        ${alert.execution ? this.t('console.alertFlow', { flow: alert.execution.flow }) : nothing}
        ${alert.execution?.error ? html`<span class="alert-error">${alert.execution.error}</span>` : nothing}
        ${alert.actor?.name ? this.t('console.alertBy', { name: alert.actor.name }) : nothing}
      </span>
    </li>`;
  }

  #renderAlerts() {
    const f = this.alertFilters;
    const filtered = Object.values(f).some((v) => v);
    const list = (page: VendorAlertList) => {
      const alerts = this.olderAlerts ? [...page.alerts, ...this.olderAlerts.alerts] : page.alerts;
      const cursor = this.olderAlerts ? this.olderAlerts.nextCursor : page.nextCursor;
      if (alerts.length === 0)
        return html`<p part="message" class="message">${filtered ? this.t('console.alertsEmptyFiltered') : this.t('console.alertsEmpty')}</p>`;
      return html`<ul class="rows alerts">
          ${repeat(
            alerts,
            (a) => a.id,
            (a) => this.#renderAlert(a),
          )}
        </ul>
        ${this.#renderMore(cursor, this.t('console.alertsMore'), (next) => this.#loadOlderAlerts(next))}`;
    };
    return html`<section part="alerts" class="alerts-view" aria-labelledby="console-heading">
      <div class="filters">
        <label>${this.t('console.filterType')}
          <select class="search" @change=${(e: Event) => this.#filter({ type: ((e.target as HTMLSelectElement).value || undefined) as AlertType | undefined })}>
            <option value="">${this.t('console.filterTypeAll')}</option>
            ${(Object.keys(ALERT_WORDS) as AlertType[]).map((type) => html`<option value=${type} ?selected=${f.type === type}>${this.t(ALERT_WORDS[type])}</option>`)}
          </select>
        </label>
        <label>${this.t('console.filterStatus')}
          <select class="search" @change=${(e: Event) => this.#filter({ status: ((e.target as HTMLSelectElement).value || undefined) as InstanceStatus | undefined })}>
            <option value="">${this.t('console.filterStatusAll')}</option>
            ${STATUSES.map((status) => html`<option value=${status} ?selected=${f.status === status}>${this.t(`status.${status}`)}</option>`)}
          </select>
        </label>
        <label>${this.t('console.filterIntegration')}
          <select class="search" @change=${(e: Event) => this.#filter({ integration: (e.target as HTMLSelectElement).value || undefined })}>
            <option value="">${this.t('console.filterIntegrationAll')}</option>
            ${[...(this.#versions.value?.integrations ?? [])]
              .sort((a, b) => a.name.localeCompare(b.name, this.locale))
              .map((i) => html`<option value=${i.key} ?selected=${f.integration === i.key}>${i.name}</option>`)}
          </select>
        </label>
        <label>${this.t('console.filterSince')}
          <input class="search" type="date" .value=${f.since ?? ''} @change=${(e: Event) => this.#filter({ since: (e.target as HTMLInputElement).value || undefined })} />
        </label>
      </div>
      ${this.#alerts.render({
        initial: () => html`<p part="message" class="message" aria-busy="true">${this.t('console.alertsLoading')}</p>`,
        pending: () =>
          this.#alerts.value ? list(this.#alerts.value) : html`<p part="message" class="message" aria-busy="true">${this.t('console.alertsLoading')}</p>`,
        complete: (page) => list(page),
        error: (error) => html`<div part="message" class="message error" role="alert">
          <p>${this.t('console.alertsError')} ${this.describeError(error)}</p>
          <button part="button" class="button" type="button" @click=${() => void this.#alerts.run()}>${this.t('console.retry')}</button>
        </div>`,
      })}
    </section>`;
  }

  #renderJob(key: string, bulk: BulkUpgrade) {
    const job = bulk.job;
    if (!job) return bulk.lost ? html`<p class="version-error" role="alert">${bulk.lost}</p>` : nothing;
    return html`<div part="job" class="job" data-status=${job.status}>
      <p class="job-title">${this.#jobText(job)}</p>
      ${this.#renderProgress(job, { label: this.t('console.jobProgress', { integration: this.#nameOf(key) }) })}
      ${bulk.lost ? html`<p class="version-error" role="alert">${bulk.lost}</p>` : nothing}
      ${this.#renderFailures(job, `failures-${key}`)}
      ${this.#renderJobRollback(key, bulk, job)}
    </div>`;
  }

  #renderProgress(job: ListedJob, name: { label: string } | { labelledBy: string }) {
    return html`<progress
      part="progress"
      max=${Math.max(job.total, 1)}
      .value=${job.total === 0 ? 1 : job.done}
      aria-label=${'label' in name ? name.label : nothing}
      aria-labelledby=${'labelledBy' in name ? name.labelledBy : nothing}
      aria-valuetext=${`${job.done}/${job.total}`}
    ></progress>`;
  }

  /** The instances a job could not upgrade (or roll back), each with why; `id` names the list's heading. */
  #renderFailures(job: UpgradeJob, id: string) {
    const failures = job.outcomes.filter((o) => o.status === 'failed');
    if (failures.length === 0) return nothing;
    return html`<h4 class="section-title" id=${id}>${this.t('console.jobFailures')}</h4>
      <ul class="job-failures" aria-labelledby=${id}>
        ${failures.map(
          (o) => html`<li>
            <span class="customer-name">${o.customer.externalId}</span>
            <span class="alert-error">${o.error ?? ''}</span>
            ${o.errors?.length ? html`<ul>${o.errors.map((e) => html`<li><span class="mono">${e.path}</span>: ${e.message}</li>`)}</ul>` : nothing}
          </li>`,
        )}
      </ul>`;
  }

  /** A finished upgrade job that upgraded something may be undone as a job of its own. */
  #renderJobRollback(key: string, bulk: BulkUpgrade, job: UpgradeJob) {
    if (!this.#canAct || job.status !== 'finished' || job.kind === 'rollback' || job.upgraded === 0) return nothing;
    if (bulk.confirmRollback) {
      return html`<div class="actions confirm version-confirm" role="alert">
        <p>${this.t('console.jobRollbackConfirm', { integration: this.#nameOf(key), count: job.upgraded })}</p>
        <button part="button" class="button keep" type="button" @click=${() => this.#setBulk(key, { ...bulk, confirmRollback: false })}>
          ${this.t('console.cancel')}
        </button>
        <button part="button" class="button danger primary" type="button" @click=${() => this.#rollbackJob(key, job.id)}>${this.t('console.jobRollback')}</button>
      </div>`;
    }
    return html`<div class="actions">
      <button
        part="button"
        class="button"
        type="button"
        @click=${() => {
          this.#setBulk(key, { ...bulk, confirmRollback: true, lost: undefined });
          this.#focusQuestion();
        }}
      >
        ${this.t('console.jobRollback')}
      </button>
    </div>`;
  }

  #renderBulkForm(key: string, version: string) {
    const bulk = this.bulk.get(key);
    const running = bulk?.job?.status === 'running';
    if (bulk && !bulk.job && !bulk.lost) {
      const customer = bulk.customer.trim();
      return html`<div class="actions confirm version-confirm" role="alert">
        <p>
          ${
            customer
              ? this.t('console.bulkConfirmCustomer', { integration: this.#nameOf(key), customer, version })
              : this.t('console.bulkConfirm', { integration: this.#nameOf(key), version })
          }
        </p>
        <button part="button" class="button keep" type="button" @click=${() => this.#setBulk(key, undefined)}>${this.t('console.cancel')}</button>
        <button part="button" class="button primary" type="button" @click=${() => this.#startBulk(key, version)}>${this.t('console.bulkGo')}</button>
      </div>`;
    }
    return html`<form
      class="bulk"
      @submit=${(e: SubmitEvent) => {
        e.preventDefault();
        const field = (e.target as HTMLFormElement).elements.namedItem('customer') as HTMLInputElement;
        this.#setBulk(key, { customer: field.value });
        this.#focusQuestion();
      }}
    >
      <label>
        ${this.t('console.bulkCustomer')}
        <input class="search" name="customer" type="text" autocomplete="off" placeholder=${this.t('console.bulkCustomerPlaceholder')} ?disabled=${running} />
      </label>
      <button part="button" class="button primary" type="submit" ?disabled=${running} aria-busy=${running ? 'true' : 'false'}>
        ${this.t('console.bulkStart', { version })}
      </button>
    </form>`;
  }

  #renderVersions() {
    const list = (report: IntegrationVersions) => {
      if (report.integrations.length === 0) return html`<p part="message" class="message">${this.t('console.versionsEmpty')}</p>`;
      return html`<ul class="rows">
        ${repeat(
          report.integrations,
          (i) => i.key,
          (i) => {
            const counts = Object.entries(i.instancesByVersion);
            const total = counts.reduce((sum, [, count]) => sum + count, 0);
            const behind = total - (i.instancesByVersion[i.version] ?? 0);
            const bulk = this.bulk.get(i.key);
            const upgrade =
              total === 0 && !bulk
                ? nothing
                : behind === 0 && bulk?.job?.status !== 'running'
                  ? html`<p class="muted">${this.t('console.upToDate', { version: i.version })}</p>`
                  : this.#canAct
                    ? this.#renderBulkForm(i.key, i.version)
                    : html`<p class="muted">${this.t('console.rolesNeeded')}</p>`;
            return html`<li part="row" class="row version-row" data-key=${i.key}>
              <div class="version-title">
                ${i.icon ? html`<img class="icon" src=${i.icon} alt="" />` : nothing}
                <h3>${i.name}</h3>
                <span class="muted mono">${i.key}</span>
                <span class="muted">${i.category}</span>
              </div>
              <ul class="versions" aria-label=${this.t('console.versionsOf', { integration: i.name })}>
                ${i.versions.map(
                  (version) => html`<li>
                    <span class="mono">${this.t('console.version', { version })}</span>
                    ${version === i.version ? html`<span class="badge" data-status="active">${this.t('console.versionCurrent')}</span>` : nothing}
                    <span class="muted">${this.t('console.versionCount', { count: i.instancesByVersion[version] ?? 0 })}</span>
                  </li>`,
                )}
              </ul>
              ${upgrade}
              ${bulk ? this.#renderJob(i.key, bulk) : nothing}
            </li>`;
          },
        )}
      </ul>`;
    };
    const loading = html`<p part="message" class="message" aria-busy="true">${this.t('console.versionsLoading')}</p>`;
    return html`<section part="versions" class="versions-view" aria-labelledby="console-heading">
      <p class="muted">${this.t('console.versionsIntro')}</p>
      ${this.#renderRead(this.#versions, loading, this.t('console.versionsError'), list)}
      ${this.#renderRecentJobs()}
    </section>`;
  }

  /** Bulk jobs from any tab or replica, newest first: what each did, its failures on demand, its rollback. */
  #renderRecentJobs() {
    const list = (page: UpgradeJobList) => {
      const jobs = this.olderJobs ? [...page.jobs, ...this.olderJobs.jobs] : page.jobs;
      const cursor = this.olderJobs ? this.olderJobs.nextCursor : page.nextCursor;
      if (jobs.length === 0) return html`<p part="message" class="message">${this.t('console.jobsEmpty')}</p>`;
      // Undone by a rollback listed, or by one just started here (the list may not have it yet).
      const rolledBack = new Set([...jobs, ...[...this.bulk.values()].flatMap((b) => b.job ?? [])].flatMap((j) => j.rollbackOf ?? []));
      return html`<ul class="rows past-jobs" aria-labelledby="jobs-heading">
          ${repeat(
            jobs,
            (j) => j.id,
            (j) => this.#renderPastJob(j, rolledBack.has(j.id)),
          )}
        </ul>
        ${this.#renderMore(cursor, this.t('console.jobsMore'), (next) => this.#loadOlderJobs(next))}`;
    };
    const loading = html`<p part="message" class="message" aria-busy="true">${this.t('console.jobsLoading')}</p>`;
    return html`<h3 class="section-title" id="jobs-heading">${this.t('console.jobsTitle')}</h3>
      ${this.#renderRead(this.#jobs, loading, this.t('console.jobsError'), list)}`;
  }

  #renderPastJob(job: ListedJob, rolledBack: boolean) {
    // A job finished the day it started says only the time it finished.
    const sameDay = job.finishedAt !== null && new Date(job.finishedAt).toDateString() === new Date(job.startedAt).toDateString();
    const date = (iso: string, day = true) =>
      html`<time datetime=${iso}>${new Date(iso).toLocaleString(this.locale, day ? { dateStyle: 'medium', timeStyle: 'short' } : { timeStyle: 'short' })}</time>`;
    const detail = this.jobDetails.get(job.id);
    // A job followed in its integration's row above offers its rollback there.
    const followed = this.bulk.get(job.integrationKey)?.job?.id === job.id;
    const canRollBack = this.#canAct && !followed && !rolledBack && job.status === 'finished' && job.kind !== 'rollback' && job.upgraded > 0;
    const asked = this.jobRollback?.jobId === job.id ? this.jobRollback : undefined;
    return html`<li part="row" class="row past-job" data-status=${job.status} data-kind=${job.kind ?? 'upgrade'}>
      <p class="job-title" id=${`job-${job.id}`}>${this.#jobText(job)}</p>
      <p class="muted job-meta">
        <span>${job.customer ? this.t('console.jobCustomer', { customer: job.customer }) : this.t('console.jobEveryCustomer')}</span>
        <span>${this.t('console.jobStartedAt')} ${date(job.startedAt)}</span>
        ${job.finishedAt ? html`<span>${this.t('console.jobFinishedAt')} ${date(job.finishedAt, !sameDay)}</span>` : nothing}
        ${rolledBack ? html`<span>${this.t('console.jobWasRolledBack')}</span>` : nothing}
      </p>
      ${job.status === 'running' ? this.#renderProgress(job, { labelledBy: `job-${job.id}` }) : nothing}
      ${
        job.failed > 0
          ? html`<details class="job-details" @toggle=${(e: Event) => (e.target as HTMLDetailsElement).open && void this.#readJobDetail(job.id)}>
            <summary>${this.t('console.jobShowFailures', { count: job.failed })}</summary>
            ${
              !detail
                ? html`<p class="muted" aria-busy="true">${this.t('console.jobsLoading')}</p>`
                : 'error' in detail
                  ? html`<p class="version-error" role="alert">${detail.error}</p>`
                  : this.#renderFailures(detail.job, `failures-job-${job.id}`)
            }
          </details>`
          : nothing
      }
      ${asked?.error ? html`<p class="version-error" role="alert">${asked.error}</p>` : nothing}
      ${
        !canRollBack
          ? nothing
          : asked && !asked.error
            ? html`<div class="actions confirm version-confirm" role="alert">
              <p>${this.t('console.jobRollbackConfirm', { integration: this.#nameOf(job.integrationKey), count: job.upgraded })}</p>
              <button part="button" class="button keep" type="button" @click=${() => (this.jobRollback = undefined)}>${this.t('console.cancel')}</button>
              <button part="button" class="button danger primary" type="button" @click=${() => this.#rollbackPastJob(job)}>${this.t('console.jobRollback')}</button>
            </div>`
            : html`<div class="actions">
              <button
                part="button"
                class="button"
                type="button"
                @click=${() => {
                  this.jobRollback = { jobId: job.id };
                  this.#focusQuestion();
                }}
              >
                ${this.t('console.jobRollback')}
              </button>
            </div>`
      }
    </li>`;
  }

  override render() {
    return html`<div class="console" data-selected=${this.selected ? 'yes' : 'no'}>
        ${this.#renderHeader()}
        ${
          this.view === 'alerts'
            ? this.#renderAlerts()
            : this.view === 'versions'
              ? this.#renderVersions()
              : html`<div class="panes">${this.#renderCustomers()} ${this.#renderDetail()}</div>`
        }
      </div>
      ${this.#renderDialog()}
      <div class="visually-hidden" role="status" aria-live="polite">${this.notice}</div>
      ${this.notice ? html`<p class="notice" aria-hidden="true">${this.notice}</p>` : nothing}`;
  }
}
