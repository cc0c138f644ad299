import * as z from 'zod/mini';

/**
 * UI hints carried inside the JSON Schema of a config page, as `x-plug-*` keys on each
 * property. The SDK writes them; `<plug-config-form>` reads them.
 */
export const FieldKind = z.enum(['text', 'longText', 'secret', 'number', 'boolean', 'choice', 'multiChoice', 'url', 'email', 'json', 'picker', 'mapping']);
export type FieldKind = z.infer<typeof FieldKind>;

/** Keys used in a property's JSON Schema for the UI. */
export const FieldHint = {
  kind: 'x-plug-kind',
  placeholder: 'x-plug-placeholder',
  help: 'x-plug-help',
  dataSource: 'x-plug-data-source',
  dependsOn: 'x-plug-depends-on',
  multiple: 'x-plug-multiple',
  options: 'x-plug-options',
  order: 'x-plug-order',
  /** A mapping field's data sources: the values a row may read from, and the fields it may fill. */
  sources: 'x-plug-sources',
  targets: 'x-plug-targets',
  /** What a mapping's two columns are called ("Acme CRM field", "Northwind field"). */
  sourceLabel: 'x-plug-source-label',
  targetLabel: 'x-plug-target-label',
} as const;

/** A JSON Schema document, passed through as data. */
export const JsonSchema = z.record(z.string(), z.unknown());
export type JsonSchema = z.infer<typeof JsonSchema>;

/** One row of a `mapping` field: the target field is filled from the source field. */
export interface MappingRow {
  target: string;
  source: string;
}
