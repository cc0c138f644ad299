// Loads a new build of the vendor's integrations module without a restart (issue 12). The new module
// becomes the newest generation in the one IntegrationIndex every service reads; versions it
// replaced stay loaded for the instances still on them, and executions in flight finish on the code
// they started with (an executor keeps each generation it imported). Each load is remembered in the
// database, so a restart loads again the versions instances still run; versions nothing runs any
// more are forgotten at the next start or reload, with their copies.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { integrationGenerations, type RememberedGeneration } from './integration-generations.js';
import { importIntegrations, IntegrationsError, moduleSpecifierUrl, type IntegrationIndex, type IntegrationRelease } from './integrations.js';
import type { IntegrationVersions } from 'plugboard/protocol';
import type { Logger } from './logger.js';
import type { Store } from './store/types.js';

/** The versions loaded and how many instances run each (the protocol's IntegrationVersions). */
export type ReloadReport = IntegrationVersions;

export interface IntegrationReload {
  /** Imports the module again (the path PLUGBOARD_INTEGRATIONS names) as the newest generation. Throws IntegrationsError. */
  reload(): Promise<ReloadReport>;
  /** The versions loaded now and how many instances run each. */
  status(): Promise<ReloadReport>;
  /**
   * Once, at start, before any flow runs: remembers the module loaded, loads again the remembered
   * code of the versions instances run that the module does not provide, and forgets what nothing runs.
   */
  start(): Promise<void>;
}

interface Generation {
  hash: string;
  bytes: Buffer;
  /** What executors import for it: the module path itself for the first load until the file changes, else its copy. */
  url: string;
}

/** The latest remembered load that provides an integration version (rows are latest first). */
function latestWith(rows: readonly RememberedGeneration[], key: string, version: string): RememberedGeneration | undefined {
  return rows.find((r) => r.versions.some(([k, v]) => k === key && v === version));
}

/**
 * `specifier` is the file the first generation was loaded from (undefined: integrations given as a
 * list, nothing to reload). A package name can't be reloaded: Node loads it once per process.
 */
