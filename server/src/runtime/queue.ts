// The queue between triggers and runners, and the fair dispatch loop both engines share.
//
// Fairness: work is claimed round-robin over the customers that have work ready, one claim per
// customer per turn (several in flight at once when slots are free), and never more than
// `perCustomer` at once for one customer (per runner process).
// A customer with 1,000 queued executions therefore gets one slot in turn like everyone else:
// another customer's single execution is taken at the next free slot, not after the backlog.
//
// Slots: an execution holds its slot while it is prepared and its flow runs. The handler calls
// `ran()` once the flow's outcome is known, and the slot takes the next execution while the
// outcome and logs are written (round trips that, under webhook load, each wait behind the HTTP
// traffic of the same event loop): those writes are not on the next execution's path.
// Claims ahead: a customer may hold `ahead` claims beyond the `perCustomer` its executor runs at
// once; they wait in the executor pool's queue, so when a flow ends the next one starts at once
// instead of after a claim's round trip (which grows with the database's load: under webhook
// traffic that round trip, not the runner's CPU, was what capped executions per second).
import type { ExecutionRow, QueueingStatements, Statement } from './executions.js';

/** One execution handed to a runner. Settle it exactly once. */
export interface Claim {
  executionId: string;
  customerId: string;
  /** Set when the claim already marked the row running (the in-process queue does). */
  row?: ExecutionRow;
  /** The execution's instance, when the queue carries it: the runner reads it while marking the row running. */
  instanceId?: string;
  /** False when the claim saw no other ready execution of this customer: the dispatcher does not ask again until woken. */
  more?: boolean;
  /** The execution is settled (finished, or abandoned because it no longer exists). */
  complete(): Promise<void>;
  /** PostgreSQL: the statement `complete` runs, for the runner to run with the execution's finish instead. */
  settlement?(): Statement;
  /** Run it again after about `delayMs` (the row was already put back to `queued`). */
  retry(delayMs: number, error: string): Promise<void>;
}

export interface ExecutionQueue {
  readonly engine: 'sqlite' | 'postgres';
  /** Hands a stored, queued execution to the runners. Idempotent per execution id. */
  enqueue(execution: { id: string; customerId: string; instanceId?: string }): Promise<void>;
  /**
   * PostgreSQL: the statement that queues this execution, to run with its insert in one statement
   * (ExecutionStore.createQueued); then `queued(whether a job was inserted)`, which wakes this
   * process's runner and the others, or, when no job was stored, enqueues it the ordinary way.
   */
  queueing?(execution: { id: string; customerId: string; instanceId: string }): Promise<{
    statements: QueueingStatements;
    queued(inserted: boolean): Promise<void>;
  }>;
  /** Starts taking work; `handle` settles each claim, and may call `ran()` once its flow has run to free the slot early. */
  consume(handle: ClaimHandler, options: DispatchOptions): void;
  /** Stops taking new work; resolves when the dispatch loop has stopped (running handlers go on). */
  stopConsuming(): Promise<void>;
  /** Executions waiting to start. */
  depth(): Promise<number>;
  /** Depth and the wait of the oldest runnable execution, in one query (scraped for autoscaling). */
  stats(): Promise<QueueStats>;
  /**
   * Of these executions, those the queue will never deliver again (their job ran out of retries,
   * e.g. runners kept dying on it, or it is gone), with why. Absent on queues that can't lose work.
   */
  /**
   * Hands these running executions' jobs back for delivery now (their runner died; the caller has put
   * the rows back to `queued`). Absent on queues of one process (nothing runs elsewhere to die).
   */
  requeue?(executions: readonly { id: string; customerId: string }[]): Promise<void>;
  /**
   * Restarts the expiry of these executions' jobs, held by a live runner (its heartbeat). Absent on
   * queues whose jobs do not expire.
   */
  renew?(executions: readonly { id: string; customerId: string }[]): Promise<void>;
  /**
   * Of these queued executions, hands back those whose job was taken more than `olderThanMs` ago
   * although no runner ever started it (the answer to the claim was lost with its connection in an
   * outage); returns how many. Absent where that can't happen.
   */
  requeueStranded?(executions: readonly { id: string; customerId: string }[], olderThanMs: number): Promise<number>;
  lostExecutions?(executions: readonly { id: string; customerId: string }[]): Promise<{ id: string; reason: string }[]>;
  /**
   * Erasure: removes every job of this customer (waiting, running, finished, archived) and what names
   * it, returning how many jobs. Absent on queues kept in the store's own tables (the erasure's
   * transaction removes those rows).
   */
  forgetCustomer?(customerId: string): Promise<number>;
  close(): Promise<void>;
}

