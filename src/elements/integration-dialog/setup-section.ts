import type { PlugClient } from '../../client/index.js';
import type { Instance, IntegrationDetail } from '../../protocol/index.js';
import type { StringKey, Translations } from '../i18n.js';

/** @internal What every section of `<plug-integration-setup>` gets (overview, wizard, connections, confirmation). */
export interface SetupSection {
  client: PlugClient;
  detail: IntegrationDetail;
  /** The customer's instance; undefined before setup starts. */
  instance: Instance | undefined;
  /** A request is running: buttons and forms are disabled. */
  busy: boolean;
  /** The dialog's own replacement strings, else the provider's (handed to nested elements). */
  translations: Translations | undefined;
  t: (key: StringKey, vars?: Record<string, string | number>) => string;
}

/** The parts of a nested `<plug-config-form>` the dialog forwards as its own. */
export const FORM_PARTS = 'field,label,input,help,error,chip';

/** Field names of a config page (or an API key's form), from its JSON Schema. */
export function fieldsOf(schema: Record<string, unknown> | undefined): string[] {
  const props = schema?.properties;
  return props && typeof props === 'object' ? Object.keys(props) : [];
}
