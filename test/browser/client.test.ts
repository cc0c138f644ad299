import { expect } from '@open-wc/testing';
import { ApiError, createClient } from '../../src/client/index.js';
import { API, FakeApi, catalog, fakeJwt, instance, json, problem } from './fake-api.js';
import { createVendorConsoleClient } from '../../src/client/vendor.js';

describe('createClient', () => {
  let fake: FakeApi;
  beforeEach(() => {
    fake = new FakeApi();
  });
  afterEach(() => fake.restore());

  it('sends the bearer token and parses the catalog', async () => {
    fake.on('GET', '/integrations', catalog);
    const client = createClient({ api: API, token: 'tok-1' });
    const result = await client.catalog();
    expect(result.integrations.map((i) => i.key)).to.deep.equal(['slack', 'hubspot', 'sheets', 'forwarder']);
    expect(fake.calls[0]!.headers.get('authorization')).to.equal('Bearer tok-1');
  });

  it('after a 401 calls getToken again and retries the request once', async () => {
    const old = fakeJwt({ exp: Math.floor(Date.now() / 1000) + 3600 });
    const fresh = fakeJwt({ exp: Math.floor(Date.now() / 1000) + 3600, jti: 'fresh' });
    let issued = 0;
    const getToken = () => (issued++ === 0 ? old : fresh);
    fake.on('GET', '/integrations', (req) =>
      req.headers.get('authorization') === `Bearer ${fresh}` ? json(catalog) : problem(401, { title: 'Token expired' }),
    );
    const client = createClient({ api: API, getToken });
    const result = await client.catalog();
    expect(result.integrations).to.have.length(4);
    expect(issued).to.equal(2);
    expect(fake.count('GET', '/integrations')).to.equal(2);
  });

  it('retries only once: a second 401 surfaces as an ApiError', async () => {
    let issued = 0;
    fake.on('GET', '/integrations', problem(401, { title: 'Unauthorized' }));
    fake.on('GET', '/integrations', () => problem(401, { title: 'Unauthorized' }));
    const client = createClient({ api: API, getToken: () => `t${issued++}` });
    const error = await client.catalog().catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ApiError);
    expect((error as ApiError).status).to.equal(401);
    expect(fake.count('GET', '/integrations')).to.equal(2);
    expect(issued).to.equal(2);
  });

  it('asks for a new token shortly before the current one expires', async () => {
    const soon = fakeJwt({ exp: Math.floor(Date.now() / 1000) + 10 });
    const later = fakeJwt({ exp: Math.floor(Date.now() / 1000) + 3600 });
    const tokens = [soon, later];
    let issued = 0;
    fake.on('GET', '/integrations', catalog);
    const client = createClient({ api: API, getToken: () => tokens[issued++]! });
    await client.catalog();
    expect(issued).to.equal(1);
    await client.catalog(); // the first token expires within the 30 s leeway: a new one is fetched
    expect(issued).to.equal(2);
    await client.catalog();
    expect(issued).to.equal(2);
    expect(fake.calls.map((c) => c.headers.get('authorization'))).to.deep.equal([`Bearer ${soon}`, `Bearer ${later}`, `Bearer ${later}`]);
  });

  it('surfaces a 422 problem with its field errors', async () => {
    fake.on(
      'PUT',
      '/instances/inst-1/config',
      problem(422, {
        type: 'https://plugboard.dev/problems/validation',
        title: 'Invalid config',
        errors: [{ path: 'config.channel', message: 'Channel is required' }],
      }),
    );
    const client = createClient({ api: API, token: 't' });
    const error = (await client.saveConfig('inst-1', { channel: '' }, 3).catch((e: unknown) => e)) as ApiError;
    expect(error).to.be.instanceOf(ApiError);
    expect(error.status).to.equal(422);
    expect(error.errors).to.deep.equal([{ path: 'config.channel', message: 'Channel is required' }]);
    const call = fake.calls[0]!;
    expect(call.headers.get('if-match')).to.equal('"3"');
    expect(call.body).to.deep.equal({ config: { channel: '' }, version: 3 });
  });

  it('rejects a response that does not match the protocol', async () => {
    fake.on('GET', '/instances/inst-1', { id: 'inst-1' });
    const client = createClient({ api: API, token: 't' });
    const error = (await client.instance('inst-1').catch((e: unknown) => e)) as ApiError;
    expect(error).to.be.instanceOf(ApiError);
    expect(error.problem.type).to.equal('about:invalid-response');
  });

  it('rejects a catalog that does not match the protocol (checked without zod), naming no field it cannot see', async () => {
    fake.on('GET', '/integrations', {
      integrations: [
        { key: 'slack', name: 'Slack', description: '', category: 'Messaging', version: '1', instance: { id: 'i', status: 'gone', updatedAt: '' } },
      ],
    });
    const client = createClient({ api: API, token: 't' });
    const error = (await client.catalog().catch((e: unknown) => e)) as ApiError;
    expect(error).to.be.instanceOf(ApiError);
    expect(error.problem.type).to.equal('about:invalid-response');
    expect(error.status).to.equal(200);
  });

  it("reads a token's exp from a base64url payload with '-', '_' and no padding", async () => {
    // A name whose UTF-8 bytes encode to '-' and '_' in base64url, and a payload length that needs padding back.
    const utf8 = (o: unknown) => String.fromCharCode(...new TextEncoder().encode(JSON.stringify(o)));
    const b64url = (o: unknown) => btoa(utf8(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    const token = (exp: number, name: string) => `${b64url({ alg: 'ES256' })}.${b64url({ sub: 'u', name, exp })}.c2ln`;
    const soon = token(Math.floor(Date.now() / 1000) + 10, 'Zoë ~~~>>>???');
    expect(soon.split('.')[1]).to.match(/[-_]/);
    const later = token(Math.floor(Date.now() / 1000) + 3600, 'Zoë');
    const tokens = [soon, later];
    let issued = 0;
    fake.on('GET', '/integrations', catalog);
    const client = createClient({ api: API, getToken: () => tokens[issued++]! });
    await client.catalog();
    await client.catalog(); // `soon` expires within the leeway: had its exp not been read, no new token
    expect(issued).to.equal(2);
    await client.catalog();
    expect(issued).to.equal(2);
  });

  it('reports a network failure as status 0', async () => {
    fake.on('GET', '/integrations', () => Promise.reject(new TypeError('Failed to fetch')));
    const client = createClient({ api: API, token: 't' });
    const error = (await client.catalog().catch((e: unknown) => e)) as ApiError;
    expect(error.status).to.equal(0);
  });

  it('sends the idempotency key, encodes path segments and passes the abort signal through', async () => {
    fake.on('POST', '/instances', (req) => json(instance({ integrationKey: (req.body as { integrationKey: string }).integrationKey }), 201));
    // Unsaved values go in a POST body (audited, admins only); without them the call is a GET.
    fake.on('POST', /^\/instances\/a%2Fb\/data-sources\/channels$/, (req) => {
      const body = req.body as { q: string; config: { team: string } };
      return json({ options: [{ value: 'c1', label: `q=${body.q} team=${body.config.team}` }] });
    });
    fake.on('GET', /^\/instances\/a%2Fb\/data-sources\/channels$/, (req) =>
      json({ options: [{ value: 'c2', label: `q=${req.search.get('q')} config=${req.search.get('config')}` }] }),
    );
    const client = createClient({ api: API, token: 't' });
    const created = await client.createInstance('slack', 'idem-1');
    expect(created.integrationKey).to.equal('slack');
    expect(fake.calls[0]!.headers.get('idempotency-key')).to.equal('idem-1');
    const options = await client.dataSource('a/b', 'channels', 'gen', { team: 'T1' });
    expect(options).to.deep.equal([{ value: 'c1', label: 'q=gen team=T1' }]);
    expect(await client.dataSource('a/b', 'channels', 'gen', {})).to.deep.equal([{ value: 'c2', label: 'q=gen config=null' }]);

    const controller = new AbortController();
    controller.abort();
    const aborted = await client.catalog(controller.signal).catch((e: unknown) => e);
    expect((aborted as Error).name).to.equal('AbortError');
  });

  it('re-reads the instance when a mutation answers 204', async () => {
    fake.on('POST', '/instances/inst-1/activate', () => new Response(null, { status: 204 }));
    fake.on('GET', '/instances/inst-1', instance({ status: 'active' }));
    const client = createClient({ api: API, token: 't' });
    const result = await client.activate('inst-1');
    expect(result.status).to.equal('active');
  });
});

describe('createVendorConsoleClient', () => {
  it('refuses a provider sign-in for a customer plainly, without calling the API: staff send the customer a link', async () => {
    const fake = new FakeApi();
    try {
      const client = createVendorConsoleClient({ api: API, token: 't' }).forCustomer('globex');
      const error = await client.authorize('inst-1', 'crm').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(ApiError);
      expect((error as ApiError).status).to.equal(403);
      expect((error as ApiError).message).to.contain('Send them a link');
      expect(fake.calls).to.deep.equal([]);
    } finally {
      fake.restore();
    }
  });
});
