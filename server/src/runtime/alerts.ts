// Alerts to the vendor: JSON POSTed to PLUGBOARD_ALERT_WEBHOOK_URL, signed like Stripe's webhooks:
//   X-Plugboard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>
// Sent in the background with retries and exponential backoff; never on the request path, and an
// alert carries ids, names, statuses and error messages, never a credential or config value.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Logger } from '../logger.js';

export type AlertType = 'execution.failed' | 'instance.error' | 'instance.recovered' | 'instance.activated' | 'instance.paused' | 'instance.deleted';

export interface AlertEvent {
  id: string;
  type: AlertType;
  at: string;
  data: Record<string, unknown>;
}

export interface AlertSender {
  /** Queues one alert; returns at once. */
  send(type: AlertType, data: Record<string, unknown>): void;
  /** Resolves when every queued alert is delivered or has used up its attempts (tests, shutdown). */
  flush(timeoutMs?: number): Promise<void>;
  close(): void;
}

export const SIGNATURE_HEADER = 'X-Plugboard-Signature';

export function signAlert(secret: string, body: string, unixSeconds = Math.floor(Date.now() / 1000)): string {
  const v1 = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${v1}`;
}

/** The receiver's check (documented for vendors; the tests use it too). `toleranceS` guards against replays. */
export function verifyAlertSignature(secret: string, body: string, header: string | null | undefined, toleranceS = 300): boolean {
  if (!header) return false;
  const parts = new Map(header.split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1');
  if (!Number.isInteger(t) || !v1 || !/^[0-9a-f]{64}$/.test(v1)) return false;
  if (Math.abs(Date.now() / 1000 - t) > toleranceS) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'));
  return timingSafeEqual(expected, Buffer.from(v1));
}

export interface AlertSenderOptions {
  url: string | undefined;
  secret: string | undefined;
  logger?: Logger;
  /** Delivery attempts per alert (default 6: about a minute of backoff). */
  maxAttempts?: number;
  baseDelayMs?: number;
  /** Per-request time limit (default 10 s). */
  timeoutMs?: number;
}

/** A sender that does nothing when no URL is configured. */
export function createAlertSender(options: AlertSenderOptions): AlertSender {
  const { url, secret, logger } = options;
  const maxAttempts = options.maxAttempts ?? 6;
  const baseDelay = options.baseDelayMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const pending = new Set<Promise<void>>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  async function deliver(event: AlertEvent): Promise<void> {
    const body = JSON.stringify(event);
    for (let attempt = 1; attempt <= maxAttempts && !closed; attempt++) {
      try {
        const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'plugboard-alerts' };
        if (secret) headers[SIGNATURE_HEADER] = signAlert(secret, body);
        const response = await fetch(url!, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
        await response.body?.cancel();
        if (response.ok) return;
        if (response.status < 500 && response.status !== 408 && response.status !== 429) {
          logger?.warn({ alert: event.type, status: response.status }, 'alert refused by the receiver; not retried');
          return;
        }
      } catch {
        // network error or timeout: retried below
      }
      if (attempt < maxAttempts) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(
            () => {
              timers.delete(timer);
              resolve();
            },
            baseDelay * 2 ** (attempt - 1),
          );
          timers.add(timer);
        });
      }
    }
    logger?.error({ alert: event.type, alertId: event.id }, 'alert could not be delivered');
  }

  return {
    send(type, data) {
      if (!url || closed) return;
      const event: AlertEvent = { id: randomUUID(), type, at: new Date().toISOString(), data };
      const p = deliver(event).finally(() => pending.delete(p));
      pending.add(p);
    },
    async flush(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (pending.size > 0 && Date.now() < deadline) await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, 50))]);
    },
    close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
    },
  };
}
