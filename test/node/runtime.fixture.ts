// Integrations the runtime tests run in real executor processes. Every flow appends its
// execution id to `$RUNTIME_TEST_OUT/<instance id>.<executor id>.log`, so tests count real side effects.
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineIntegration, field, RetryableError, schedule, webhook, type FlowContext } from '../../server/src/sdk/index.js';

interface Payload {
  sleepMs?: number;
  /** `retryable` until `untilAttempt` (exclusive), or `fatal`. */
  fail?: 'retryable' | 'fatal';
  untilAttempt?: number;
  logLines?: number;
  /** A careless flow: logs the secret token, then throws with it or returns it. */
  leak?: 'throw' | 'return' | 'crash';
}

/** This executor process (in its own PID namespace every executor is pid 1). */
const executor = randomUUID();

function record(ctx: FlowContext, tag: string): void {
  const out = process.env.RUNTIME_TEST_OUT;
  // One file per executor process: executors of one customer on two runners may run as different uids.
  if (out) appendFileSync(join(out, `${ctx.instanceId}.${executor}.log`), `${ctx.executionId} ${tag} ${ctx.attempt}\n`);
}

export const recorder = defineIntegration({
  key: 'recorder',
  name: 'Recorder',
  description: 'Writes down every execution.',
  category: 'test',
  version: '1.0.0',
  configPages: [{ title: 'Settings', fields: { label: field.text({ label: 'Label', required: false }), token: field.secret({ label: 'Token' }) } }],
  flows: {
    record: {
      trigger: webhook(),
      async run(ctx) {
        const p = (ctx.payload ?? {}) as Payload;
        ctx.log.info(`attempt ${ctx.attempt} of ${ctx.flow}`);
        for (let i = 0; i < (p.logLines ?? 0); i++) ctx.log.info(`line ${i} ${'x'.repeat(100)}`);
        if (p.sleepMs) await new Promise((r) => setTimeout(r, p.sleepMs));
        if (p.fail === 'fatal') throw new Error('the flow failed on purpose');
        if (p.leak) {
          const token = String(ctx.config.token);
          ctx.log.info('calling with', { headers: { authorization: `Bearer ${token}` } });
          if (p.leak === 'return') return { token, nested: [`t=${token}`] };
          if (p.leak === 'crash') {
            // Thrown outside the flow's promise: the executor process dies on it.
            setTimeout(() => {
              throw new Error(`crashed holding ${token}`);
            }, 0);
            await new Promise((r) => setTimeout(r, 60_000));
          }
          throw new Error(`the provider refused ${token}`);
        }
        if (p.fail === 'retryable' && ctx.attempt < (p.untilAttempt ?? Infinity)) throw new RetryableError(`try again (attempt ${ctx.attempt})`);
        record(ctx, 'record');
        return { ok: true, tokenLength: String(ctx.config.token ?? '').length };
      },
    },
    signed: {
      trigger: webhook({ hmac: true }),
      run(ctx) {
        record(ctx, 'signed');
        return { received: ctx.payload };
      },
    },
    tick: {
      // Six fields (seconds first) so a test sees several ticks in a few seconds.
      trigger: schedule('*/2 * * * * *'),
      run(ctx) {
        record(ctx, `tick ${(ctx.payload as { scheduledFor?: string } | null)?.scheduledFor ?? ''}`);
      },
    },
  },
});

export default [recorder];
