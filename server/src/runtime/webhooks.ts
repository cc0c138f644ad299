// Webhook endpoints: one unguessable URL per instance flow (`POST /hooks/<token>`).
//
// Policy: the token is made the first time the instance's URLs are asked for (or at activation)
// and stays stable across pause and re-activation, so senders configured by the customer keep
// working; it dies with the instance. Only its SHA-256 is used for look-up; the token itself is
// kept encrypted to show the URL again. The optional HMAC secret is generated on request and shown
// once (`POST /api/v1/instances/:id/webhooks/:flow/secret`), like a personal access token.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { WebhookEndpoint } from 'plugboard/protocol';
import type { Integration } from '../sdk/index.js';
import type { Cipher } from '../secrets.js';
import type { InstanceRecord } from '../store/types.js';
import type { RuntimeDb } from './schema.js';

export const HOOK_SIGNATURE_HEADER = 'x-plugboard-signature';

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');
const tokenAad = (instanceId: string, flow: string) => `${instanceId}/hooks/${flow}`;
const secretAad = (instanceId: string, flow: string) => `${instanceId}/hooks/${flow}/secret`;

export interface ResolvedEndpoint {
  instanceId: string;
  customerId: string;
  flow: string;
  /** The signing secret, decrypted; null when none was generated. */
  secret: string | null;
}

/** Checks `sha256=<hex>` (HMAC-SHA256 of the raw body) in constant time. */
export function verifyHookSignature(secret: string, rawBody: Uint8Array, header: string | undefined): boolean {
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? '');
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return timingSafeEqual(expected, Buffer.from(match[1]!, 'hex'));
}

export class WebhookEndpoints {
  constructor(
    private readonly db: RuntimeDb,
    private readonly cipher: Cipher,
    private readonly publicUrl: string,
  ) {}

  /** Makes sure every webhook flow of the instance has its token. Safe to call concurrently. */
  async ensure(instance: Pick<InstanceRecord, 'id' | 'customerId'>, integration: Integration): Promise<void> {
    for (const [flow, def] of Object.entries(integration.flows)) {
      if (def.trigger.type !== 'webhook') continue;
      const token = randomBytes(32).toString('base64url');
      await this.db
        .insertInto('webhook_endpoints')
        .values({
          token_hash: tokenHash(token),
          instance_id: instance.id,
          customer_id: instance.customerId,
          flow,
          token_ciphertext: this.cipher.encrypt(token, tokenAad(instance.id, flow)),
          secret_ciphertext: null,
          created_at: new Date().toISOString(),
        })
        .onConflict((oc) => oc.columns(['instance_id', 'flow']).doNothing())
        .execute();
    }
  }

  /** The URLs to show on the Instance response (`webhooks`), creating missing tokens. */
  async list(instance: Pick<InstanceRecord, 'id' | 'customerId'>, integration: Integration): Promise<WebhookEndpoint[]> {
    const flows = Object.entries(integration.flows).filter(([, def]) => def.trigger.type === 'webhook');
    if (flows.length === 0) return [];
    const read = () =>
      this.db
        .selectFrom('webhook_endpoints')
        .select(['flow', 'token_ciphertext'])
        .where('instance_id', '=', instance.id)
        .where('customer_id', '=', instance.customerId)
        .orderBy('flow')
        .execute();
    let rows = await read();
    // Reads are the common case (every instance response): write only when a token is missing.
    if (flows.some(([flow]) => !rows.some((row) => row.flow === flow))) {
      await this.ensure(instance, integration);
      rows = await read();
    }
    return rows.flatMap((row) => {
      const def = integration.flows[row.flow];
      if (!def || def.trigger.type !== 'webhook') return [];
      const token = this.cipher.decrypt(row.token_ciphertext, tokenAad(instance.id, row.flow));
      return [{ flow: row.flow, url: `${this.publicUrl}/hooks/${token}`, hmac: def.trigger.hmac }];
    });
  }

  async resolve(token: string): Promise<ResolvedEndpoint | undefined> {
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return undefined;
    const row = await this.db
      .selectFrom('webhook_endpoints')
      .select(['instance_id', 'customer_id', 'flow', 'secret_ciphertext'])
      .where('token_hash', '=', tokenHash(token))
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      instanceId: row.instance_id,
      customerId: row.customer_id,
      flow: row.flow,
      secret: row.secret_ciphertext ? this.cipher.decrypt(row.secret_ciphertext, secretAad(row.instance_id, row.flow)) : null,
    };
  }

  /** Generates a new signing secret for one flow and returns it (the only time it is shown). */
  async rotateSecret(instance: Pick<InstanceRecord, 'id' | 'customerId'>, integration: Integration, flow: string): Promise<string | undefined> {
    await this.ensure(instance, integration);
    const secret = `whsec_${randomBytes(32).toString('base64url')}`;
    const result = await this.db
      .updateTable('webhook_endpoints')
      .set({ secret_ciphertext: this.cipher.encrypt(secret, secretAad(instance.id, flow)) })
      .where('instance_id', '=', instance.id)
      .where('customer_id', '=', instance.customerId)
      .where('flow', '=', flow)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1 ? secret : undefined;
  }
}
