// POST /hooks/:token: a webhook trigger. No JWT: the unguessable token in the URL is the
// credential, plus an HMAC signature when the flow asks for one. Answers 202 with the execution
// id as soon as the execution is stored and queued; the flow runs later on a runner.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { WebhookAccepted } from 'plugboard/protocol';
import type { BaseEnv, Services } from '../env.js';
import { HttpProblem, problemResponse } from '../problem.js';
import type { Runtime } from '../runtime/runtime.js';
import { HOOK_SIGNATURE_HEADER, verifyHookSignature } from '../runtime/webhooks.js';

/** Request headers handed to the flow: content negotiation and the sender's own `x-` headers, never credentials. */
const FORWARDED = /^(content-type|user-agent|x-(?!plugboard-signature$|forwarded-|real-ip$).+)$/i;

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
      const instance = await store.vendor.getInstance(endpoint.instanceId);
      if (!instance || (instance.status !== 'active' && instance.status !== 'error')) throw gone();
      const flow = integrations.get(instance.integrationKey)?.flows[endpoint.flow];
      if (!flow || flow.trigger.type !== 'webhook') throw gone();

      const raw = new Uint8Array(await c.req.arrayBuffer());
      if (flow.trigger.hmac) {
        const signature = c.req.header(HOOK_SIGNATURE_HEADER);
        if (!endpoint.secret || !verifyHookSignature(endpoint.secret, raw, signature)) {
          throw new HttpProblem(401, 'unauthorized', `This webhook needs a valid X-Plugboard-Signature: sha256=<hex HMAC-SHA256 of the raw body>`, {
            headers: { 'www-authenticate': 'HMAC-SHA256' },
          });
        }
      }
      const headers: Record<string, string> = {};
      c.req.raw.headers.forEach((value, name) => {
        if (FORWARDED.test(name)) headers[name.toLowerCase()] = value;
      });
      const row = await runtime.trigger({
        customerId: instance.customerId,
        instanceId: instance.id,
        flow: endpoint.flow,
        trigger: 'webhook',
        payload: { body: payloadOf(raw, c.req.header('content-type')), headers },
      });
      const body: WebhookAccepted = { executionId: row!.id };
      return c.json(body, 202);
    },
  );
  return app;
}
