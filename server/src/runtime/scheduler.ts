// Schedule triggers. Every runner looks, every `intervalMs`, at each active instance's scheduled
// flows and fires the latest tick that is due. Policy:
// - a tick fires at most once: the execution row's unique (instance, flow, tick) key makes the
//   second insert a no-op, whichever runner (or how many) tried;
// - ticks missed while no runner was up collapse into ONE execution on return (only the latest
//   due tick is considered), and ticks before the instance's activation never fire;
// - a tick refused because the customer's queue (or every queue) is full stores nothing and is
//   logged once: each later pass tries it again while it is still the latest due tick, so it runs
//   late once there is room, or collapses into the next tick like a missed one.
// Cron: five fields (`m h dom mon dow`) in the flow's IANA timezone; a sixth, leading seconds
// field is accepted too. Parsed with cron-parser (the one pg-boss depends on).
import cronParser from 'cron-parser';
import type { IntegrationIndex } from '../integrations.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/types.js';
import { QueueFullError } from './backpressure.js';
import type { Runtime } from './runtime.js';

export interface Scheduler {
  /** Fires what is due now; returns the executions created. */
  tick(now?: Date): Promise<number>;
  start(): void;
  stop(): Promise<void>;
}

/** The latest tick at or before `now`, or undefined when the expression does not parse. */
export function latestTick(cron: string, timezone: string, now: Date): Date | undefined {
  try {
    const expression = cronParser.parseExpression(cron, { currentDate: new Date(now.getTime() + 1), tz: timezone });
    return expression.prev().toDate();
  } catch {
    return undefined;
  }
}

/**
 * The latest tick of a schedule whose interval the customer configured (`intervalField`: whole
 * minutes, on the multiples of the interval since the Unix epoch, so one that divides a day falls at the
 * same UTC times every day); undefined when the instance has no such value (cron applies).
 */
export function intervalTick(field: string | undefined, config: Record<string, unknown>, now: Date): Date | undefined {
  const minutes = field === undefined ? undefined : config[field];
  if (typeof minutes !== 'number' || !Number.isInteger(minutes) || minutes < 1) return undefined;
  const every = minutes * 60_000;
  return new Date(Math.floor(now.getTime() / every) * every);
}

export function createScheduler(options: { store: Store; integrations: IntegrationIndex; runtime: Runtime; intervalMs?: number; logger?: Logger }): Scheduler {
  const { store, integrations, runtime, logger } = options;
  const intervalMs = options.intervalMs ?? 10_000;
  const warned = new Set<string>();
  /** Ticks deferred by a full queue, logged once each (cleared each pass: only the latest tick can be retried). */
  let refused = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;

  async function tick(now = new Date()): Promise<number> {
    let created = 0;
    const deferred = refused;
    refused = new Set();
    const instances = [...(await store.vendor.listInstances({ status: 'active' })), ...(await store.vendor.listInstances({ status: 'error' }))];
    for (const instance of instances) {
      const integration = integrations.of(instance);
      if (!integration) continue;
      for (const [flow, def] of Object.entries(integration.flows)) {
        if (def.trigger.type !== 'schedule') continue;
        const due = intervalTick(def.trigger.intervalField, instance.config, now) ?? latestTick(def.trigger.cron, def.trigger.timezone, now);
        if (!due) {
          const key = `${integration.key}/${flow}`;
          if (!warned.has(key)) logger?.error({ integration: integration.key, flow, cron: def.trigger.cron }, 'schedule does not parse; flow never fires');
          warned.add(key);
          continue;
        }
        if (instance.activatedAt && due.getTime() < Date.parse(instance.activatedAt)) continue;
        const scheduledFor = due.toISOString();
        let row: Awaited<ReturnType<Runtime['trigger']>>;
        try {
          row = await runtime.trigger({
            customerId: instance.customerId,
            instanceId: instance.id,
            flow,
            trigger: 'schedule',
            payload: { body: { scheduledFor }, headers: {} },
            tickKey: scheduledFor,
          });
        } catch (error) {
          if (!(error instanceof QueueFullError)) throw error;
          // Nothing stored: the next pass tries this tick again while it is the latest due one.
          const key = `${instance.id}/${flow}/${scheduledFor}`;
          if (!deferred.has(key)) logger?.warn({ instanceId: instance.id, flow, scheduledFor, scope: error.scope }, 'schedule tick deferred: queue full');
          refused.add(key);
          continue;
        }
        if (row) created++;
      }
    }
    return created;
  }

  const loop = () => {
    if (stopped) return;
    running = tick()
      .catch((error: unknown) => logger?.error({ err: error }, 'scheduler tick failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, intervalMs);
      });
  };

  return {
    tick,
    start() {
      stopped = false;
      loop();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