export function createIntegrationReload(options: { integrations: IntegrationIndex; specifier?: string; store: Store; logger: Logger }): IntegrationReload {
  const { integrations, store, logger } = options;
  const url = options.specifier === undefined ? '' : moduleSpecifierUrl(options.specifier);
  const path = url.startsWith('file:') ? fileURLToPath(url) : undefined;
  const read = (file: string) => {
    const bytes = readFileSync(file);
    return { bytes, hash: createHash('sha256').update(bytes).digest('hex') };
  };
  const generations: Generation[] = path ? [{ ...read(path), url }] : [];
  const remembered = integrationGenerations(store);
  /** Which load each module URL holds (a release without a moduleUrl runs the module's own). */
  const hashByUrl = new Map<string, string>(path ? [[url, generations[0]!.hash]] : []);
  const hashOf = (release: IntegrationRelease) => hashByUrl.get(release.moduleUrl ?? url);
  let reloading: Promise<ReloadReport> | undefined;

  /**
   * A generation's code as a file of its own beside the module (the same directory, so its relative
   * imports and packages still resolve), named by its content: a new path is also the only way past
   * the module caches (Node's, and tsx's, which ignores a query string).
   */
  function copyOf(file: string, g: Pick<Generation, 'hash' | 'bytes'>): string {
    const copy = join(dirname(file), `.plugboard-${g.hash.slice(0, 16)}-${basename(file)}`);
    if (!existsSync(copy)) {
      // Written aside, then renamed: another process (the runner thread) may import it meanwhile.
      const aside = `${copy}.${randomBytes(4).toString('hex')}.tmp`;
      writeFileSync(aside, g.bytes, { mode: 0o644 });
      renameSync(aside, copy);
    }
    const copyUrl = pathToFileURL(copy).href;
    hashByUrl.set(copyUrl, g.hash);
    return copyUrl;
  }

  /** The hash prefix a copy beside the module is named by (undefined: not one of its copies). */
  function copyHash(file: string, name: string): string | undefined {
    const match = /^\.plugboard-([0-9a-f]{16})-(.+)$/.exec(name);
    return match && match[2] === basename(file) ? match[1] : undefined;
  }

  const remember = (g: Pick<Generation, 'hash' | 'bytes'>, list: readonly { key: string; version: string }[]) =>
    remembered.remember({ hash: g.hash, file: basename(path!), bytes: g.bytes, versions: list.map((i) => [i.key, i.version]) });

  /** Instances' versions: [key, version, how many]. */
  async function versionsRun(): Promise<Array<[string, string, number]>> {
    const counts = await store.vendor.countIntegrationVersions();
    return Object.entries(counts).flatMap(([key, byVersion]) =>
      Object.entries(byVersion).flatMap(([version, count]): Array<[string, string, number]> => (version && count > 0 ? [[key, version, count]] : [])),
    );
  }

  /**
   * Forgets each version the newest load does not provide and no instance runs (after an upgrade,
   * a bulk job, a delete), the remembered loads no instance needs, and their copies. Only at start
   * and reload: an execution in flight on a version has an instance on it, or its executor has the
   * code imported already.
   */
  async function cleanUp(file: string): Promise<void> {
    const newest = generations.at(-1)!;
    const run = await versionsRun();
    const runs = (key: string, version: string) => run.some(([k, v]) => k === key && v === version);
    const forgotten: string[] = [];
    for (const release of integrations.releases()) {
      const { key, version } = release.integration;
      if (hashOf(release) !== newest.hash && !runs(key, version) && integrations.forget(key, version)) forgotten.push(`${key}@${version}`);
    }
    const keep = new Set([newest.hash, ...integrations.releases().flatMap((r) => hashOf(r) ?? [])]);
    // Also the latest load of each version run that this process could not load: another may.
    const rows = await remembered.list();
    for (const [key, version] of run) {
      const release = integrations.release(key, version);
      if (release && hashOf(release) === newest.hash) continue;
      const row = latestWith(rows, key, version);
      if (row) keep.add(row.hash);
    }
    await remembered.forget(rows.filter((r) => !keep.has(r.hash)).map((r) => r.hash));
    const removed: string[] = [];
    for (const name of readdirSync(dirname(file))) {
      const prefix = copyHash(file, name);
      if (prefix === undefined || [...keep].some((hash) => hash.startsWith(prefix))) continue;
      try {
        rmSync(join(dirname(file), name), { force: true });
        removed.push(name);
      } catch (err) {
        logger.warn({ err, file: name }, 'an old copy of the integrations module could not be deleted');
      }
    }
    if (forgotten.length || removed.length) logger.info({ forgotten, removed }, 'integration versions no instance runs were forgotten');
  }

  async function start(): Promise<void> {
    if (!path) return;
    const first = generations[0]!;
    await remember(
      first,
      integrations.releases().map((r) => r.integration),
    );
    const rows = await remembered.list();
    const missing: Array<{ key: string; version: string; instances: number; reason: string }> = [];
    const wanted = new Map<string, Array<[string, string, number]>>();
    for (const [key, version, instances] of await versionsRun()) {
      if (integrations.release(key, version)) continue;
      const row = latestWith(rows, key, version);
      if (row) wanted.set(row.hash, [...(wanted.get(row.hash) ?? []), [key, version, instances]]);
      else missing.push({ key, version, instances, reason: 'no earlier load of the module is remembered with it' });
    }
    // Latest first, each older than the ones before it.
    for (const row of rows) {
      const versions = wanted.get(row.hash);
      if (!versions) continue;
      try {
        const bytes = await remembered.bytes(row.hash);
        if (!bytes) throw new Error('its remembered load was forgotten meanwhile');
        const copyUrl = copyOf(path, { hash: row.hash, bytes });
        const list = await importIntegrations(copyUrl, options.specifier);
        integrations.addOlder(
          list.filter((i) => versions.some(([k, v]) => k === i.key && v === i.version)),
          copyUrl,
        );
      } catch (err) {
        for (const [key, version, instances] of versions) missing.push({ key, version, instances, reason: (err as Error).message });
        continue;
      }
      for (const [key, version, instances] of versions)
        if (!integrations.release(key, version)) missing.push({ key, version, instances, reason: 'its remembered load does not export it' });
    }
    for (const { key, version, instances, reason } of missing) {
      logger.warn(
        { integration: key, version, instances, reason },
        `${instances} instance(s) run ${key} ${version}, which can't be loaded (${reason}): their executions fail until they are upgraded (POST /api/v1/vendor/integrations/${key}/upgrades) or the module exports that version too`,
      );
    }
    const restored = integrations.releases().filter((r) => r.generation === 0);
    if (restored.length)
      logger.info({ integrations: restored.map((r) => `${r.integration.key}@${r.integration.version}`) }, 'older integration versions loaded again');
    await cleanUp(path);
  }

  /** The file no longer holds the first load's code: executors started from now on import its copy. */
  function keepOldCode(file: string): void {
    const first = generations[0];
    if (!first || first.url !== url) return;
    const copyUrl = copyOf(file, first);
    for (const release of integrations.releases()) if ((release.moduleUrl ?? url) === url) release.moduleUrl = copyUrl;
    first.url = copyUrl;
  }

  async function report(changed: boolean): Promise<ReloadReport> {
    const counts = await store.vendor.countIntegrationVersions();
    return {
      generation: integrations.generation,
      changed,
      integrations: [...integrations.values()].map((i) => ({
        key: i.key,
        name: i.name,
        category: i.category,
        ...(i.icon !== undefined ? { icon: i.icon } : {}),
        version: i.version,
        versions: integrations.versions(i.key),
        instancesByVersion: counts[i.key] ?? {},
      })),
    };
  }

  /** The file gone, unreadable, or its directory read-only (the copies live beside it): a refusal, not a server error. */
  function onFile<T>(step: () => T): T {
    try {
      return step();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) throw error;
      throw new IntegrationsError(`PLUGBOARD_INTEGRATIONS: the module file could not be read, or copied beside itself (${code})`);
    }
  }

  async function reloadOnce(): Promise<ReloadReport> {
    if (!path) {
      throw new IntegrationsError(
        options.specifier === undefined
          ? 'This server was not started from an integrations module (PLUGBOARD_INTEGRATIONS): there is nothing to reload'
          : `PLUGBOARD_INTEGRATIONS: "${options.specifier}" is a package; only a module file can be reloaded (restart to load a new package)`,
      );
    }
    const { bytes, hash } = onFile(() => read(path));
    if (generations.at(-1)?.hash === hash) {
      await cleanUp(path);
      return report(false);
    }
    const generationUrl = onFile(() => {
      keepOldCode(path);
      return copyOf(path, { hash, bytes });
    });
    const list = await importIntegrations(generationUrl, options.specifier);
    integrations.addGeneration(list, generationUrl);
    generations.push({ hash, bytes, url: generationUrl });
    for (const integration of integrations.values()) await store.vendor.fillIntegrationVersion(integration.key, integration.version);
    await remember(generations.at(-1)!, list);
    await cleanUp(path);
    const answer = await report(true);
    logger.info({ generation: answer.generation, integrations: answer.integrations.map((i) => `${i.key}@${i.version}`) }, 'integrations reloaded');
    return answer;
  }

  return {
    // One at a time: two reloads at once would race on the generation number.
    reload: () => (reloading ??= reloadOnce().finally(() => (reloading = undefined))),
    status: () => report(false),
    start,
  };
}
