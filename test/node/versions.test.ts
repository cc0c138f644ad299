// Integration versions (issue 12) against the real runtime: a module file in a temporary folder is
// loaded, executors run its flows in child processes, then the file is replaced by a new build and
// reloaded without a restart. Instances keep their version until upgraded (config carried by the
// integration's migrate), a rollback restores the old version and config, a bulk upgrade reports
// each instance, and an execution in flight during the reload finishes on the old code.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Instance, IntegrationDetail, IntegrationVersions, InvokeResult, Problem, UpgradeJob, VendorInstance } from '../../src/protocol/index.js';
import { createIntegrationReload } from '../../server/src/integration-reload.js';
import { loadIntegrations } from '../../server/src/integrations.js';
import { createLogger, type Logger } from '../../server/src/logger.js';
import { eventually } from './fixtures/eventually.js';
import { createHarness, newSchema, PG_URL, type Harness } from './runtime.harness.js';

const SDK = fileURLToPath(new URL('../../server/src/sdk/index.ts', import.meta.url));

/** One build of the vendor's module: the flows answer which build ran them. */
function build(version: '1.0.0' | '2.0.0'): string {
  const v1 = version === '1.0.0';
  return `
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineIntegration, field } from ${JSON.stringify(SDK)};
const out = process.env.RUNTIME_TEST_OUT;
export default [defineIntegration({
  key: 'crm',
  name: 'CRM',
  description: 'Versioned.',
  category: 'test',
  version: '${version}',
  ${v1 ? '' : `changelog: { '2.0.0': 'Renames label to title.', '1.0.0': 'First release.' },`}
  configPages: [{ title: 'Setup', fields: { ${v1 ? "label: field.text({ label: 'Label' })" : "title: field.text({ label: 'Title' }), token: field.secret({ label: 'Token', required: false })"} } }],
  ${
    v1
      ? ''
      : `migrate: ({ from, config }) => {
    if (config.label === 'boom') throw new Error('cannot carry boom');
    if (config.label === 'empty') return { title: '' };
    return { title: config.label + ' (from ' + from + ')', token: 'sk_migrated_secret' };
  },`
  }
  flows: {
    // Waits for the test's go-ahead file, so it is in flight while the module is reloaded.
    slow: { trigger: { type: 'webhook', hmac: false }, async run(ctx) {
      writeFileSync(join(out, ctx.executionId + '.started'), '');
      while (!existsSync(join(out, 'go'))) await new Promise((r) => setTimeout(r, 20));
      return { code: '${version}' };
    } },
    which: { trigger: { type: 'webhook', hmac: false }, async run(ctx) { return { code: '${version}', config: Object.keys(ctx.config).sort() }; } },
  },
})];
`;
}

