// The deployment files (Dockerfile, compose.yaml, deploy/haproxy.cfg, deploy/kubernetes/*.yaml)
// parse, and say what the server actually does: probes on the container's port and the right
// paths, only variables the configuration reads, secrets as *_FILE, grace periods longer than the
// drain they wait for, non-root processes except the runner's documented capabilities. Neither
// Docker nor a cluster is needed: `haproxy -c` and `kubectl kustomize` run when installed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { CONFIG_VARIABLES, DEFAULT_SHUTDOWN_DELAY_MS, SECRET_VARIABLES } from '../../server/src/config.js';
import { HAPROXY } from './fixtures/rolling-restart.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

type Node = Record<string, unknown>;
const obj = (v: unknown): Node => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Node) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Every document of a YAML file; fails on any syntax error (merge keys on: compose uses them). */
function yamlDocuments(path: string): Node[] {
  const docs = parseAllDocuments(read(path), { merge: true });
  if (!Array.isArray(docs)) return [];
  return docs.map((doc) => {
    assert.deepEqual(
      doc.errors.map((e) => e.message),
      [],
      `${path} does not parse`,
    );
    return obj(doc.toJS({ maxAliasCount: 100 }));
  });
}

/** The variables Plugboard reads: config.ts's table, the `_FILE` forms, and those runtimeSettings reads. */
function variablesRead(): Set<string> {
  const names = new Set<string>();
  for (const v of CONFIG_VARIABLES) for (const name of v.name.split(/,\s*/)) names.add(name);
  for (const name of SECRET_VARIABLES) names.add(`${name}_FILE`);
  const runtime = read('server/src/runtime/index.ts');
  for (const m of runtime.matchAll(/(?:env\.|['"`])(PLUGBOARD_[A-Z0-9_]+[A-Z0-9])\b/g)) names.add(m[1]!);
  return names;
}
const KNOWN = variablesRead();
// PLUGBOARD_EXECUTOR_ENV_<NAME> passes <NAME> to executors; OTEL_* are the OpenTelemetry SDK's own (telemetry.ts).
const unknownVariables = (names: Iterable<string>) =>
  [...names].filter((n) => !KNOWN.has(n) && !n.startsWith('PLUGBOARD_EXECUTOR_ENV_') && !n.startsWith('OTEL_'));

/** Milliseconds of a whole-number variable, or its default. */
const ms = (env: Record<string, string>, name: string, fallback: number) => (env[name] === undefined ? fallback : Number(env[name]));
const DRAIN_GRACE_DEFAULT_MS = 30_000;
/** startServer's shutdownGraceMs: in-flight requests get this long after the listener closes. */
const IN_FLIGHT_GRACE_MS = 10_000;
/** What a root runner may hold (docs/security.md): namespaces, dropping to the executor's uid, its temp folders, killing it. */
const RUNNER_CAPABILITIES = new Set(['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'SYS_ADMIN']);

test('every YAML file parses', () => {
  const files = ['compose.yaml', ...readdirSync(join(ROOT, 'deploy/kubernetes')).map((f) => `deploy/kubernetes/${f}`)];
  for (const file of files.filter((f) => /\.ya?ml$/.test(f))) assert.ok(yamlDocuments(file).length > 0, file);
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const stages = dockerfile.split(/^FROM /m).slice(1);

  test('multi-stage, the runtime stage runs as a non-root user with serve as default command', () => {
    assert.ok(stages.length >= 2, 'a build stage and a runtime stage');
    const runtime = stages.at(-1)!;
    const user = /^USER\s+(\S+)/m.exec(runtime)?.[1];
    assert.ok(user && !/^(0|root)(:|$)/.test(user), `runtime stage USER: ${user}`);
    assert.match(runtime, /^STOPSIGNAL SIGTERM$/m);
    assert.match(runtime, /^CMD \["serve"\]$/m);
    assert.match(runtime, /^HEALTHCHECK[^\n]*(\\\n[^\n]*)*\/healthz/m);
    // The executors' containment needs util-linux's unshare and setpriv in the image.
    assert.match(runtime, /util-linux/);
  });
});

describe('Dockerfile entrypoint', () => {
  test('runs bin/plugboard.js under tini, with node flags this node accepts', () => {
    const entrypoint = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(read('Dockerfile'))?.[1];
    assert.ok(entrypoint, 'an ENTRYPOINT in exec form');
    const args = JSON.parse(entrypoint) as string[];
    assert.equal(args[0], '/usr/bin/tini');
    assert.equal(args.at(-1), '/app/server/bin/plugboard.js');
    const flags = args.slice(args.indexOf('node') + 1, -1);
    assert.ok(
      flags.every((f) => f.startsWith('--')),
      `node flags: ${flags.join(' ')}`,
    );
    // A flag node refuses would stop every container at start.
    const run = spawnSync(process.execPath, [...flags, '-e', '0'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
  });
});

describe('compose.yaml', () => {
  const compose = yamlDocuments('compose.yaml')[0]!;
  const services = obj(compose.services);
  const env = (name: string) => obj(obj(services[name]).environment) as Record<string, string>;

  test('PostgreSQL, two serve replicas without runner, two runners and a balancer', () => {
    for (const name of ['api-1', 'api-2']) {
      assert.deepEqual(obj(services[name]).command, ['serve'], name);
      assert.equal(env(name).PLUGBOARD_RUNNER, 'off', name);
    }
    for (const name of ['runner-1', 'runner-2']) assert.deepEqual(obj(services[name]).command, ['runner'], name);
    assert.ok(services.postgres);
    const volumes = list(obj(services.balancer).volumes).map(String);
    assert.ok(
      volumes.some((v) => v.startsWith('./deploy/haproxy.cfg:')),
      'the balancer runs deploy/haproxy.cfg',
    );
  });

  test('Plugboard services set only variables the configuration reads, secrets as files', () => {
    for (const name of ['api-1', 'api-2', 'runner-1', 'runner-2']) {
      assert.deepEqual(unknownVariables(Object.keys(env(name))), [], name);
      for (const secret of SECRET_VARIABLES) assert.equal(env(name)[secret], undefined, `${name}: ${secret} inline (use ${secret}_FILE)`);
      assert.ok(env(name).DATABASE_URL_FILE && env(name).PLUGBOARD_ENCRYPTION_KEY_FILE, name);
    }
  });

  test('grace periods cover the drain; non-root except the runner capabilities', () => {
    const seconds = (v: unknown) => Number(/^(\d+)s$/.exec(String(v))?.[1] ?? NaN);
    for (const name of ['api-1', 'api-2']) {
      const service = obj(services[name]);
      const needMs = ms(env(name), 'PLUGBOARD_SHUTDOWN_DELAY_MS', DEFAULT_SHUTDOWN_DELAY_MS) + IN_FLIGHT_GRACE_MS;
      assert.ok(seconds(service.stop_grace_period) * 1000 > needMs, `${name}: stop_grace_period ${String(service.stop_grace_period)} ≤ ${needMs} ms`);
      assert.ok(service.user && !/^(0|root)(:|$)/.test(String(service.user)), `${name} runs as ${String(service.user)}`);
      assert.deepEqual(service.cap_drop, ['ALL'], name);
    }
    for (const name of ['runner-1', 'runner-2']) {
      const service = obj(services[name]);
      const needMs = ms(env(name), 'PLUGBOARD_DRAIN_GRACE_MS', DRAIN_GRACE_DEFAULT_MS);
      assert.ok(seconds(service.stop_grace_period) * 1000 > needMs, `${name}: stop_grace_period ${String(service.stop_grace_period)} ≤ ${needMs} ms`);
      assert.deepEqual(service.cap_drop, ['ALL'], name);
      for (const cap of list(service.cap_add)) assert.ok(RUNNER_CAPABILITIES.has(String(cap)), `${name} adds ${String(cap)}`);
    }
  });
});

describe('deploy/haproxy.cfg', () => {
  const cfg = read('deploy/haproxy.cfg');
  const compose = yamlDocuments('compose.yaml')[0]!;
  const apiEnv = obj(obj(obj(compose.services)['api-1']).environment) as Record<string, string>;

  test('checks /readyz, and takes a draining replica out before its shutdown delay ends', () => {
    assert.match(cfg, /^\s*option httpchk GET \/readyz\s*$/m);
    assert.match(cfg, /^\s*http-check expect status 200\s*$/m);
    const servers = [...cfg.matchAll(/^\s*server (\S+) "\$\{[A-Z0-9_]+-([^}]+)\}"(.*)$/gm)];
    assert.deepEqual(
      servers.map((s) => s[1]),
      ['api-1', 'api-2'],
    );
    for (const [, name, address, rest] of servers) {
      assert.match(rest!, /\bcheck\b/, `${name} is health-checked`);
      assert.equal(address, `${name}:${apiEnv.PORT}`, `${name}: the compose service and its PORT`);
    }
    const duration = (name: string) => {
      const m = new RegExp(`${name} "\\$\\{[A-Z_]+-(\\d+)(ms|s)\\}"`).exec(cfg);
      assert.ok(m, `${name} with a default`);
      return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
    };
    const fall = Number(/\bfall (\d+)/.exec(cfg)?.[1]);
    // First failed check within `inter`, then fall - 1 more at `fastinter`.
    const outAfterMs = duration('inter') + (fall - 1) * duration('fastinter');
    const delayMs = ms(apiEnv, 'PLUGBOARD_SHUTDOWN_DELAY_MS', DEFAULT_SHUTDOWN_DELAY_MS);
    assert.ok(outAfterMs < delayMs, `HAProxy needs up to ${outAfterMs} ms to take a replica out; the shutdown delay is ${delayMs} ms`);
  });

  test('haproxy -c accepts it', (t) => {
    const checked = spawnSync(HAPROXY, ['-c', '-f', join(ROOT, 'deploy/haproxy.cfg')], { encoding: 'utf8' });
    if (checked.error) return t.skip('haproxy is not installed: configuration not validated');
    assert.equal(checked.status, 0, checked.stderr + checked.stdout);
  });
});

describe('deploy/kubernetes', () => {
  const files = readdirSync(join(ROOT, 'deploy/kubernetes')).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  const objects = files.flatMap((f) => yamlDocuments(`deploy/kubernetes/${f}`));
  const named = (kind: string, name: string) => {
    const found = objects.find((o) => o.kind === kind && obj(o.metadata).name === name);
    assert.ok(found, `${kind} ${name}`);
    return found;
  };
  const configMap = obj(named('ConfigMap', 'plugboard').data) as Record<string, string>;
  const pod = (deployment: Node) => obj(obj(obj(deployment.spec).template).spec);
  const container = (deployment: Node) => obj(list(pod(deployment).containers)[0]);
  /** The container's environment as the kubelet builds it: the ConfigMap, then `env` over it. */
  const envOf = (deployment: Node) => {
    const env: Record<string, string> = {};
    const c = container(deployment);
    for (const from of list(c.envFrom)) if (obj(obj(from).configMapRef).name === 'plugboard') Object.assign(env, configMap);
    for (const e of list(c.env)) env[String(obj(e).name)] = String(obj(e).value);
    return env;
  };
  const api = named('Deployment', 'plugboard-api');
  const runner = named('Deployment', 'plugboard-runner');

  test('the API: readiness on /readyz and liveness on /healthz, on the container port', () => {
    const c = container(api);
    const ports = list(c.ports).map(obj);
    for (const [probe, path] of [
      ['readinessProbe', '/readyz'],
      ['livenessProbe', '/healthz'],
    ] as const) {
      const get = obj(obj(c[probe]).httpGet);
      assert.equal(get.path, path, probe);
      assert.ok(
        ports.some((p) => p.name === get.port || p.containerPort === get.port),
        `${probe} port ${String(get.port)} is a container port`,
      );
    }
    assert.equal(String(ports[0]!.containerPort), envOf(api).PORT ?? '8787', 'the container port is the PORT serve listens on');
    assert.equal(envOf(api).PLUGBOARD_RUNNER, 'off');
    const service = named('Service', 'plugboard-api');
    assert.ok(list(obj(service.spec).ports).every((p) => ports.some((c) => c.name === obj(p).targetPort || c.containerPort === obj(p).targetPort)));
  });

  test('termination grace covers preStop, the shutdown delay and the drain', () => {
    const preStopS = (d: Node) => Number(list(obj(obj(obj(container(d).lifecycle).preStop).exec).command)[1] ?? 0);
    const apiNeedMs = preStopS(api) * 1000 + ms(envOf(api), 'PLUGBOARD_SHUTDOWN_DELAY_MS', DEFAULT_SHUTDOWN_DELAY_MS) + IN_FLIGHT_GRACE_MS;
    assert.ok(Number(pod(api).terminationGracePeriodSeconds) * 1000 > apiNeedMs, `API grace ≤ ${apiNeedMs} ms`);
    const runnerNeedMs = preStopS(runner) * 1000 + ms(envOf(runner), 'PLUGBOARD_DRAIN_GRACE_MS', DRAIN_GRACE_DEFAULT_MS);
    assert.ok(Number(pod(runner).terminationGracePeriodSeconds) * 1000 > runnerNeedMs, `runner grace ≤ ${runnerNeedMs} ms`);
  });

  test('only variables the configuration reads, secrets from the Secret as files', () => {
    for (const d of [api, runner]) {
      const env = envOf(d);
      assert.deepEqual(unknownVariables(Object.keys(env)), [], String(obj(d.metadata).name));
      for (const secret of SECRET_VARIABLES) assert.equal(env[secret], undefined, `${secret} inline`);
      const mounts = list(container(d).volumeMounts).map(obj);
      const secretVolume = list(pod(d).volumes)
        .map(obj)
        .find((v) => obj(v.secret).secretName === 'plugboard');
      assert.ok(secretVolume, 'the Secret is mounted');
      const mountPath = String(mounts.find((m) => m.name === secretVolume.name)?.mountPath);
      for (const name of ['DATABASE_URL_FILE', 'PLUGBOARD_ENCRYPTION_KEY_FILE']) assert.ok(env[name]?.startsWith(`${mountPath}/`), `${name} in ${mountPath}`);
    }
  });

  test('the API runs as non-root; the runner as root only with the listed capabilities', () => {
    const apiPod = obj(pod(api).securityContext);
    assert.equal(apiPod.runAsNonRoot, true);
    assert.notEqual(apiPod.runAsUser, 0);
    assert.deepEqual(obj(obj(container(api).securityContext).capabilities).drop, ['ALL']);
    const capabilities = obj(obj(container(runner).securityContext).capabilities);
    assert.deepEqual(capabilities.drop, ['ALL']);
    for (const cap of list(capabilities.add)) assert.ok(RUNNER_CAPABILITIES.has(String(cap)), `runner adds ${String(cap)}`);
  });

  test('autoscalers: the API on CPU, runners on queue metrics that /metrics serves; disruption budgets', () => {
    const apiHpa = obj(named('HorizontalPodAutoscaler', 'plugboard-api').spec);
    assert.equal(obj(apiHpa.scaleTargetRef).name, 'plugboard-api');
    assert.ok(list(apiHpa.metrics).some((m) => obj(obj(m).resource).name === 'cpu'));
    const runnerHpa = obj(named('HorizontalPodAutoscaler', 'plugboard-runner').spec);
    assert.equal(obj(runnerHpa.scaleTargetRef).name, 'plugboard-runner');
    const metricNames = list(runnerHpa.metrics).map((m) => String(obj(obj(obj(m).external).metric).name));
    assert.ok(metricNames.length > 0);
    const serverSources = (readdirSync(join(ROOT, 'server/src'), { recursive: true }) as string[])
      .filter((f) => f.endsWith('.ts'))
      .map((f) => read(join('server/src', f)))
      .join('\n');
    for (const name of metricNames) assert.match(serverSources, new RegExp(`\\b${name}\\b`), `${name} is served by /metrics (named in server/src)`);
    named('PodDisruptionBudget', 'plugboard-api');
    named('PodDisruptionBudget', 'plugboard-runner');
    for (const d of [api, runner]) {
      const labels = obj(obj(obj(obj(d.spec).template).metadata).labels);
      assert.deepEqual({ ...labels, ...obj(obj(obj(d.spec).selector).matchLabels) }, labels, 'the selector matches the pod labels');
    }
  });

  test('kubectl kustomize renders them', (t) => {
    const rendered = spawnSync('kubectl', ['kustomize', join(ROOT, 'deploy/kubernetes')], { encoding: 'utf8' });
    if (rendered.error) return t.skip('kubectl is not installed: kustomization not rendered');
    assert.equal(rendered.status, 0, rendered.stderr);
    const kinds = parseAllDocuments(rendered.stdout)
      .map((d) => String(obj(d.toJS()).kind))
      .sort();
    assert.deepEqual(kinds, objects.map((o) => String(o.kind)).sort());
  });
});
