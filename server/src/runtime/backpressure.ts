// Backpressure: limits on queued executions, per customer and in total, so a flood is answered
// 429 (that customer's queue is full) or 503 (every queue together is full) with Retry-After,
// and the sender retries, instead of the backlog growing without bound.
//
// The check costs no SQL statement on the request path. Each process keeps the queued count per
// customer in memory: one grouped query refreshes it at most every `refreshMs`, started by a
// check that finds the counts older than that (never awaited by it), plus what this process
// accepted since. Other replicas' acceptances show at their next refresh, so a limit can be
// overshot by what all replicas accept within one refresh interval; that is the approximation.
// Counts much older than the interval (an idle process, a database that does not answer) are not
// trusted to refuse: the request goes on and the refresh starts.

/** Seconds a refused sender is asked to wait. */
export const QUEUE_FULL_RETRY_AFTER_S = { customer: 5, global: 10 } as const;

/** A new execution refused because a queue is at its limit. Mapped in problemFor (429 customer, 503 global). */
export class QueueFullError extends Error {
  override name = 'QueueFullError';
  readonly retryAfterS: number;
  constructor(readonly scope: 'customer' | 'global') {
    super(
      scope === 'customer'
        ? "This customer's execution queue is full; retry after the time in Retry-After."
        : 'Execution queues are full; retry after the time in Retry-After.',
    );
    this.retryAfterS = QUEUE_FULL_RETRY_AFTER_S[scope];
  }
}

export interface QueueLimits {
  /** Queued executions one customer may have (0: no limit). */
  perCustomer: number;
  /** Queued executions of all customers together (0: no limit). */
  global: number;
}

export interface BackpressureOptions extends QueueLimits {
  /** One grouped query: queued executions by customer. */
  countQueued: () => Promise<ReadonlyMap<string, number>>;
  /** Counts are refreshed at most this often (default 250 ms). */
  refreshMs?: number;
  onError?: (error: unknown) => void;
}

export class Backpressure {
  readonly limits: QueueLimits;
  private readonly refreshMs: number;
  /** Counts older than this do not refuse anything. */
  private readonly trustMs: number;
  private counted: ReadonlyMap<string, number> = new Map();
  private countedTotal = 0;
  private countedAt = Number.NEGATIVE_INFINITY;
  private attemptedAt = Number.NEGATIVE_INFINITY;
  private failing = false;
  /** Reserved by this process since the current (or last) refresh started. */
  private accepted = new Map<string, number>();
  private acceptedTotal = 0;
  private refreshing: Promise<void> | undefined;

  constructor(private readonly options: BackpressureOptions) {
    this.limits = { perCustomer: options.perCustomer, global: options.global };
    this.refreshMs = options.refreshMs ?? 250;
    this.trustMs = Math.max(2000, this.refreshMs * 8);
  }

  get enabled(): boolean {
    return this.limits.perCustomer > 0 || this.limits.global > 0;
  }

  /** Queued executions as this process sees them (total, and of `customerId`). */
  queued(customerId?: string): number {
    if (customerId === undefined) return Math.max(0, this.countedTotal + this.acceptedTotal);
    return Math.max(0, (this.counted.get(customerId) ?? 0) + (this.accepted.get(customerId) ?? 0));
  }

  /** Throws QueueFullError when `customerId`'s queue (or all of them) is at its limit. Synchronous: no I/O. */
  check(customerId: string): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.attemptedAt >= this.refreshMs) void this.refresh();
    if (now - this.countedAt > this.trustMs) return;
    const { perCustomer, global } = this.limits;
    if (global > 0 && this.queued() >= global) throw new QueueFullError('global');
    if (perCustomer > 0 && this.queued(customerId) >= perCustomer) throw new QueueFullError('customer');
  }

  /** Checks, then counts one execution of `customerId` as queued; call the returned function if it was not stored after all. */
  reserve(customerId: string): () => void {
    if (!this.enabled) return () => {};
    this.check(customerId);
    this.add(customerId, 1);
    let undone = false;
    return () => {
      if (undone) return;
      undone = true;
      this.add(customerId, -1);
    };
  }

  /** Refreshes now (unless a refresh is under way) and resolves when the counts are fresh. */
  refresh(): Promise<void> {
    this.refreshing ??= this.load().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private add(customerId: string, n: number): void {
    this.accepted.set(customerId, (this.accepted.get(customerId) ?? 0) + n);
    this.acceptedTotal += n;
  }

  private async load(): Promise<void> {
    this.attemptedAt = Date.now();
    // Reservations until now are in the result (or in flight: missed until the next refresh);
    // those made while the query runs stay counted on top of it.
    const settled = new Map(this.accepted);
    try {
      const counts = await this.options.countQueued();
      let total = 0;
      for (const n of counts.values()) total += n;
      this.counted = counts;
      this.countedTotal = total;
      this.countedAt = Date.now();
      for (const [customer, n] of settled) this.add(customer, -n);
      for (const [customer, n] of this.accepted) if (n === 0) this.accepted.delete(customer);
      this.failing = false;
    } catch (error) {
      // The old counts age out of trust; said once per outage.
      if (!this.failing) this.options.onError?.(error);
      this.failing = true;
    }
  }
}