/** The vendor API of one server (a harness); `support` is a support member's token. */
function vendorApi(server: () => Harness, support: () => string) {
  async function call(method: string, path: string, token: string, body?: unknown) {
    const res = await server().app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    assert.ok(!text.includes('sk_migrated_secret'), 'a secret never comes back');
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  }

  /** A customer's active crm instance, deployed and configured through the vendor API. */
  async function deploy(customer: string, label: string): Promise<VendorInstance> {
    await server().store.ensureCustomer(customer);
    const created = await call('POST', `/api/v1/vendor/customers/${customer}/instances`, support(), { integrationKey: 'crm' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = VendorInstance.parse(created.body).id;
    const saved = await call('PUT', `/api/v1/vendor/instances/${id}/config`, support(), { config: { label }, version: 1 });
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    const active = await call('POST', `/api/v1/vendor/instances/${id}/activate`, support());
    assert.equal(active.status, 200, JSON.stringify(active.body));
    return VendorInstance.parse(active.body);
  }

  async function invoke(id: string, flow: string): Promise<{ code: string; config: string[] }> {
    const res = await call('POST', `/api/v1/vendor/instances/${id}/flows/${flow}/invoke`, support(), { timeoutMs: 60_000 });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return InvokeResult.parse(res.body).result as { code: string; config: string[] };
  }

  return { call, deploy, invoke };
}

/** A folder of its own holding only this build of the module, as a new image has only the new file. */
function moduleFolder(version: '1.0.0' | '2.0.0'): string {
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-versions-'));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'integrations.ts'), build(version), { mode: 0o644 });
  return join(dir, 'integrations.ts');
}

const copiesBeside = (modulePath: string) => readdirSync(dirname(modulePath)).filter((f) => f.startsWith('.plugboard-'));

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`integration versions (${engine})`, { skip: engine === 'postgres' && !PG_URL ? 'set PLUGBOARD_TEST_DATABASE_URL' : false }, () => {
    let h: Harness;
    let modulePath: string;
    let support: string;
    let admin: string;
    let reload: ReturnType<typeof createIntegrationReload>;

    before(async () => {
      // The module lives in its own folder: the harness's is made inside createHarness.
      modulePath = moduleFolder('1.0.0');
      h = await createHarness({
        ...(engine === 'postgres' ? { pgSchema: newSchema('ver') } : {}),
        integrations: { module: modulePath, list: await loadIntegrations(modulePath) },
      });
      reload = createIntegrationReload({
        integrations: h.services.integrations,
        specifier: modulePath,
        store: h.store,
        logger: createLogger({ level: 'silent' }),
      });
      support = await h.vendorToken('support');
      admin = await h.vendorToken('admin');
    });
    after(() => h?.close());

    const { call, deploy, invoke } = vendorApi(
      () => h,
      () => support,
    );

    test('a reload keeps instances on their version, finishes work in flight on the old code, and upgrades, rolls back and bulk-upgrades', async () => {
      const a = await deploy('ver-a', 'alpha');
      assert.equal(a.integrationVersion, '1.0.0');
      assert.equal(a.update, undefined);
      const c = await deploy('ver-c', 'boom');
      assert.equal((await invoke(a.id, 'which')).code, '1.0.0');

      // In flight: the slow flow has started in A's executor when the new build is loaded.
      const inFlight = invoke(a.id, 'slow');
      await eventually(() => readdirSync(h.outDir).some((f) => f.endsWith('.started')), 60_000, 'the slow flow to start');
      writeFileSync(modulePath, build('2.0.0'), { mode: 0o644 });
      // Only an admin loads new code, at the route's path and at its earlier one (an alias, app.ts).
      assert.equal((await call('POST', '/api/v1/vendor/reload', support)).status, 403);
      assert.equal((await call('POST', '/api/v1/vendor/integrations/reload', support)).status, 403);
      const report = IntegrationVersions.parse(await reload.reload());
      assert.equal(report.changed, true);
      assert.deepEqual(report.integrations, [
        { key: 'crm', name: 'CRM', category: 'test', version: '2.0.0', versions: ['2.0.0', '1.0.0'], instancesByVersion: { '1.0.0': 2 } },
      ]);
      // The old build's code is kept beside the file for executors that start from now on.
      assert.ok(readdirSync(join(modulePath, '..')).some((f) => f.startsWith('.plugboard-') && f.endsWith('-integrations.ts')));
      writeFileSync(join(h.outDir, 'go'), '');
      assert.equal((await inFlight).code, '1.0.0', 'the execution in flight finished on the code it started with');

      // Not upgraded: still its version's code. A new instance gets the new version.
      assert.deepEqual(await invoke(a.id, 'which'), { code: '1.0.0', config: ['label'] });
      await h.store.ensureCustomer('ver-b');
      const bCreated = VendorInstance.parse((await call('POST', '/api/v1/vendor/customers/ver-b/instances', support, { integrationKey: 'crm' })).body);
      assert.equal(bCreated.integrationVersion, '2.0.0');
      // Its config is version 2's: "label" is gone, "title" is there.
      assert.equal((await call('PUT', `/api/v1/vendor/instances/${bCreated.id}/config`, support, { config: { label: 'x' }, version: 1 })).status, 422);
      assert.equal((await call('PUT', `/api/v1/vendor/instances/${bCreated.id}/config`, support, { config: { title: 'beta' }, version: 1 })).status, 200);

      // The customer sees "Update available" with the changelog; this integration does not allow self-upgrade.
      const customerView = await h.app.request(`/api/v1/instances/${a.id}`, { headers: { authorization: `Bearer ${await h.token('ver-a')}` } });
      const seen = Instance.parse(await customerView.json());
      // The catalog follows the reload: the list shows the new version (it was built once, at start).
      const listed = await h.app.request('/api/v1/integrations', { headers: { authorization: `Bearer ${await h.token('ver-a')}` } });
      const { integrations } = (await listed.json()) as { integrations: { key: string; version: string }[] };
      assert.equal(integrations.find((i) => i.key === 'crm')?.version, '2.0.0');
      assert.deepEqual(seen.update, { version: '2.0.0', changelog: [{ version: '2.0.0', notes: 'Renames label to title.' }], selfUpgrade: false });
      // Staff read the same: one instance and the customer's list (the console's rows) carry its version and the update.
      const staffView = VendorInstance.parse((await call('GET', `/api/v1/vendor/instances/${a.id}`, support)).body);
      assert.deepEqual([staffView.integrationVersion, staffView.update], ['1.0.0', seen.update]);
      const staffList = (await call('GET', '/api/v1/vendor/customers/ver-a/instances', support)).body as { instances: unknown[] };
      assert.deepEqual(
        staffList.instances.map((i) => VendorInstance.parse(i)).map((i) => [i.integrationVersion, i.update?.version, i.config]),
        [['1.0.0', '2.0.0', { label: 'alpha' }]],
      );
      const self = await h.app.request(`/api/v1/instances/${a.id}/upgrade`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await h.token('ver-a')}`, 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(self.status, 403);

      // Upgrade one instance: migrate carries the config (a secret too, sealed), the flows run version 2.
      const viewer = await h.vendorToken('viewer');
      assert.equal((await call('POST', `/api/v1/vendor/instances/${a.id}/upgrade`, viewer, {})).status, 403);
      const up = await call('POST', `/api/v1/vendor/instances/${a.id}/upgrade`, support, {});
      assert.equal(up.status, 200, JSON.stringify(up.body));
      const upgraded = VendorInstance.parse(up.body);
      assert.equal(upgraded.integrationVersion, '2.0.0');
      assert.equal(upgraded.previousVersion, '1.0.0');
      assert.deepEqual(upgraded.config, { title: 'alpha (from 1.0.0)' });
      assert.deepEqual(upgraded.secretsSet, ['token']);
      assert.equal(upgraded.update, undefined);
      assert.deepEqual(await invoke(a.id, 'which'), { code: '2.0.0', config: ['title', 'token'] });
      assert.equal((await call('POST', `/api/v1/vendor/instances/${a.id}/upgrade`, support, {})).status, 409, 'already on it');

      // Rollback: the old version and config come back, and its code runs again.
      const back = await call('POST', `/api/v1/vendor/instances/${a.id}/rollback`, support);
      assert.equal(back.status, 200, JSON.stringify(back.body));
      const rolled = VendorInstance.parse(back.body);
      assert.equal(rolled.integrationVersion, '1.0.0');
      assert.deepEqual(rolled.config, { label: 'alpha' });
      assert.deepEqual(rolled.secretsSet, []);
      assert.deepEqual(await invoke(a.id, 'which'), { code: '1.0.0', config: ['label'] });
      assert.equal((await call('POST', `/api/v1/vendor/instances/${a.id}/rollback`, support)).status, 409, 'nothing left to roll back');

      // A migrate that throws fails that instance only: 422 naming config, and it keeps its version.
      const failed = await call('POST', `/api/v1/vendor/instances/${c.id}/upgrade`, support, {});
      assert.equal(failed.status, 422);
      assert.match(JSON.stringify(Problem.parse(failed.body)), /cannot carry boom/);

      // Bulk: every crm instance; A upgrades, C fails (and stays), B is already on 2.0.0.
      const started = await call('POST', '/api/v1/vendor/integrations/crm/upgrades', support, {});
      assert.equal(started.status, 202, JSON.stringify(started.body));
      const jobId = UpgradeJob.parse(started.body).id;
      const job = await eventually(
        async () => {
          const read = UpgradeJob.parse((await call('GET', `/api/v1/vendor/upgrades/${jobId}`, viewer)).body);
          return read.status === 'finished' && read;
        },
        30_000,
        'the bulk upgrade to finish',
      );
      assert.deepEqual([job.total, job.done, job.upgraded, job.failed, job.skipped], [3, 3, 1, 1, 1]);
      const byId = new Map(job.outcomes.map((o) => [o.instanceId, o]));
      assert.equal(byId.get(a.id)?.status, 'upgraded');
      assert.equal(byId.get(c.id)?.status, 'failed');
      assert.match(byId.get(c.id)?.error ?? '', /stays on its version/);
      assert.match(byId.get(c.id)?.errors?.[0]?.message ?? '', /migrate from 1\.0\.0 failed: cannot carry boom/);
      assert.equal(byId.get(bCreated.id)?.status, 'skipped');
      const cNow = VendorInstance.parse((await call('GET', `/api/v1/vendor/instances/${c.id}`, viewer)).body);
      assert.equal(cNow.integrationVersion, '1.0.0');
      assert.deepEqual(await invoke(c.id, 'which'), { code: '1.0.0', config: ['label'] });

      const versions = IntegrationVersions.parse((await call('GET', '/api/v1/vendor/integrations', viewer)).body);
      assert.deepEqual(versions.integrations[0]!.instancesByVersion, { '1.0.0': 1, '2.0.0': 2 });
      // The customer's history says who upgraded and rolled back.
      const audit = await h.app.request(`/api/v1/instances/${a.id}/audit`, { headers: { authorization: `Bearer ${await h.token('ver-a')}` } });
      const actions = ((await audit.json()) as { events: { action: string }[] }).events.map((e) => e.action);
      assert.deepEqual(
        actions.filter((x) => x.startsWith('instance.upgraded') || x.startsWith('instance.rolled_back')),
        ['instance.upgraded', 'instance.rolled_back', 'instance.upgraded'],
      );
      assert.ok(existsSync(modulePath));
      // An admin may reload; the file has not changed since, so nothing new is loaded.
      const again = await call('POST', '/api/v1/vendor/integrations/reload', admin);
      assert.equal(again.status, 409, 'this harness’s server was given a list, not a module: nothing to reload through its own service');
    });
  });
}

// A restart (a new process, even a new container whose image has only the new build) loads again the
// code of the versions instances still run, from the loads remembered in the database; once nothing
// runs a version, the next reload forgets it and deletes its copy, and the next start does not load it.
for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`integration versions across a restart (${engine})`, { skip: engine === 'postgres' && !PG_URL ? 'set PLUGBOARD_TEST_DATABASE_URL' : false }, () => {
    const servers: Harness[] = [];
    let server: Harness;
    let support = '';
    const { call, deploy, invoke } = vendorApi(
      () => server,
      () => support,
    );
    /** A server process over the first one's database, running the module at `modulePath`. */
    async function start(modulePath: string, logger?: Logger): Promise<Harness> {
      server = await createHarness({
        logger,
        ...(servers[0] ? { sameDatabaseAs: servers[0] } : engine === 'postgres' ? { pgSchema: newSchema('verrestart') } : {}),
        integrations: { module: modulePath, list: await loadIntegrations(modulePath), reloadable: true },
      });
      servers.push(server);
      support = await server.vendorToken('support');
      return server;
    }
    const versionsLoaded = async () =>
      IntegrationVersions.parse((await call('GET', '/api/v1/vendor/integrations', await server.vendorToken('viewer'))).body).integrations[0]!;
    const reload = async () => {
      const res = await call('POST', '/api/v1/vendor/integrations/reload', await server.vendorToken('admin'));
      assert.equal(res.status, 200, JSON.stringify(res.body));
    };
    // The last one started owns nothing; the first one's database goes with it.
    after(async () => {
      for (const s of servers.reverse()) await s.close();
    });

    test('a v1 instance runs v1 after a restart with only v2 in the module; upgraded, v1 and its copy are gone', async () => {
      const firstModule = moduleFolder('1.0.0');
      await start(firstModule);
      const a = await deploy('restart-a', 'alpha');
      assert.equal((await invoke(a.id, 'which')).code, '1.0.0');
      writeFileSync(firstModule, build('2.0.0'), { mode: 0o644 });
      await reload();
      assert.deepEqual((await versionsLoaded()).versions, ['2.0.0', '1.0.0']);
      await server.runner?.stop(5000); // this process is gone: only the next one runs flows

      // A new container: its module folder has only version 2, no copy of version 1.
      const newModule = moduleFolder('2.0.0');
      await start(newModule);
      assert.deepEqual(await versionsLoaded(), {
        key: 'crm',
        name: 'CRM',
        category: 'test',
        version: '2.0.0',
        versions: ['2.0.0', '1.0.0'],
        instancesByVersion: { '1.0.0': 1 },
      });
      assert.deepEqual(await invoke(a.id, 'which'), { code: '1.0.0', config: ['label'] }, 'version 1 ran, on version 1 config');
      const detail = await server.app.request('/api/v1/integrations/crm', { headers: { authorization: `Bearer ${await server.token('restart-a')}` } });
      assert.equal(detail.status, 200);
      const shown = IntegrationDetail.parse(await detail.json());
      assert.equal(shown.version, '1.0.0', "the customer's detail is of its instance's version");
      assert.match(JSON.stringify(shown.configPages), /"label"/);
      const config = await call('PUT', `/api/v1/vendor/instances/${a.id}/config`, support, { config: { label: 'alpha2' }, version: a.version });
      assert.equal(config.status, 200, JSON.stringify(config.body));
      assert.equal(copiesBeside(newModule).length, 1, "version 1's code, written beside the new module from the database");

      // Upgraded: nothing runs version 1 any more; the next reload forgets it and deletes its copy.
      const up = await call('POST', `/api/v1/vendor/instances/${a.id}/upgrade`, support, {});
      assert.equal(up.status, 200, JSON.stringify(up.body));
      await reload();
      assert.deepEqual((await versionsLoaded()).versions, ['2.0.0']);
      assert.deepEqual(copiesBeside(newModule), []);
      assert.equal((await invoke(a.id, 'which')).code, '2.0.0');

      // And a restart does not load it again. A version no load provides is logged, with what to do.
      await server.runner?.stop(5000);
      await server.store.db.updateTable('instances').set({ integration_version: '0.9.0' }).where('id', '=', a.id).execute();
      const lines: string[] = [];
      await start(newModule, createLogger({ level: 'warn', stream: { write: (line: string) => lines.push(line) } }));
      assert.deepEqual((await versionsLoaded()).versions, ['2.0.0']);
      assert.deepEqual(copiesBeside(newModule), []);
      const logged = lines.filter((line) => line.includes('0.9.0'));
      assert.equal(logged.length, 1, lines.join('\n'));
      assert.match(logged[0]!, /1 instance\(s\) run crm 0\.9\.0, which can't be loaded.*upgraded \(POST \/api\/v1\/vendor\/integrations\/crm\/upgrades\)/);
      const unloaded = await call('PUT', `/api/v1/vendor/instances/${a.id}/config`, support, {
        config: { title: 'x' },
        version: VendorInstance.parse(up.body).version,
      });
      assert.equal(unloaded.status, 409, 'as before: its version is loaded nowhere');
      assert.match(JSON.stringify(unloaded.body), /Version 0\.9\.0 of this integration is not loaded here/);
    });
  });
}