export interface QueueStats {
  /** Executions waiting to start, retries not yet due included (all processes). */
  depth: number;
  /** How long the oldest execution that may start now has waited since it could (0 when none). */
  oldestAgeSeconds: number;
}

/** Settles one claim; `ran()` says the flow has run and only its outcome is left to write (the slot is free from then on). */
export type ClaimHandler = (claim: Claim, ran: () => void) => Promise<void>;

export interface DispatchOptions {
  /** Executions run at once by this process. */
  concurrency: number;
  /** Executions of one customer run at once by this process. */
  perCustomer: number;
  /** Claims of one customer held beyond `perCustomer`, waiting for its executor (default 0). Counted in `concurrency`. */
  ahead?: number;
  /** How often ready work is looked for without a wake-up (retries due, other processes' work). */
  pollMs: number;
  /** The runner's id, written on the executions it starts. */
  runnerId?: string;
}

/** Where the dispatcher finds work: the customers that have some, and up to `count` executions of one of them. */
export interface WorkSource {
  readyCustomers(): Promise<string[]>;
  /** None when nothing is ready; may hand out fewer than `count` (the dispatcher frees the slots it kept for the rest). */
  claim(customerId: string, runnerId: string | undefined, count: number): Promise<Claim[]>;
}

export class FairDispatcher {
  /** Customers that may have work, in round-robin order: the one served last goes to the back. */
  private ring: string[] = [];
  /** Customers woken while their claim was in flight: a claim that saw nothing more may be older than their new work. */
  private readonly rewoken = new Set<string>();
  /** Slots taken per customer: executions running and claims in flight. */
  private readonly running = new Map<string, number>();
  /** Claims in flight per customer. */
  private readonly claiming = new Map<string, number>();
  /** Customers whose last claim saw more ready: only these get several claims in parallel. */
  private readonly more = new Set<string>();
  private readonly inFlightClaims = new Set<Promise<void>>();
  private total = 0;
  private stopped = false;
  private refreshDue = true;
  /** After a failed claim, no new claim before this (a database that is down is not asked in a tight loop). */
  private pausedUntil = 0;
  private wakeUp: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;

  constructor(
    private readonly source: WorkSource,
    private readonly handle: ClaimHandler,
    private readonly options: DispatchOptions,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    this.loopDone ??= this.loop();
  }

  /** New work (of `customerId`, when known) or a free slot: look again now. */
  wake(customerId?: string): void {
    if (customerId !== undefined && !this.ring.includes(customerId)) this.ring.push(customerId);
    else if (customerId !== undefined) this.rewoken.add(customerId);
    if (customerId === undefined) this.refreshDue = true;
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.loopDone;
    // Claims already sent are run (the runner's drain waits for them), never dropped.
    await Promise.all(this.inFlightClaims);
  }

  get inFlight(): number {
    return this.total;
  }

  private async loop(): Promise<void> {
    let lastRefresh = 0;
    while (!this.stopped) {
      try {
        if (this.refreshDue || Date.now() - lastRefresh >= this.options.pollMs) {
          this.refreshDue = false;
          lastRefresh = Date.now();
          for (const customer of await this.source.readyCustomers()) {
            if (!this.ring.includes(customer)) this.ring.push(customer);
          }
        }
        if (Date.now() >= this.pausedUntil) this.fill();
      } catch (error) {
        this.onError(error);
      }
      if (this.stopped) break;
      const paused = this.pausedUntil > Date.now() ? this.pausedUntil - Date.now() : Infinity;
      const wait = Math.max(1, Math.min(this.options.pollMs - (Date.now() - lastRefresh), paused));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = undefined;
    }
  }

