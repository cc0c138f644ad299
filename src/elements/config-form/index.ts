// Entry point for `<plug-config-form>`: importing it registers the tag (config-form.ts alone does not).
export { PlugConfigForm } from './define.js';
export type { FieldOption, LoadOptions } from './config-form.js';
export { readFields, type FieldSpec } from './field-spec.js';
