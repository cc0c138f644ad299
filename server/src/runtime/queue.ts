// The queue between triggers and runners, and the fair dispatch loop both engines share.
//
// Fairness: work is taken one execution at a time, round-robin over the customers that have
// work ready, and never more than `perCustomer` at once for one customer (per runner process).
// A customer with 1,000 queued executions therefore gets one slot in turn like everyone else:
// another customer's single execution is taken at the next free slot, not after the backlog.
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
   * PostgreSQL: the statements that queue this execution, to run with its insert in one statement
   * (ExecutionStore.createQueued); then `queued(whether a job was inserted)`, which wakes this
   * process's runner or, when no job was stored, enqueues it the ordinary way.
   */
  queueing?(execution: { id: string; customerId: string; instanceId: string }): Promise<{
    statements: QueueingStatements;
    queued(inserted: boolean): Promise<void>;
  }>;
  /** Starts taking work; `handle` settles each claim. */
  consume(handle: (claim: Claim) => Promise<void>, options: DispatchOptions): void;
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

export interface DispatchOptions {
  /** Executions run at once by this process. */
  concurrency: number;
  /** Executions of one customer run at once by this process. */
  perCustomer: number;
  /** How often ready work is looked for without a wake-up (retries due, other processes' work). */
  pollMs: number;
  /** The runner's id, written on the executions it starts. */
  runnerId?: string;
}

/** Where the dispatcher finds work: the customers that have some, and one execution of one of them. */
export interface WorkSource {
  readyCustomers(): Promise<string[]>;
  claim(customerId: string, runnerId?: string): Promise<Claim | undefined>;
}

export class FairDispatcher {
  /** Customers that may have work, in round-robin order: the one served last goes to the back. */
  private ring: string[] = [];
  /** Customers woken while their claim was in flight: a claim that saw nothing more may be older than their new work. */
  private readonly rewoken = new Set<string>();
  private readonly running = new Map<string, number>();
  private total = 0;
  private stopped = false;
  private refreshDue = true;
  private wakeUp: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;

  constructor(
    private readonly source: WorkSource,
    private readonly handle: (claim: Claim) => Promise<void>,
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
        if (this.total < this.options.concurrency && (await this.takeOne())) continue;
      } catch (error) {
        this.onError(error);
      }
      if (this.stopped) break;
      const wait = Math.max(1, this.options.pollMs - (Date.now() - lastRefresh));
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

  /** Claims one execution of the first customer in the ring below its cap. */
  private async takeOne(): Promise<boolean> {
    for (let i = 0; i < this.ring.length && !this.stopped;) {
      const customer = this.ring[i]!;
      if ((this.running.get(customer) ?? 0) >= this.options.perCustomer) {
        i++;
        continue;
      }
      this.rewoken.delete(customer);
      const claim = await this.source.claim(customer, this.options.runnerId);
      this.ring.splice(i, 1);
      if (!claim) continue; // nothing ready for this customer: it leaves the ring until new work wakes it
      // Nothing more ready: no second claim to learn that (a wake, or the poll, brings the customer back).
      if (claim.more !== false || this.rewoken.has(customer)) this.ring.push(customer);
      this.run(claim);
      return true;
    }
    return false;
  }

  private run(claim: Claim): void {
    this.total++;
    this.running.set(claim.customerId, (this.running.get(claim.customerId) ?? 0) + 1);
    void this.handle(claim)
      .catch(this.onError)
      .finally(() => {
        this.total--;
        const left = (this.running.get(claim.customerId) ?? 1) - 1;
        if (left === 0) this.running.delete(claim.customerId);
        else this.running.set(claim.customerId, left);
        this.wakeUp?.();
      });
  }
}
