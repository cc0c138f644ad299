// GET /api/v1/openapi.json: the document a vendor's backend builds on. It must be valid OpenAPI 3.1
// (checked by @readme/openapi-parser, a maintained validator) and list exactly the routes the Hono
// app serves, both ways, with and without the flow runtime, so the two can't drift apart.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compileErrors, validate } from '@readme/openapi-parser';
import type { Hono } from 'hono';
import type { OpenAPIObject, OperationObject, ReferenceObject, ResponseObject } from 'openapi3-ts/oas31';
import { PATH_ALIASES } from '../../server/src/app.js';
import { PROBLEM_CONTENT_TYPE } from '../../src/protocol/index.js';
import { createHarness as createRoutesHarness } from './fixtures/harness.js';
import { createHarness as createRuntimeHarness, type Harness as RuntimeHarness } from './runtime.harness.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** "GET /api/v1/instances/{id}" for every handler the app registered (middleware is method ALL), and the paths aliased to one. */
function appRoutes(app: Hono<any>): Set<string> {
  const out = new Set<string>();
  for (const r of app.routes) {
    if (r.method === 'ALL') continue;
    out.add(`${r.method} ${r.path.replace(/:(\w+)/g, '{$1}').replace(/\*$/, '{path}')}`);
    for (const [alias, path] of PATH_ALIASES) if (path === r.path) out.add(`${r.method} ${alias}`);
  }
  return out;
}

function documentRoutes(doc: OpenAPIObject): Set<string> {
  const out = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) if (item[method]) out.add(`${method.toUpperCase()} ${path}`);
  }
  return out;
}

function assertSameRoutes(app: Hono<any>, doc: OpenAPIObject) {
  const served = appRoutes(app);
  const documented = documentRoutes(doc);
  assert.deepEqual(
    [...served].filter((r) => !documented.has(r)),
    [],
    'routes the app serves but the document omits (add them to ROUTES in server/src/openapi.ts)',
  );
  assert.deepEqual(
    [...documented].filter((r) => !served.has(r)),
    [],
    'routes the document lists but the app does not serve',
  );
}

async function fetchDocument(app: Hono<any>): Promise<OpenAPIObject> {
  const res = await app.request('/api/v1/openapi.json');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  return (await res.json()) as OpenAPIObject;
}

function operations(doc: OpenAPIObject): [string, OperationObject][] {
  return Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m): [string, OperationObject] => [`${m.toUpperCase()} ${path}`, item[m]!]),
  );
}

describe('OpenAPI document', () => {
  let runtime: RuntimeHarness;
  let doc: OpenAPIObject;
  before(async () => {
    runtime = await createRuntimeHarness({ runner: false });
    doc = await fetchDocument(runtime.app);
  });
  after(() => runtime.close());

  test('is served without a token and is valid OpenAPI 3.1', async () => {
    assert.equal(doc.openapi, '3.1.0');
    const result = await validate(structuredClone(doc) as never);
    assert.ok(result.valid, result.valid ? '' : compileErrors(result));
  });

  test('lists exactly the routes of an app with the flow runtime', () => {
    assertSameRoutes(runtime.app, doc);
    // The runtime's routes are there: not a document that happens to match a smaller app.
    assert.ok(doc.paths?.['/api/v1/executions/{id}']?.get);
    assert.ok(doc.paths?.['/hooks/{token}']?.post);
  });

  test('lists exactly the routes of an app without the runtime', async (t) => {
    const h = await createRoutesHarness(t);
    const plain = await fetchDocument(h.app);
    assertSameRoutes(h.app, plain);
    assert.equal(plain.paths?.['/api/v1/executions/{id}'], undefined);
  });

  test('every authenticated route names its bearer scheme and answers errors as problem+json', () => {
    const schemes = doc.components?.securitySchemes ?? {};
    assert.deepEqual(Object.keys(schemes).sort(), ['customerToken', 'vendorToken']);
    for (const [name, op] of operations(doc)) {
      const path = name.split(' ')[1]!;
      const expected = path.startsWith('/api/v1/vendor/')
        ? 'vendorToken'
        : path.startsWith('/api/v1/') && path !== '/api/v1/openapi.json'
          ? 'customerToken'
          : undefined;
      assert.deepEqual(op.security, expected ? [{ [expected]: [] }] : [], name);
      for (const [status, response] of Object.entries(op.responses ?? {})) {
        if (Number(status) < 400) continue;
        const content = (response as ResponseObject).content ?? {};
        assert.deepEqual(Object.keys(content), [PROBLEM_CONTENT_TYPE], `${name} ${status}`);
        assert.equal((content[PROBLEM_CONTENT_TYPE]!.schema as ReferenceObject).$ref, '#/components/schemas/Problem');
      }
      if (expected) assert.ok(op.responses?.['401'], `${name} documents 401`);
    }
  });

  test('bodies and answers are the protocol schemas', () => {
    const create = doc.paths?.['/api/v1/instances']?.post;
    assert.deepEqual(create?.requestBody, { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/CreateInstanceBody' } } } });
    const schemas = doc.components?.schemas ?? {};
    assert.deepEqual((schemas.CreateInstanceBody as { required?: string[] }).required, ['integrationKey']);
    const instance = schemas.Instance as { properties: Record<string, { enum?: string[]; $ref?: string }> };
    assert.deepEqual(instance.properties.status!.enum, ['draft', 'active', 'paused', 'error']);
    const limit = doc.paths?.['/api/v1/instances/{id}/executions']?.get?.parameters?.find((p) => 'name' in p && p.name === 'limit');
    assert.deepEqual(limit && 'schema' in limit ? limit.schema : undefined, { type: 'number', minimum: 1, maximum: 100 });
  });
});
