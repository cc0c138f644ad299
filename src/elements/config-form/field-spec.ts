import type { FieldHint as ProtocolHint, FieldKind, MappingRow } from '../../protocol/fields.js';

export type { FieldKind, MappingRow };

// A copy of the protocol's FieldHint checked against it by type: importing the value would pull
// zod/mini into the browser bundle for twelve strings.
const FieldHint = {
  kind: 'x-plug-kind',
  placeholder: 'x-plug-placeholder',
  help: 'x-plug-help',
  dataSource: 'x-plug-data-source',
  dependsOn: 'x-plug-depends-on',
  multiple: 'x-plug-multiple',
  options: 'x-plug-options',
  order: 'x-plug-order',
  sources: 'x-plug-sources',
  targets: 'x-plug-targets',
  sourceLabel: 'x-plug-source-label',
  targetLabel: 'x-plug-target-label',
} as const satisfies typeof ProtocolHint;

/**
 * The kinds this build renders, checked against the protocol's union both ways: a kind added to
 * `FieldKind` is a compile error here (and in the renderer table) until it is handled.
 */
const KNOWN_KINDS: { [K in FieldKind]: true } = {
  text: true,
  longText: true,
  secret: true,
  number: true,
  boolean: true,
  choice: true,
  multiChoice: true,
  url: true,
  email: true,
  json: true,
  picker: true,
  mapping: true,
};

export const isKnownKind = (kind: string): kind is FieldKind => Object.hasOwn(KNOWN_KINDS, kind);

/**
 * A field's kind as the form sees it: one of the protocol's, or `unsupported` for an
 * `x-plug-kind` this build does not know (a newer server). An unsupported field says so and
 * keeps its stored value as it is; it is never guessed into a text input.
 */
export type FormFieldKind = FieldKind | 'unsupported';

export interface FieldOption {
  value: string;
  label: string;
}

/** One property of a config page's JSON Schema, read into what the form needs to render it. */
export interface FieldSpec<K extends FormFieldKind = FormFieldKind> {
  name: string;
  kind: K;
  /** The `x-plug-kind` as the schema wrote it, for an unsupported field. */
  declaredKind?: string;
  label: string;
  help?: string;
  placeholder?: string;
  /** The user must give a value (required and, for lists, at least one item). */
  required: boolean;
  default?: unknown;
  options: FieldOption[];
  dataSource?: string;
  dependsOn: string[];
  multiple: boolean;
  min?: number;
  max?: number;
  integer: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  /** A mapping's data sources and column names. */
  sources?: string;
  targets?: string;
  sourceLabel?: string;
  targetLabel?: string;
}

/** A mapping's rows as being edited: half-filled rows included, so nothing chosen is lost. */
export interface MappingRaw {
  rows: MappingRow[];
}

/**
 * What the form keeps while the user edits: text for text-like inputs (so half-typed numbers
 * and JSON survive), booleans for switches, arrays for lists, rows for a mapping.
 */
export type RawValue = string | boolean | string[] | MappingRaw;

