// Alerts to the vendor: JSON POSTed to PLUGBOARD_ALERT_WEBHOOK_URL, signed the Standard Webhooks
// way with the `standardwebhooks` library (`webhook-id` = the alert's id, the same on every retry;
// `webhook-timestamp`; `webhook-signature: v1,<base64>`), so the vendor verifies with any Standard
// Webhooks library. Sent in the background with retries and exponential backoff; never on the
// request path, and an alert carries ids, names, statuses and error messages, never a credential
// or config value.
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
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

/** PLUGBOARD_ALERT_SECRET's shape: a Standard Webhooks secret, `whsec_` + base64 of 24–64 random bytes. */
export const ALERT_SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/;

/** The three Standard Webhooks headers for one alert body, signed now. */
export function signAlert(secret: string, id: string, body: string, at = new Date()): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign(id, at, body) };
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
  // A secret the library can't read fails here, at start, not on every delivery.
  if (url && secret) new Webhook(secret);
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
        // Signed per attempt: the id stays, the timestamp is fresh, so a late retry is still inside the receiver's window.
        if (secret) Object.assign(headers, signAlert(secret, event.id, body));
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
      const event: AlertEvent = { id: `alert_${randomUUID()}`, type, at: new Date().toISOString(), data };
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