  /**
   * Sends claims for the free slots, round-robin over the customers in the ring below their cap,
   * without waiting for each answer: under load a claim's round trip is long, and claiming one at a
   * time capped the executions started per second at one per round trip, whatever the free slots.
   */
  private fill(): void {
    for (let sent = true; sent && !this.stopped;) {
      sent = false;
      for (const customer of [...this.ring]) {
        if (this.total >= this.options.concurrency) return;
        if ((this.running.get(customer) ?? 0) >= this.options.perCustomer + (this.options.ahead ?? 0)) continue;
        // A second claim in parallel only once the customer is known to have more ready than one.
        if ((this.claiming.get(customer) ?? 0) > 0 && !this.more.has(customer)) continue;
        this.claim(customer);
        sent = true;
      }
    }
  }

  /**
   * One claim for several of the customer's free slots (under load, one round trip and one commit
   * for several executions): at most `perCustomer`, and no more than its share of the free slots
   * among the customers in the ring, so a turn still goes round them all.
   */
  private claim(customer: string): void {
    const free = Math.min(
      this.options.perCustomer + (this.options.ahead ?? 0) - (this.running.get(customer) ?? 0),
      Math.floor((this.options.concurrency - this.total) / Math.max(1, this.ring.length)),
      this.options.perCustomer,
    );
    const count = Math.max(1, free);
    for (let i = 0; i < count; i++) this.take(customer);
    this.claiming.set(customer, (this.claiming.get(customer) ?? 0) + 1);
    this.rewoken.delete(customer);
    // Served: to the back of the ring.
    this.ring = [...this.ring.filter((c) => c !== customer), customer];
    const done = this.source
      .claim(customer, this.options.runnerId, count)
      .then(
        (claims) => {
          for (let i = claims.length; i < count; i++) this.give(customer);
          const last = claims.at(-1);
          if (!last) {
            this.more.delete(customer);
            // Nothing ready for this customer: it leaves the ring until new work wakes it.
            if (!this.rewoken.has(customer)) this.leaveRing(customer);
            return;
          }
          // Nothing more ready: no further claim to learn that (a wake, or the poll, brings the customer back).
          if (last.more === false) this.more.delete(customer);
          else this.more.add(customer);
          if (last.more === false && !this.rewoken.has(customer) && (this.claiming.get(customer) ?? 0) <= 1) this.leaveRing(customer);
          for (const claim of claims) this.run(claim);
        },
        (error: unknown) => {
          for (let i = 0; i < count; i++) this.give(customer);
          this.pausedUntil = Date.now() + this.options.pollMs;
          this.onError(error);
        },
      )
      .finally(() => {
        this.claiming.set(customer, (this.claiming.get(customer) ?? 1) - 1);
        this.inFlightClaims.delete(done);
        this.wakeUp?.();
      });
    this.inFlightClaims.add(done);
  }

  private leaveRing(customer: string): void {
    this.ring = this.ring.filter((c) => c !== customer);
  }

  /** A slot of `customer` is taken (claim sent, then its execution). */
  private take(customer: string): void {
    this.total++;
    this.running.set(customer, (this.running.get(customer) ?? 0) + 1);
  }

  private give(customer: string): void {
    this.total--;
    const left = (this.running.get(customer) ?? 1) - 1;
    if (left === 0) this.running.delete(customer);
    else this.running.set(customer, left);
  }

  /** Runs a claim in the slot its claim took; the slot is free once the handler says the flow ran, or settles. */
  private run(claim: Claim): void {
    let freed = false;
    const free = () => {
      if (freed) return;
      freed = true;
      this.give(claim.customerId);
      this.wakeUp?.();
    };
    void this.handle(claim, free).catch(this.onError).finally(free);
  }
}
