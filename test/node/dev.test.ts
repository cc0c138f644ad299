// `plugboard dev` as an integration engineer runs it: a real child process on a copy of an
// integrations module in a temp folder, a flow invoked through the vendor API, its logs printed on
// the terminal; then a file the module imports is edited and the next run shows the new code, from
// the same process (same pid, same port).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { allMigrations } from '../../server/src/migrations.js';
import { openStore } from '../../server/src/store/index.js';
import { eventually } from './fixtures/eventually.js';

const DEV_CLI = fileURLToPath(new URL('../../server/src/dev-cli.ts', import.meta.url));
const SDK = fileURLToPath(new URL('../../server/src/sdk/index.ts', import.meta.url));
const ISSUER = 'https://vendor.test';

const integrationsSource = `import { defineIntegration, webhook } from ${JSON.stringify(SDK)};
import { greeting } from './greeting.js';

export default [
  defineIntegration({
    key: 'greeter',
    name: 'Greeter',
    description: 'Greets.',
    category: 'Test',
    version: '1.0.0',
    connections: {},
    configPages: [],
    flows: {
      greet: {
        trigger: webhook(),
        run(ctx) {
          const { name } = ctx.payload as { name: string };
          ctx.log.info(greeting(name));
          ctx.log.warn('second line');
          return { said: greeting(name) };
        },
      },
    },
  }),
];
`;
const greetingSource = (word: string) => `export const greeting = (name: string): string => \`${word}, \${name}\`;\n`;

test('plugboard dev prints each run’s logs and runs the edited code without restarting', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-dev-'));
  chmodSync(dir, 0o755);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const src = join(dir, 'src');
  mkdirSync(src, { mode: 0o755 });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }), { mode: 0o644 });
  writeFileSync(join(src, 'integrations.ts'), integrationsSource, { mode: 0o644 });
  writeFileSync(join(src, 'greeting.ts'), greetingSource('Hello'), { mode: 0o644 });

  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const databaseFile = join(dir, 'dev.db');
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), '--conditions=plugboard-source', DEV_CLI, 'src/integrations.ts'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: databaseFile,
      PLUGBOARD_JWT_KEYS: JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }),
      PLUGBOARD_JWT_ISSUER: ISSUER,
      PLUGBOARD_SCHEDULE_INTERVAL_MS: '600000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  const url = await eventually(
    () => {
      if (child.exitCode !== null) throw new Error(`plugboard dev exited with ${child.exitCode}: ${out}`);
      return /plugboard dev: (http:\/\/127\.0\.0\.1:\d+) — 1 integration\(s\) from src\/integrations\.ts; watching 2 file\(s\)/.exec(out)?.[1];
    },
    60_000,
    'plugboard dev to listen',
  );
  assert.match(out, /made an encryption key for local credentials in \.plugboard\/dev-encryption-key/);

  // An active instance, written where the dev server reads (the same SQLite file).
  const store = await openStore({ databaseUrl: databaseFile, migrations: allMigrations });
  t.after(() => store.close());
  const customer = await store.ensureCustomer('acme');
  const tenant = store.forCustomer(customer);
  const audit = { actor: 'user:test', action: 'instance.created', target: '', details: {} };
  const { instance } = await tenant.createInstance({ integrationKey: 'greeter', audit });
  await tenant.setStatus(instance.id, { status: 'active', audit: { ...audit, action: 'instance.activated' } });

  const now = Math.floor(Date.now() / 1000);
  const vendor = await new SignJWT({ role: 'vendor', vendor_role: 'support' })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(ISSUER)
    .setAudience('plugboard')
    .setSubject('vendor-backend')
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(privateKey);
  const greet = async (name: string) => {
    const res = await fetch(`${url}/api/v1/vendor/instances/${instance.id}/flows/greet/invoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${vendor}`, 'content-type': 'application/json' },
      body: JSON.stringify({ payload: { name }, timeoutMs: 60_000 }),
    });
    const body = (await res.json()) as { result?: unknown };
    assert.equal(res.status, 200, JSON.stringify(body));
    return body.result;
  };

  assert.deepEqual(await greet('Ada'), { said: 'Hello, Ada' });
  // The run as the terminal shows it: flow, status, then each log line with its level.
  const printed = await eventually(
    () =>
      /^\d\d:\d\d:\d\d greeter\/greet succeeded in \d+ ms \(invoke, attempt 1, customer acme\)\n {2}info {2}Hello, Ada\n {2}warn {2}second line\n/m.exec(
        out,
      )?.[0],
    10_000,
    'the run printed',
  );
  assert.ok(printed);

  // Edit a file the module imports: the next run uses it, in the same process on the same port.
  writeFileSync(join(src, 'greeting.ts'), greetingSource('Bonjour'));
  await eventually(() => /plugboard dev: reloaded 1 integration\(s\) \(greeter\)/.test(out) || undefined, 30_000, 'the reload');
  assert.deepEqual(await greet('Ada'), { said: 'Bonjour, Ada' });
  await eventually(() => /greeter\/greet succeeded in \d+ ms[^\n]*\n {2}info {2}Bonjour, Ada\n/.test(out) || undefined, 10_000, 'the new run printed');

  // A change that does not load keeps the previous version running, and says why.
  writeFileSync(join(src, 'greeting.ts'), 'export const greeting = (name: string): string => {;\n');
  await eventually(() => /the changed module does not load, still running the previous version/.test(out) || undefined, 30_000, 'the failed reload');
  assert.equal(child.exitCode, null, 'plugboard dev is still running');
  assert.equal(out.match(/plugboard dev: http:/g)?.length, 1, 'it started once');

  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));
  assert.equal(code, 0, out);
});
