// Finding a customer through the vendor API: search by id or name, stable cursor paging, and what
// the console reads about one customer (its catalog with the plan flagged). SQLite always;
// PostgreSQL too when PLUGBOARD_TEST_DATABASE_URL is set.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Catalog, CustomerList, PROBLEM_CONTENT_TYPE } from '../../src/protocol/index.js';
import { defineIntegration } from '../../server/src/sdk/index.js';
import { createHarness, PG_URL, type Harness } from './fixtures/harness.js';

const integrations = [
  defineIntegration({ key: 'notes', name: 'Notes', description: 'Notes sync.', category: 'Productivity', version: '1.0.0', labels: ['starter'] }),
  defineIntegration({ key: 'erp', name: 'ERP', description: 'ERP sync.', category: 'Finance', version: '1.0.0', labels: ['pro'] }),
];

const viewer = { role: 'vendor', customer: undefined, customer_name: undefined, sub: 'jane', vendor_role: 'viewer' };

const engines = [
  { name: 'sqlite' as const, skip: false as const },
  { name: 'postgres' as const, skip: PG_URL ? (false as const) : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped' },
];

for (const engine of engines) {
  describe(`vendor customer search on ${engine.name}`, { skip: engine.skip }, () => {
    const harness = async (t: { after(fn: () => unknown): void }): Promise<Harness> => {
      const h = await createHarness(t, { engine: engine.name, integrations });
      // Each customer is created the first time its token is seen.
      for (const [customer, name] of [
        ['globex', 'Globex Corporation'],
        ['acme', 'Acme Inc.'],
        ['initech', 'Initech'],
        ['acme-eu', 'ACME Europe'],
        ['hooli', '100%_Hooli'],
      ]) {
        const seen = await h.call('GET', '/api/v1/integrations', { as: { customer, customer_name: name } });
        assert.equal(seen.status, 200);
      }
      return h;
    };
    const search = async (h: Harness, query: string) => {
      const res = await h.call('GET', `/api/v1/vendor/customers${query}`, { as: viewer });
      assert.equal(res.status, 200, res.text);
      return CustomerList.parse(res.body);
    };
    const ids = (list: CustomerList) => list.customers.map((c) => c.externalId);

    test('q finds by the vendor’s id, the name or Plugboard’s id, in any case; LIKE wildcards are plain characters', async (t) => {
      const h = await harness(t);
      assert.deepEqual(ids(await search(h, '')), ['acme', 'acme-eu', 'globex', 'hooli', 'initech'], 'ordered by the vendor’s id');
      assert.deepEqual(ids(await search(h, '?q=ACME')), ['acme', 'acme-eu'], 'id and name, any case');
      assert.deepEqual(ids(await search(h, '?q=corpor')), ['globex'], 'a part of the name');
      assert.deepEqual(ids(await search(h, `?q=${encodeURIComponent('%_')}`)), ['hooli'], '% and _ match only themselves');
      assert.deepEqual(ids(await search(h, `?q=${encodeURIComponent('%')}`)), ['hooli']);
      const initech = (await search(h, '?q=initech')).customers[0]!;
      assert.deepEqual(ids(await search(h, `?q=${initech.id}`)), ['initech'], 'Plugboard’s id');
      assert.deepEqual(ids(await search(h, '?q=nobody')), []);
    });

    test('cursor paging visits every customer once, in order, while customers are added', async (t) => {
      const h = await harness(t);
      const seen: string[] = [];
      let page = await search(h, '?limit=2');
      seen.push(...ids(page));
      // A customer first seen mid-way, before the cursor: it does not shift the pages after it.
      await h.call('GET', '/api/v1/integrations', { as: { customer: 'aaa-new', customer_name: 'New' } });
      while (page.nextCursor) {
        page = await search(h, `?limit=2&cursor=${page.nextCursor}`);
        seen.push(...ids(page));
      }
      assert.deepEqual(seen, ['acme', 'acme-eu', 'globex', 'hooli', 'initech']);
      const filtered = await search(h, '?q=acme&limit=1');
      assert.deepEqual(ids(filtered), ['acme']);
      assert.deepEqual(ids(await search(h, `?q=acme&limit=1&cursor=${filtered.nextCursor}`)), ['acme-eu']);
    });

    test('a bad cursor or limit is a 422 naming the parameter', async (t) => {
      const h = await harness(t);
      for (const [query, field] of [
        ['?cursor=not*a*cursor', 'query.cursor'],
        ['?limit=0', 'query.limit'],
        ['?limit=101', 'query.limit'],
        ['?limit=two', 'query.limit'],
      ] as const) {
        const res = await h.call('GET', `/api/v1/vendor/customers${query}`, { as: viewer });
        assert.equal(res.status, 422, `${query}: ${res.text}`);
        assert.equal(res.headers.get('content-type'), PROBLEM_CONTENT_TYPE);
        assert.deepEqual(
          res.body.errors.map((e: { path: string }) => e.path),
          [field],
        );
      }
    });

    test('a customer’s catalog for staff: every integration, those outside the plan flagged; unknown customer 404', async (t) => {
      const h = await harness(t);
      const admin = { ...viewer, vendor_role: 'admin' };
      const set = await h.call('PUT', '/api/v1/vendor/customers/acme/entitlements', { as: admin, body: { entitlements: ['starter'] } });
      assert.equal(set.status, 200, set.text);
      const res = await h.call('GET', '/api/v1/vendor/customers/acme/integrations', { as: viewer });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(
        Catalog.parse(res.body).integrations.map((i) => [i.key, i.entitled !== false]),
        [
          ['notes', true],
          ['erp', false],
        ],
      );
      const detail = await h.call('GET', '/api/v1/vendor/customers/acme/integrations/erp', { as: viewer });
      assert.equal(detail.status, 200, detail.text);
      assert.equal(detail.body.key, 'erp');
      assert.equal((await h.call('GET', '/api/v1/vendor/customers/nobody/integrations', { as: viewer })).status, 404);
      assert.equal((await h.call('GET', '/api/v1/vendor/customers/acme/integrations/nope', { as: viewer })).status, 404);
    });
  });
}
