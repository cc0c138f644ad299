// Webhook endpoints: one unguessable URL per instance flow (`POST /hooks/<token>`).
//
// Policy: the token is made the first time the instance's URLs are asked for (or at activation)
// and stays stable across pause and re-activation, so senders configured by the customer keep
// working; it dies with the instance. Only its SHA-256 is used for look-up; the token itself is
// kept encrypted to show the URL again. A signed flow's secret (a Standard Webhooks `whsec_…`) is
// generated on request and shown once (`POST /api/v1/instances/:id/webhooks/:flow/secret`), like a
// personal access token, and kept encrypted.
//
// Signed deliveries follow Standard Webhooks (`webhook-id`, `webhook-timestamp`,
// `webhook-signature`), checked by the `standardwebhooks` library: a timestamp more than five
// minutes old or ahead is refused, and a `webhook-id` is claimed once per flow, so a replay or a
// redelivery inside the window does not run again (and outside it, its timestamp is refused).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { FieldError, WebhookEndpoint } from 'plugboard/protocol';
import type { Integration, WebhookTrigger } from '../sdk/index.js';
import type { Cipher } from '../secrets.js';
import { customerTag, instanceTag, type StoreCache } from '../store/cache.js';
import type { InstanceRecord } from '../store/types.js';
import type { RuntimeDb } from './schema.js';

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');
const tokenAad = (instanceId: string, flow: string) => `${instanceId}/hooks/${flow}`;
const secretAad = (instanceId: string, flow: string) => `${instanceId}/hooks/${flow}/secret`;

/** How far a `webhook-timestamp` may be from now, either way (the spec's and the library's five minutes). */
export const SIGNATURE_TOLERANCE_S = 5 * 60;
/** Time a custom verifier gets before the delivery is refused. */
export const VERIFIER_TIMEOUT_MS = 5_000;
const MAX_DELIVERY_ID = 256;
/** Expired delivery ids are pruned at most this often per process (on the next delivery). */
const PRUNE_EVERY_MS = 60_000;

/** A delivery refused before anything runs: 401 (not authenticated) or 400 (a header that can't be read). Mapped in problemFor. */
export class WebhookRefusedError extends Error {
  override name = 'WebhookRefusedError';
  constructor(
    readonly status: 400 | 401,
    message: string,
    readonly errors: FieldError[],
    /** The scheme a 401 names in `WWW-Authenticate`. */
    readonly scheme: string,
  ) {
    super(message);
  }
}

const STANDARD = 'Standard-Webhooks';
const header = (name: string, message: string): FieldError[] => [{ path: `headers.${name}`, message }];

export interface ResolvedEndpoint {
  instanceId: string;
  customerId: string;
  flow: string;
  /** The signing secret, decrypted; null when none was generated. */
  secret: string | null;
}

/** A verified delivery: its id (claimed once per flow) and the instant its freshness is counted from. */
export interface VerifiedDelivery {
  id: string | undefined;
  sentAt: Date;
}

/**
 * Checks a Standard Webhooks delivery with the library. Says which header is wrong: missing
 * headers or a bad signature → 401, an old or future-dated timestamp → 401 naming it, an
 * unreadable timestamp or an over-long id → 400.
 */
