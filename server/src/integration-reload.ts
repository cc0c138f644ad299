// Loads a new build of the vendor's integrations module without a restart (issue 12). The new module
// becomes the newest generation in the one IntegrationIndex every service reads; versions it
// replaced stay loaded for the instances still on them, and executions in flight finish on the code
// they started with (an executor keeps each generation it imported).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { importIntegrations, IntegrationsError, moduleSpecifierUrl, type IntegrationIndex } from './integrations.js';
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
}

interface Generation {
  hash: string;
  bytes: Buffer;
  /** What executors import for it: the module path itself for the first load until the file changes, else its copy. */
  url: string;
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
  let reloading: Promise<ReloadReport> | undefined;

  /**
   * A generation's code as a file of its own beside the module (the same directory, so its relative
   * imports and packages still resolve), named by its content: a new path is also the only way past
   * the module caches (Node's, and tsx's, which ignores a query string).
   */
  function copyOf(file: string, g: Pick<Generation, 'hash' | 'bytes'>): string {
    const copy = join(dirname(file), `.plugboard-${g.hash.slice(0, 16)}-${basename(file)}`);
    if (!existsSync(copy)) writeFileSync(copy, g.bytes, { mode: 0o644 });
    return pathToFileURL(copy).href;
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
        version: i.version,
        versions: integrations.versions(i.key),
        instancesByVersion: counts[i.key] ?? {},
      })),
    };
  }

  async function reloadOnce(): Promise<ReloadReport> {
    if (!path) {
      throw new IntegrationsError(
        options.specifier === undefined
          ? 'This server was not started from an integrations module (PLUGBOARD_INTEGRATIONS): there is nothing to reload'
          : `PLUGBOARD_INTEGRATIONS: "${options.specifier}" is a package; only a module file can be reloaded (restart to load a new package)`,
      );
    }
    const { bytes, hash } = read(path);
    if (generations.at(-1)?.hash === hash) return report(false);
    keepOldCode(path);
    const generationUrl = copyOf(path, { hash, bytes });
    const list = await importIntegrations(generationUrl, options.specifier);
    integrations.addGeneration(list, generationUrl);
    generations.push({ hash, bytes, url: generationUrl });
    for (const integration of integrations.values()) await store.vendor.fillIntegrationVersion(integration.key, integration.version);
    const answer = await report(true);
    logger.info({ generation: answer.generation, integrations: answer.integrations.map((i) => `${i.key}@${i.version}`) }, 'integrations reloaded');
    return answer;
  }

  return {
    // One at a time: two reloads at once would race on the generation number.
    reload: () => (reloading ??= reloadOnce().finally(() => (reloading = undefined))),
    status: () => report(false),
  };
}
