// The marketplace catalog and integration detail, with this customer's instance (and the accounts
// its connections are connected as) merged in. The
// JSON is prepared once per integration set (catalog.ts); answers carry a weak ETag (304 to a
// matching If-None-Match) and go compressed when the client accepts gzip or br.
import fresh from 'fresh';
import type { Context } from 'hono';
import { accepts } from 'hono/accepts';
import { Hono } from 'hono';
import { accountNamesOf, createCatalogAnswers, type AccountNames, type CatalogAccess, type CatalogRepresentation, type ContentEncoding } from '../catalog.js';
import { grantsOf } from '../entitlements.js';
import type { CustomerEnv, Services } from '../env.js';
import { notFound, validationProblem } from '../problem.js';
import { addVary, setResponseHeader } from '../response-headers.js';
import type { InstanceRecord } from '../store/types.js';

/** Smaller bodies go uncompressed: the framing would cost more than it saves. */
const COMPRESS_MIN_BYTES = 1024;
const SUPPORTED_ENCODINGS: ContentEncoding[] = ['br', 'gzip'];

// Browsers send a handful of distinct Accept-Encoding values: negotiate each once.
const negotiated = new Map<string, ContentEncoding | 'identity'>();

function encodingFor(c: Context<CustomerEnv>): ContentEncoding | 'identity' {
  const header = c.req.header('accept-encoding');
  if (!header) return 'identity';
  let encoding = negotiated.get(header);
  if (encoding === undefined) {
    encoding = accepts(c, { header: 'Accept-Encoding', supports: SUPPORTED_ENCODINGS, default: 'identity' }) as ContentEncoding | 'identity';
    if (negotiated.size < 100) negotiated.set(header, encoding);
  }
  return encoding;
}

// Not async once the compressed body is made (every answer but the first of an ETag): the route
// hands back a Response, not a promise (each costs microtask turns per request).
function answer(c: Context<CustomerEnv>, representation: CatalogRepresentation): Response | Promise<Response> {
  // private: the answer is this customer's; no-cache: a browser keeps it but asks again with
  // If-None-Match, and a 304 costs neither the body nor its serialization.
  const ifNoneMatch = c.req.header('if-none-match');
  const notModified =
    ifNoneMatch !== undefined && fresh({ 'if-none-match': ifNoneMatch, 'cache-control': c.req.header('cache-control') }, { etag: representation.etag });
  const encoding = notModified ? 'identity' : encodingFor(c);
  if (encoding === 'identity' || representation.json.length < COMPRESS_MIN_BYTES) return respond(c, representation, notModified, encoding, undefined);
  const body = representation.encodedNow(encoding);
  if (body) return respond(c, representation, notModified, encoding, body);
  return representation.encoded(encoding).then((made) => respond(c, representation, notModified, encoding, made));
}

function respond(
  c: Context<CustomerEnv>,
  representation: CatalogRepresentation,
  notModified: boolean,
  encoding: ContentEncoding | 'identity',
  body: Uint8Array<ArrayBuffer> | undefined,
): Response {
  // Set once nothing can fail any more (they go on the socket's response: response-headers.ts).
  setResponseHeader(c, 'etag', representation.etag);
  setResponseHeader(c, 'cache-control', 'private, no-cache');
  addVary(c, 'Accept-Encoding');
  if (notModified) return c.body(null, 304);
  if (body) setResponseHeader(c, 'content-encoding', encoding);
  return c.body(body ?? representation.json, 200, { 'content-type': 'application/json' });
}

/** The customer's entitlements, and `?include=unentitled` to list the others flagged (the marketplace's "higher plan" cards). */
function accessOf(c: Context<CustomerEnv>): CatalogAccess {
  const include = c.req.query('include');
  if (include !== undefined && include !== 'unentitled') throw validationProblem([{ path: 'include', message: 'include may only be "unentitled"' }]);
  return { grants: grantsOf(c.get('customer'), c.get('claims')), includeUnentitled: include === 'unentitled' };
}

export function integrationRoutes({ integrations }: Pick<Services, 'integrations'>): Hono<CustomerEnv> {
  const app = new Hono<CustomerEnv>();
  const catalog = createCatalogAnswers(integrations);

  // Only an integration with an `identify` names accounts: other customers' catalogs cost no connections query.
  const naming = new Set(
    [...integrations.values()].filter((i) => Object.values(i.connections).some((c) => c.kind !== 'clientCredentials' && c.identify)).map((i) => i.key),
  );
  const noAccounts: AccountNames = new Map();

  /** The customer's instances and the accounts their connections are connected as. */
  async function customerState(c: Context<CustomerEnv>): Promise<[InstanceRecord[], AccountNames]> {
    const tenant = c.get('tenant');
    const instances = await tenant.listInstances();
    const named = instances.some((i) => naming.has(i.integrationKey));
    return [instances, named ? accountNamesOf(await tenant.listAllConnections()) : noAccounts];
  }

  app.get('/integrations', async (c) => {
    const [instances, accounts] = await customerState(c);
    return answer(c, catalog.list(instances, accessOf(c), accounts));
  });

  app.get('/integrations/:key', async (c) => {
    const key = c.req.param('key');
    const [instances, accounts] = await customerState(c);
    const detail = integrations.has(key) ? catalog.detail(key, instances, accessOf(c), accounts) : undefined;
    if (!detail) throw notFound(`Integration "${key}"`);
    return answer(c, detail);
  });

  return app;
}
