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
//
// Retry-After: consecutive counts also say how fast each queue drains (what left it between two
// counts, less what this process added). A refused sender is asked to come back when its queue
// should be down to half its limit at that rate, so the runners still have work when it does:
// a fixed wait longer than the queue lasts left them idle until the senders returned. At most
// QUEUE_FULL_RETRY_AFTER_S (a queue that does not drain); 1 s while no drain has been measured yet
// (the counts refresh only while requests come, so the first refusals of a burst know none): a
// refusal costs little, and the sender's next one carries a measured wait.

/** Seconds a refused sender is asked to wait at most (a queue that does not drain). */
export const QUEUE_FULL_RETRY_AFTER_S = { customer: 5, global: 10 } as const;

/** A new execution refused because a queue is at its limit. Mapped in problemFor (429 customer, 503 global). */
export class QueueFullError extends Error {
  override name = 'QueueFullError';
  readonly retryAfterS: number;
  constructor(
    readonly scope: 'customer' | 'global',
    retryAfterS: number = QUEUE_FULL_RETRY_AFTER_S[scope],
  ) {
    super(
      scope === 'customer'
        ? "This customer's execution queue is full; retry after the time in Retry-After."
        : 'Execution queues are full; retry after the time in Retry-After.',
    );
    this.retryAfterS = retryAfterS;
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
  /** The clock (tests). */
  now?: () => number;
}

/** Drain rates are averaged over about this long. */
const RATE_WINDOW_MS = 2000;

export class Backpressure {
  readonly limits: QueueLimits;
  private readonly refreshMs: number;
  /** Counts older than this do not refuse anything. */
  private readonly trustMs: number;
  private counted: ReadonlyMap<string, number> = new Map();
  private countedTotal = 0;
  private countedAt = Number.NEGATIVE_INFINITY;
  /** When the query behind the current counts was sent. */
  private countedFrom = Number.NEGATIVE_INFINITY;
  /** Executions leaving the queue per second (moving averages), per customer and in total. */
  private drained = new Map<string, number>();
  private drainedTotal = 0;
  /** Whether two counts in a row have measured a drain rate yet. */
  private measured = false;
  private readonly now: () => number;
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
    this.now = options.now ?? Date.now;
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
    const now = this.now();
    if (now - this.attemptedAt >= this.refreshMs) void this.refresh();
    if (now - this.countedAt > this.trustMs) return;
    const { perCustomer, global } = this.limits;
    if (global > 0 && this.queued() >= global) throw new QueueFullError('global', this.retryAfter('global', this.queued() - global / 2, this.drainedTotal));
    if (perCustomer > 0 && this.queued(customerId) >= perCustomer)
      throw new QueueFullError('customer', this.retryAfter('customer', this.queued(customerId) - perCustomer / 2, this.drained.get(customerId) ?? 0));
  }

  /** Executions per second leaving the queue of `customerId` (or all queues), as last measured; 0 when unknown. */
  drainRate(customerId?: string): number {
    return customerId === undefined ? this.drainedTotal : (this.drained.get(customerId) ?? 0);
  }

  /** Seconds until `excess` executions have drained at `rate`, within [1, the scope's maximum]. */
  private retryAfter(scope: 'customer' | 'global', excess: number, rate: number): number {
    const most = QUEUE_FULL_RETRY_AFTER_S[scope];
    if (!this.measured) return 1;
    if (!(rate > 0)) return most;
    return Math.min(most, Math.max(1, Math.ceil(excess / rate)));
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

  /** What left each queue since the last counts: it held `counted`, this process added `settled`, it holds `counts`. */
  private measureDrain(counts: ReadonlyMap<string, number>, total: number, settled: ReadonlyMap<string, number>, elapsedMs: number): void {
    if (elapsedMs <= 0) return;
    const weight = 1 - Math.exp(-elapsedMs / RATE_WINDOW_MS);
    // Other replicas' acceptances are not in `settled`: they read as less drained (a longer wait, never a shorter one).
    const rate = (before: number, added: number, now: number) => Math.max(0, before + added - now) / (elapsedMs / 1000);
    const average = (old: number, sample: number) => old + weight * (sample - old);
    this.measured = true;
    let settledTotal = 0;
    for (const n of settled.values()) settledTotal += n;
    this.drainedTotal = average(this.drainedTotal, rate(this.countedTotal, settledTotal, total));
    for (const customer of new Set([...this.counted.keys(), ...settled.keys(), ...this.drained.keys()])) {
      const next = average(this.drained.get(customer) ?? 0, rate(this.counted.get(customer) ?? 0, settled.get(customer) ?? 0, counts.get(customer) ?? 0));
      // A customer whose queue is empty and stays so is forgotten once its rate has decayed.
      if (next < 0.01 && !counts.has(customer)) this.drained.delete(customer);
      else this.drained.set(customer, next);
    }
  }

  private add(customerId: string, n: number): void {
    this.accepted.set(customerId, (this.accepted.get(customerId) ?? 0) + n);
    this.acceptedTotal += n;
  }

  private async load(): Promise<void> {
    const from = this.now();
    this.attemptedAt = from;
    // Reservations until now are in the result (or in flight: missed until the next refresh);
    // those made while the query runs stay counted on top of it.
    const settled = new Map(this.accepted);
    try {
      const counts = await this.options.countQueued();
      let total = 0;
      for (const n of counts.values()) total += n;
      if (from - this.countedFrom <= this.trustMs) this.measureDrain(counts, total, settled, from - this.countedFrom);
      this.counted = counts;
      this.countedTotal = total;
      this.countedAt = this.now();
      this.countedFrom = from;
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
