// The vendor's integrations: loaded from the module PLUGBOARD_INTEGRATIONS names, indexed by key,
// and every version of each that this process has loaded (issue 12: instances keep running the
// version they were deployed with until they are upgraded).
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConflictError } from './errors.js';
import type { Integration } from './sdk/index.js';

/** One version of one integration, and where the executors find its code. */
export interface IntegrationRelease {
  integration: Integration;
  /** The module URL executors import for this version; undefined: the executor pool's own module. */
  moduleUrl?: string;
  /** Which load brought it (1: the start; each reload adds one; 0: a load remembered from before this process started). */
  generation: number;
}

/**
 * The integrations by key, each the newest version loaded (what catalogs, new instances and every
 * lookup by key see), plus the older versions loaded before, kept so instances on them go on running
 * their own code. One object for the life of the process: a reload updates it in place.
 */
export class IntegrationIndex extends Map<string, Integration> {
  readonly #releases = new Map<string, Map<string, IntegrationRelease>>();
  #generation = 0;

  get generation(): number {
    return this.#generation;
  }

  /**
   * Adds a module's integrations as the newest load. The first of each key becomes its current
   * version; further entries with the same key and another version are older versions it keeps
   * offering to instances still on them. A key the module no longer has stops being offered to new
   * instances, while its loaded versions keep running the instances that have them.
   */
  addGeneration(list: readonly Integration[], moduleUrl?: string): void {
    const checked = checkList(list);
    const generation = ++this.#generation;
    for (const key of [...this.keys()]) if (!checked.has(key)) this.delete(key);
    for (const [key, versions] of checked) {
      const releases = this.#releases.get(key) ?? new Map<string, IntegrationRelease>();
      // Oldest first, so the current (first listed) one ends up last, the newest.
      for (const integration of [...versions].reverse()) {
        releases.delete(integration.version);
        releases.set(integration.version, { integration, moduleUrl, generation });
      }
      this.#releases.set(key, releases);
      this.set(key, versions[0]!);
    }
  }

  /**
   * Adds versions of an older load (remembered from before a restart) that are not loaded here, as
   * older than every version loaded, for the instances still on them: nothing current changes, and
   * a key the module no longer has is not offered again.
   */
  addOlder(list: readonly Integration[], moduleUrl: string): void {
    for (const integration of list) {
      const releases = this.#releases.get(integration.key) ?? new Map<string, IntegrationRelease>();
      if (releases.has(integration.version)) continue;
      this.#releases.set(integration.key, new Map([[integration.version, { integration, moduleUrl, generation: 0 }], ...releases]));
    }
  }

  /** One version (null: the current one, else the newest loaded) of an integration, if loaded. */
  release(key: string, version: string | null): IntegrationRelease | undefined {
    const releases = this.#releases.get(key);
    if (!releases) return undefined;
    if (version !== null) return releases.get(version);
    const current = this.get(key);
    return current ? releases.get(current.version) : [...releases.values()].at(-1);
  }

  /** The code an instance runs: its recorded version; a row from before versions were recorded runs the current one. */
  of(instance: { integrationKey: string; integrationVersion: string | null }): Integration | undefined {
    return this.release(instance.integrationKey, instance.integrationVersion)?.integration;
  }

  /**
   * The code an instance runs, for every answer about it or call into it (never the current
   * version's by key). Throws ConflictError when its version is loaded nowhere: the instance can
   * then still be read, paused and deleted.
   */
  offered(instance: { integrationKey: string; integrationVersion: string | null }): Integration {
    const integration = this.of(instance);
    if (integration) return integration;
    throw this.has(instance.integrationKey)
      ? new ConflictError(
          `Version ${instance.integrationVersion} of this integration is not loaded here; upgrade the instance or load a module that has it (until then it can only be read, paused or deleted)`,
          { integrationVersion: instance.integrationVersion },
        )
      : new ConflictError('This integration is no longer offered; the instance can only be read, paused or deleted');
  }

  /** The versions of an integration loaded here, newest first. */
  versions(key: string): string[] {
    return [...(this.#releases.get(key)?.keys() ?? [])].reverse();
  }

  /** Every loaded release (for pointing an old generation's module at a snapshot). */
  releases(): IntegrationRelease[] {
    return [...this.#releases.values()].flatMap((r) => [...r.values()]);
  }

  /** Drops a version nothing runs any more; never the current one. */
  forget(key: string, version: string): boolean {
    if (this.get(key)?.version === version) return false;
    return this.#releases.get(key)?.delete(version) ?? false;
  }
}

export class IntegrationsError extends Error {}

function isIntegration(value: unknown): value is Integration {
  const v = value as Partial<Integration> | null;
  return typeof v === 'object' && v !== null && typeof v.key === 'string' && typeof v.describe === 'function' && v.configSchema !== undefined;
}

/** Groups by key (current version first); a non-integration or a key listed twice with one version is an error. */
function checkList(list: readonly Integration[]): Map<string, Integration[]> {
  const byKey = new Map<string, Integration[]>();
  for (const [i, integration] of list.entries()) {
    if (!isIntegration(integration)) {
      throw new IntegrationsError(`integration #${i + 1} was not made with defineIntegration()`);
    }
    const versions = byKey.get(integration.key) ?? [];
    if (versions.some((v) => v.version === integration.version)) {
      throw new IntegrationsError(
        `integration key "${integration.key}" is defined twice${versions.length > 0 ? ` with version "${integration.version}"` : ''}`,
      );
    }
    versions.push(integration);
    byKey.set(integration.key, versions);
  }
  return byKey;
}

/** Indexes integrations by key; a repeated key (with the same version) or a non-integration is a start-up error. */
export function indexIntegrations(list: readonly Integration[], moduleUrl?: string): IntegrationIndex {
  const index = new IntegrationIndex();
  index.addGeneration(list, moduleUrl);
  return index;
}

/** A file path (relative to `cwd`) as a file URL; a package name as it is. */
export function moduleSpecifierUrl(specifier: string, cwd = process.cwd()): string {
  if (specifier.startsWith('file:')) return specifier;
  const looksLikePath = specifier.startsWith('.') || isAbsolute(specifier) || /\.(m?[jt]s|cjs)$/.test(specifier);
  return looksLikePath ? pathToFileURL(resolve(cwd, specifier)).href : specifier;
}

/** Imports a module URL (see moduleSpecifierUrl) and returns its list of integrations. */
export async function importIntegrations(target: string, specifier = target): Promise<Integration[]> {
  let mod: { default?: unknown; integrations?: unknown };
  try {
    mod = (await import(target)) as typeof mod;
  } catch (err) {
    throw new IntegrationsError(`PLUGBOARD_INTEGRATIONS: could not import "${specifier}": ${(err as Error).message}`);
  }
  const list = Array.isArray(mod.default) ? mod.default : mod.integrations;
  if (!Array.isArray(list)) {
    throw new IntegrationsError(`PLUGBOARD_INTEGRATIONS: "${specifier}" must export an array of integrations (default or \`integrations\`)`);
  }
  checkList(list as Integration[]);
  return list as Integration[];
}

/**
 * Imports the vendor module: its default export, or a named `integrations` export, must be an
 * array of integrations. `specifier` is a file path (relative to `cwd`) or a package name.
 */
export async function loadIntegrations(specifier: string, cwd = process.cwd()): Promise<Integration[]> {
  return importIntegrations(moduleSpecifierUrl(specifier, cwd), specifier);
}
