// The vendor's integrations: loaded from the module PLUGBOARD_INTEGRATIONS names, indexed by key.
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Integration } from './sdk/index.js';

export type IntegrationIndex = ReadonlyMap<string, Integration>;

export class IntegrationsError extends Error {}

function isIntegration(value: unknown): value is Integration {
  const v = value as Partial<Integration> | null;
  return typeof v === 'object' && v !== null && typeof v.key === 'string' && typeof v.describe === 'function' && v.configSchema !== undefined;
}

/** Indexes integrations by key; a repeated key or a non-integration is a start-up error. */
export function indexIntegrations(list: readonly Integration[]): IntegrationIndex {
  const index = new Map<string, Integration>();
  for (const [i, integration] of list.entries()) {
    if (!isIntegration(integration)) {
      throw new IntegrationsError(`integration #${i + 1} was not made with defineIntegration()`);
    }
    if (index.has(integration.key)) throw new IntegrationsError(`integration key "${integration.key}" is defined twice`);
    index.set(integration.key, integration);
  }
  return index;
}

/**
 * Imports the vendor module: its default export, or a named `integrations` export, must be an
 * array of integrations. `specifier` is a file path (relative to `cwd`) or a package name.
 */
export async function loadIntegrations(specifier: string, cwd = process.cwd()): Promise<Integration[]> {
  const looksLikePath = specifier.startsWith('.') || isAbsolute(specifier) || /\.(m?[jt]s|cjs)$/.test(specifier);
  const target = looksLikePath ? pathToFileURL(resolve(cwd, specifier)).href : specifier;
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
  indexIntegrations(list as Integration[]);
  return list as Integration[];
}