type Json = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A schema without `x-plug-kind` (hand-written, or another tool's) still gets a sensible input. */
function inferKind(p: Json): FieldKind {
  const items = isObject(p.items) ? p.items : undefined;
  if (p.writeOnly === true) return 'secret';
  if (p.type === 'boolean') return 'boolean';
  if (p.type === 'number' || p.type === 'integer') return 'number';
  if (p.type === 'array') return items && Array.isArray(items.enum) ? 'multiChoice' : 'json';
  if (p.type === 'string') {
    if (Array.isArray(p.enum)) return 'choice';
    if (p.format === 'uri' || p.format === 'url') return 'url';
    if (p.format === 'email') return 'email';
    return 'text';
  }
  return 'json';
}

function readOptions(p: Json): FieldOption[] {
  const hinted = p[FieldHint.options];
  if (Array.isArray(hinted)) {
    return hinted.flatMap((o) => (isObject(o) && typeof o.value === 'string' ? [{ value: o.value, label: str(o.label) ?? o.value }] : []));
  }
  const list = Array.isArray(p.enum) ? p.enum : isObject(p.items) && Array.isArray(p.items.enum) ? p.items.enum : [];
  return list.filter((v): v is string => typeof v === 'string').map((v) => ({ value: v, label: v }));
}

/** Reads a page's JSON Schema into field specs, in `x-plug-order` (then any remaining properties). */
export function readFields(schema: Json | undefined): FieldSpec[] {
  const properties = schema && isObject(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema?.required) ? schema.required.filter((r) => typeof r === 'string') : []);
  const hintedOrder = Array.isArray(schema?.[FieldHint.order]) ? (schema[FieldHint.order] as unknown[]) : [];
  const order = [...new Set([...hintedOrder.filter((n): n is string => typeof n === 'string' && n in properties), ...Object.keys(properties)])];

  return order.flatMap((name): FieldSpec[] => {
    const p = properties[name];
    if (!isObject(p)) return [];
    const hinted = str(p[FieldHint.kind]);
    const kind: FormFieldKind = !hinted ? inferKind(p) : isKnownKind(hinted) ? hinted : 'unsupported';
    const minItems = num(p.minItems);
    const listKind = kind === 'multiChoice' || kind === 'mapping' || (kind === 'picker' && p[FieldHint.multiple] === true);
    const dependsOn = Array.isArray(p[FieldHint.dependsOn]) ? (p[FieldHint.dependsOn] as unknown[]).filter((d): d is string => typeof d === 'string') : [];
    return [
      {
        name,
        kind,
        declaredKind: kind === 'unsupported' ? hinted : undefined,
        label: str(p.title) ?? name,
        help: str(p.description) ?? str(p[FieldHint.help]),
        placeholder: str(p[FieldHint.placeholder]),
        // A list "required" by the schema may still be empty; only minItems makes the user pick.
        required: kind === 'boolean' ? false : listKind ? (minItems ?? 0) > 0 : required.has(name),
        default: p.default,
        options: readOptions(p),
        dataSource: str(p[FieldHint.dataSource]),
        dependsOn,
        multiple: listKind,
        min: num(p.minimum),
        max: num(p.maximum),
        integer: p.type === 'integer',
        minLength: num(p.minLength),
        maxLength: num(p.maxLength),
        pattern: str(p.pattern),
        minItems,
        maxItems: num(p.maxItems),
        sources: str(p[FieldHint.sources]),
        targets: str(p[FieldHint.targets]),
        sourceLabel: str(p[FieldHint.sourceLabel]),
        targetLabel: str(p[FieldHint.targetLabel]),
      },
    ];
  });
}

/** The editing form of a stored value (or the field's default). Secrets always start empty. */
export function toRaw(field: FieldSpec, stored: unknown): RawValue {
  const v = stored === undefined ? field.default : stored;
  switch (field.kind) {
    case 'secret':
      return '';
    case 'boolean':
      return v === true;
    case 'multiChoice':
    case 'picker':
      if (field.multiple) return Array.isArray(v) ? v.map(String) : typeof v === 'string' && v ? [v] : [];
      return v === undefined || v === null ? '' : String(v);
    case 'json':
      return v === undefined ? '' : JSON.stringify(v, null, 2);
    case 'mapping': {
      const rows = Array.isArray(v) ? v.filter(isObject).map((r) => ({ target: str(r.target) ?? '', source: str(r.source) ?? '' })) : [];
      // A required mapping starts with one row to fill in rather than an empty list.
      return { rows: rows.length === 0 && field.required ? [{ target: '', source: '' }] : rows };
    }
    case 'number':
      return typeof v === 'number' ? String(v) : typeof v === 'string' ? v : '';
    default:
      return v === undefined || v === null ? '' : String(v);
  }
}

export type Parsed = { ok: true; value: unknown } | { ok: false; invalidJson: true; text: string };

/**
 * The value to send for a field, or `undefined` to leave the key out (an empty optional text,
 * an untouched secret). Invalid JSON keeps its text, so the server refuses it rather than it
 * silently disappearing.
 */
export function fromRaw(field: FieldSpec, raw: RawValue): Parsed {
  if (Array.isArray(raw)) return { ok: true, value: [...raw] };
  if (typeof raw === 'object') {
    // Blank rows are left out; a half-filled one is sent, so the server names its empty cell.
    const rows = raw.rows.filter((r) => r.target !== '' || r.source !== '').map((r) => ({ ...r }));
    return { ok: true, value: rows.length ? rows : undefined };
  }
  if (typeof raw === 'boolean') return { ok: true, value: raw };
  if (raw.trim() === '' && field.kind !== 'longText') return { ok: true, value: undefined };
  if (raw === '') return { ok: true, value: undefined };
  if (field.kind === 'number') {
    const n = Number(raw);
    return { ok: true, value: Number.isFinite(n) ? n : undefined };
  }
  if (field.kind === 'json') {
    // Checked here, sent as its text: the SDK's field.json parses a string, so a value that is
    // itself a JSON string (`"hello"`) survives, where a parsed "hello" would be parsed again and refused.
    try {
      JSON.parse(raw);
      return { ok: true, value: raw };
    } catch {
      return { ok: false, invalidJson: true, text: raw };
    }
  }
  return { ok: true, value: raw };
}

/** Whether a dependency counts as filled in for a picker that depends on it. */
export function isFilled(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'string') return v.trim() !== '';
  if (Array.isArray(v)) return v.length > 0;
  return true;
}