export function verifyStandardWebhook(secret: string, rawBody: Buffer, headers: Readonly<Record<string, string>>, now = Date.now()): VerifiedDelivery {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signature = headers['webhook-signature'];
  const missing = (['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const).filter((name) => !headers[name]);
  if (missing.length > 0) {
    throw new WebhookRefusedError(
      401,
      `This webhook must be signed the Standard Webhooks way: ${missing.join(', ')} missing`,
      missing.flatMap((name) => header(name, 'Required')),
      STANDARD,
    );
  }
  if (id!.length > MAX_DELIVERY_ID)
    throw new WebhookRefusedError(400, 'webhook-id is too long', header('webhook-id', `At most ${MAX_DELIVERY_ID} characters`), STANDARD);
  if (!/^\d{1,12}$/.test(timestamp!)) {
    throw new WebhookRefusedError(
      400,
      'webhook-timestamp is not a Unix time in seconds',
      header('webhook-timestamp', 'Expected whole seconds since 1970'),
      STANDARD,
    );
  }
  const sentS = Number(timestamp);
  const nowS = Math.floor(now / 1000);
  if (nowS - sentS > SIGNATURE_TOLERANCE_S) {
    throw new WebhookRefusedError(
      401,
      'The delivery is too old to be accepted',
      header('webhook-timestamp', `More than ${SIGNATURE_TOLERANCE_S} s in the past`),
      STANDARD,
    );
  }
  if (sentS - nowS > SIGNATURE_TOLERANCE_S) {
    throw new WebhookRefusedError(
      401,
      'The delivery is dated in the future',
      header('webhook-timestamp', `More than ${SIGNATURE_TOLERANCE_S} s ahead`),
      STANDARD,
    );
  }
  let verifier: Webhook;
  try {
    verifier = new Webhook(secret);
  } catch {
    // Secrets made before Standard Webhooks signing are not base64: the customer must generate a new one.
    throw new WebhookRefusedError(401, 'This flow needs a new signing secret', header('webhook-signature', 'Generate a new signing secret'), STANDARD);
  }
  try {
    verifier.verify(rawBody, { 'webhook-id': id!, 'webhook-timestamp': timestamp!, 'webhook-signature': signature! }, { jsonParse: false });
  } catch {
    throw new WebhookRefusedError(401, 'The webhook signature does not match', header('webhook-signature', 'No v1 signature matches'), STANDARD);
  }
  return { id, sentAt: new Date(sentS * 1000) };
}

/** Runs an integration's own verifier (in this process: it needs the secret) with a time limit; a throw or a timeout refuses. */
export async function runCustomVerifier(
  verify: NonNullable<WebhookTrigger['verify']>,
  input: { headers: Readonly<Record<string, string>>; rawBody: Buffer; secret: string },
  timeoutMs = VERIFIER_TIMEOUT_MS,
): Promise<VerifiedDelivery> {
  const refused = (message: string) => new WebhookRefusedError(401, message, [{ path: '(signature)', message }], 'Signature');
  let timer: NodeJS.Timeout | undefined;
  let verdict: Awaited<ReturnType<typeof verify>>;
  try {
    verdict = await Promise.race([
      Promise.resolve().then(() => verify({ headers: input.headers, rawBody: Buffer.from(input.rawBody), secret: input.secret })),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
  } catch {
    throw refused('The webhook signature could not be verified');
  } finally {
    clearTimeout(timer);
  }
  if (verdict === true) return { id: undefined, sentAt: new Date() };
  if (verdict && typeof verdict === 'object') {
    const id = typeof verdict.id === 'string' && verdict.id.length > 0 ? verdict.id : undefined;
    if (id && id.length > MAX_DELIVERY_ID)
      throw new WebhookRefusedError(
        400,
        'The delivery id is too long',
        [{ path: '(delivery id)', message: `At most ${MAX_DELIVERY_ID} characters` }],
        'Signature',
      );
    return { id, sentAt: new Date() };
  }
  throw refused('The webhook signature does not match');
}

/** Outcome of claiming a delivery id: the first claim runs (with the execution id it reserved); a later one gets the first's. */
export type DeliveryClaim = { first: true; executionId: string } | { first: false; executionId: string };

export class WebhookEndpoints {
  private lastPrune = 0;

  constructor(
    private readonly db: RuntimeDb,
    /** Endpoints by token hash, dropped with their instance or customer, and when a secret is rotated. */
    private readonly cache: StoreCache,
    private readonly cipher: Cipher,
    private readonly publicUrl: string,
  ) {}

  /**
   * Claims a delivery id for one instance flow: an insert against the primary key, so of two
   * replicas (or two concurrent requests) exactly one wins on SQLite and PostgreSQL alike.
   */
  async claimDelivery(endpoint: Pick<ResolvedEndpoint, 'instanceId' | 'customerId' | 'flow'>, delivery: { id: string; sentAt: Date }): Promise<DeliveryClaim> {
    await this.pruneDeliveries();
    const executionId = randomUUID();
    const inserted = await this.db
      .insertInto('webhook_deliveries')
      .values({
        instance_id: endpoint.instanceId,
        customer_id: endpoint.customerId,
        flow: endpoint.flow,
        delivery_id: delivery.id,
        execution_id: executionId,
        sent_at: delivery.sentAt.toISOString(),
      })
      .onConflict((oc) => oc.columns(['instance_id', 'flow', 'delivery_id']).doNothing())
      .returning('execution_id')
      .executeTakeFirst();
    if (inserted) return { first: true, executionId };
    const seen = await this.db
      .selectFrom('webhook_deliveries')
      .select('execution_id')
      .where('instance_id', '=', endpoint.instanceId)
      .where('flow', '=', endpoint.flow)
      .where('delivery_id', '=', delivery.id)
      .executeTakeFirst();
    // Pruned between the two statements: it is past the window, so the first one is long done.
    return { first: false, executionId: seen?.execution_id ?? executionId };
  }

  /** Gives a claim back when its execution could not be stored or queued, so the sender's retry runs. */
  async releaseDelivery(endpoint: Pick<ResolvedEndpoint, 'instanceId' | 'flow'>, deliveryId: string): Promise<void> {
    await this.db
      .deleteFrom('webhook_deliveries')
      .where('instance_id', '=', endpoint.instanceId)
      .where('flow', '=', endpoint.flow)
      .where('delivery_id', '=', deliveryId)
      .execute();
  }

  /** Drops ids whose timestamp is past the tolerance: such a delivery is refused as too old anyway. */
  async pruneDeliveries(now = Date.now(), force = false): Promise<void> {
    if (!force && now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    const cutoff = new Date(now - SIGNATURE_TOLERANCE_S * 1000).toISOString();
    await this.db.deleteFrom('webhook_deliveries').where('sent_at', '<', cutoff).execute();
  }

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
      const def = Object.hasOwn(integration.flows, row.flow) ? integration.flows[row.flow] : undefined;
      if (!def || def.trigger.type !== 'webhook') return [];
      const token = this.cipher.decrypt(row.token_ciphertext, tokenAad(instance.id, row.flow));
      return [{ flow: row.flow, url: `${this.publicUrl}/hooks/${token}`, hmac: def.trigger.hmac }];
    });
  }

  async resolve(token: string): Promise<ResolvedEndpoint | undefined> {
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return undefined;
    const hash = tokenHash(token);
    // The secret stays encrypted in memory; it is opened per delivery.
    const row = await this.cache.read(
      `endpoint:${hash}`,
      (found) => [instanceTag(found.instance_id), customerTag(found.customer_id)],
      () =>
        this.db
          .selectFrom('webhook_endpoints')
          .select(['instance_id', 'customer_id', 'flow', 'secret_ciphertext'])
          .where('token_hash', '=', hash)
          .executeTakeFirst(),
    );
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
    // Standard Webhooks secrets are `whsec_` + base64 of the key (24–64 random bytes).
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const result = await this.db
      .updateTable('webhook_endpoints')
      .set({ secret_ciphertext: this.cipher.encrypt(secret, secretAad(instance.id, flow)) })
      .where('instance_id', '=', instance.id)
      .where('customer_id', '=', instance.customerId)
      .where('flow', '=', flow)
      .executeTakeFirst();
    // Senders must be checked against the new secret in every process at once.
    const tags = [instanceTag(instance.id)];
    await this.cache.announce(this.db, tags);
    this.cache.invalidate(tags);
    return Number(result.numUpdatedRows) === 1 ? secret : undefined;
  }
}
