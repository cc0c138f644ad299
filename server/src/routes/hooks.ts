// POST /hooks/:token: a webhook trigger. No JWT: the unguessable token in the URL is the
// credential, plus a signature when the flow asks for one (Standard Webhooks, or the integration's
// own verifier for a provider that signs its way). Answers 202 with the execution id as soon as
// the execution is stored and queued; the flow runs later on a runner. A delivery id seen before
// for this flow answers 200 with the first delivery's execution id and runs nothing.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { WebhookAccepted } from 'plugboard/protocol';
import type { BaseEnv, Services } from '../env.js';
import { HttpProblem, problemResponse } from '../problem.js';
import type { Runtime } from '../runtime/runtime.js';
import { runCustomVerifier, verifyStandardWebhook, WebhookRefusedError, type VerifiedDelivery } from '../runtime/webhooks.js';

/** Request headers handed to the flow: content negotiation, the delivery's id and time, and the sender's own `x-` headers (a provider's event name); never `webhook-signature`. */
const FORWARDED = /^(content-type|user-agent|webhook-id|webhook-timestamp|x-(?!forwarded-|real-ip$).+)$/i;

function forwardedHeaders(all: Headers): Record<string, string> {
  const headers: Record<string, string> = {};
  all.forEach((value, name) => {
    if (FORWARDED.test(name)) headers[name.toLowerCase()] = value;
  });
  return headers;
}

function payloadOf(raw: Uint8Array, contentType: string | undefined): unknown {
  const text = Buffer.from(raw).toString('utf8');
  if (text.length === 0) return null;
  if (contentType && /^application\/([\w.+-]*\+)?json\b/i.test(contentType)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new HttpProblem(400, 'validation', 'The body is declared as JSON but does not parse.', {
        errors: [{ path: '(body)', message: 'Invalid JSON' }],
      });
    }
  }
  return text;
}

export function hookRoutes({ store, integrations }: Pick<Services, 'store' | 'integrations'>, runtime: Runtime): Hono<BaseEnv> {
  const app = new Hono<BaseEnv>();
  // Not found, paused, draft or deleted all answer the same 404: an unauthenticated caller learns nothing.
  const gone = () => new HttpProblem(404, 'notFound', 'This webhook URL does not accept requests (unknown, or its instance is not active)');

  app.post(
    '/:token',
    bodyLimit({
      maxSize: runtime.webhookBodyLimitBytes,
      onError: (c) => problemResponse(c, new HttpProblem(413, 'tooLarge', `A webhook body may be at most ${runtime.webhookBodyLimitBytes} bytes`)),
    }),
    async (c) => {
      const endpoint = await runtime.webhooks.resolve(c.req.param('token'));
      if (!endpoint) throw gone();
      // A full queue refuses here, from memory, before anything else is read (backpressure.ts).
      runtime.backpressure.check(endpoint.customerId);
      const instance = await store.vendor.getInstance(endpoint.instanceId);
      if (!instance || (instance.status !== 'active' && instance.status !== 'error')) throw gone();
      const flows = integrations.of(instance)?.flows;
      const flow = flows && Object.hasOwn(flows, endpoint.flow) ? flows[endpoint.flow] : undefined;
      if (!flow || flow.trigger.type !== 'webhook') throw gone();

      const raw = Buffer.from(await c.req.arrayBuffer());
      let delivery: VerifiedDelivery | undefined;
      if (flow.trigger.hmac || flow.trigger.verify) {
        const all: Record<string, string> = {};
        c.req.raw.headers.forEach((value, name) => {
          all[name.toLowerCase()] = value;
        });
        const scheme = flow.trigger.verify ? 'Signature' : 'Standard-Webhooks';
        if (!endpoint.secret) {
          throw new WebhookRefusedError(
            401,
            'This webhook is signed, and no signing secret was generated for it yet',
            [{ path: '(secret)', message: 'Generate a signing secret first' }],
            scheme,
          );
        }
        delivery = flow.trigger.verify
          ? await runCustomVerifier(flow.trigger.verify, { headers: all, rawBody: raw, secret: endpoint.secret })
          : verifyStandardWebhook(endpoint.secret, raw, all);
      }
      const payload = { body: payloadOf(raw, c.req.header('content-type')), headers: forwardedHeaders(c.req.raw.headers) };
      const claim = delivery?.id ? await runtime.webhooks.claimDelivery(endpoint, { id: delivery.id, sentAt: delivery.sentAt }) : undefined;
      if (claim && !claim.first) return c.json({ executionId: claim.executionId } satisfies WebhookAccepted, 200);
      let row: Awaited<ReturnType<Runtime['trigger']>>;
      try {
        row = await runtime.trigger({
          ...(claim ? { id: claim.executionId } : {}),
          customerId: instance.customerId,
          instanceId: instance.id,
          flow: endpoint.flow,
          trigger: 'webhook',
          payload,
        });
      } catch (error) {
        // Nothing ran: give the id back so the sender's retry is not taken for a duplicate.
        if (claim && delivery?.id) await runtime.webhooks.releaseDelivery(endpoint, delivery.id);
        throw error;
      }
      const body: WebhookAccepted = { executionId: row!.id };
      return c.json(body, 202);
    },
  );
  return app;
}
