// Integrations for webhook-signatures.test.ts, run in real executor processes. Each flow appends
// `<execution id> <flow>` to `$RUNTIME_TEST_OUT/<instance id>.<executor id>.log`, so tests count real runs.
import { appendFileSync } from 'node:fs';
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { defineIntegration, webhook, type FlowContext, type WebhookVerifier } from '../../server/src/sdk/index.js';

/** This executor process (in its own PID namespace every executor may be pid 1). */
const executor = randomUUID();

function record(ctx: FlowContext): { headers: Record<string, string> } {
  const out = process.env.RUNTIME_TEST_OUT;
  if (out) appendFileSync(join(out, `${ctx.instanceId}.${executor}.log`), `${ctx.executionId} ${ctx.flow} ${ctx.attempt}\n`);
  return { headers: ctx.headers };
}

/** GitHub's scheme (its own, not ours): `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, id in `X-GitHub-Delivery`. */
export const verifyGitHub: WebhookVerifier = ({ headers, rawBody, secret }) => {
  const given = Buffer.from(headers['x-hub-signature-256'] ?? '');
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
  return { id: headers['x-github-delivery'] };
};

export const hooks = defineIntegration({
  key: 'hooks',
  name: 'Hooks',
  description: 'Webhook flows signed in every supported way.',
  category: 'test',
  version: '1.0.0',
  flows: {
    open: { trigger: webhook(), run: record },
    signed: { trigger: webhook({ signed: true }), run: record },
    legacy: { trigger: webhook({ hmac: true }), run: record },
    github: { trigger: webhook({ verify: verifyGitHub }), run: record },
    broken: {
      trigger: webhook({
        verify: () => {
          throw new Error('the verifier failed');
        },
      }),
      run: record,
    },
    async: { trigger: webhook({ verify: async ({ headers }) => Promise.resolve(headers['x-ok'] === 'yes') }), run: record },
  },
});

export default [hooks];
