import * as z from 'zod';
import { FieldHint, type FieldKind, type MappingRow } from 'plugboard/protocol';

export type { MappingRow };

/** What every field builder takes. A field is required unless `required: false` or it has a default. */
export interface FieldOptions<T> {
  label: string;
  help?: string;
  placeholder?: string;
  required?: boolean;
  default?: T;
}

export interface Choice {
  value: string;
  label: string;
}

type Out<S extends z.ZodType, O extends FieldOptions<unknown>> = O extends { required: false } ? z.ZodOptional<S> : S;

function finish<S extends z.ZodType, O extends FieldOptions<unknown>>(schema: S, kind: FieldKind, opts: O, extra: Record<string, unknown> = {}): Out<S, O> {
  const meta: Record<string, unknown> = { title: opts.label, [FieldHint.kind]: kind, ...extra };
  if (opts.help) meta.description = opts.help;
  if (opts.placeholder) meta[FieldHint.placeholder] = opts.placeholder;
  let out: z.ZodType = schema;
  if (opts.default !== undefined) out = out.default(opts.default as never);
  else if (opts.required === false) out = out.optional();
  return out.meta(meta) as Out<S, O>;
}

function choices(options: readonly (string | Choice)[]): Choice[] {
  return options.map((o) => (typeof o === 'string' ? { value: o, label: o } : o));
}

const text = (label: string) => z.string({ error: (iss) => (iss.input === undefined ? `${label} is required` : `${label} must be text`) });
const nonEmpty = (label: string) => text(label).trim().min(1, `${label} is required`);

/** Field builders for config pages. Each returns a zod schema carrying the UI hints. */
export const field = {
  text<O extends FieldOptions<string> & { minLength?: number; maxLength?: number; pattern?: RegExp }>(o: O) {
    let s = o.required === false ? text(o.label) : nonEmpty(o.label);
    s = s.max(o.maxLength ?? 500, `${o.label} must be at most ${o.maxLength ?? 500} characters`);
    if (o.minLength) s = s.min(o.minLength, `${o.label} must be at least ${o.minLength} characters`);
    if (o.pattern) s = s.regex(o.pattern, `${o.label} has the wrong format`);
    return finish(s, 'text', o);
  },
  longText<O extends FieldOptions<string> & { maxLength?: number }>(o: O) {
    const base = o.required === false ? text(o.label) : nonEmpty(o.label);
    return finish(base.max(o.maxLength ?? 10_000, `${o.label} is too long`), 'longText', o);
  },
  /** Stored encrypted; never sent back to the browser. */
  secret<O extends FieldOptions<never>>(o: O) {
    return finish(nonEmpty(o.label).max(4096), 'secret', o, { writeOnly: true });
  },
  number<O extends FieldOptions<number> & { min?: number; max?: number; integer?: boolean }>(o: O) {
    let s = z.number({ error: (iss) => (iss.input === undefined ? `${o.label} is required` : `${o.label} must be a number`) });
    if (o.integer) s = s.int(`${o.label} must be a whole number`);
    if (o.min !== undefined) s = s.min(o.min, `${o.label} must be at least ${o.min}`);
    if (o.max !== undefined) s = s.max(o.max, `${o.label} must be at most ${o.max}`);
    return finish(s, 'number', o);
  },
  boolean<O extends FieldOptions<boolean>>(o: O) {
    return finish(z.boolean({ error: `${o.label} must be true or false` }), 'boolean', { ...o, default: o.default ?? false });
  },
  choice<O extends FieldOptions<string> & { options: readonly (string | Choice)[] }>(o: O) {
    const list = choices(o.options);
    const values = list.map((c) => c.value) as [string, ...string[]];
    return finish(z.enum(values, { error: `${o.label} must be one of the listed options` }), 'choice', o, {
      [FieldHint.options]: list,
    });
  },
  multiChoice<O extends FieldOptions<string[]> & { options: readonly (string | Choice)[]; min?: number; max?: number }>(o: O) {
    const list = choices(o.options);
    const values = list.map((c) => c.value) as [string, ...string[]];
    let s = z.array(z.enum(values, { error: `${o.label} has an option that is not listed` }));
    if (o.min) s = s.min(o.min, `Pick at least ${o.min} for ${o.label}`);
    if (o.max) s = s.max(o.max, `Pick at most ${o.max} for ${o.label}`);
    return finish(s, 'multiChoice', o, { [FieldHint.options]: list });
  },
  url<O extends FieldOptions<string> & { protocols?: string[] }>(o: O) {
    const protocols = o.protocols ?? ['https:', 'http:'];
    const s = z
      .string({ error: `${o.label} must be a URL` })
      .trim()
      .refine(
        (v) => {
          try {
            return protocols.includes(new URL(v).protocol);
          } catch {
            return false;
          }
        },
        `${o.label} must be a ${protocols.map((p) => p.replace(':', '')).join(' or ')} URL`,
      );
    return finish(s, 'url', o, { format: 'uri' });
  },
  email<O extends FieldOptions<string>>(o: O) {
    return finish(z.email(`${o.label} must be an email address`), 'email', o);
  },
  json<O extends FieldOptions<unknown>>(o: O) {
    // Accepts a JSON value or a string holding JSON, so a textarea can post its text.
    const s = z.unknown().transform((v, ctx) => {
      if (typeof v !== 'string') return v;
      try {
        return JSON.parse(v) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: `${o.label} must be valid JSON` });
        return z.NEVER;
      }
    });
    const required = o.required === false ? s : s.refine((v) => v !== undefined && v !== '', `${o.label} is required`);
    return finish(required as unknown as z.ZodType<unknown>, 'json', o);
  },
  /** Options come from a data source of the integration, run with the instance's connections. */
  picker<O extends FieldOptions<string | string[]> & { dataSource: string; dependsOn?: string[]; multiple?: boolean }>(o: O) {
    const s = o.multiple ? z.array(z.string()).min(o.required === false ? 0 : 1, `Pick at least one ${o.label}`) : nonEmpty(o.label);
    return finish(s, 'picker', o, {
      [FieldHint.dataSource]: o.dataSource,
      [FieldHint.dependsOn]: o.dependsOn ?? [],
      [FieldHint.multiple]: Boolean(o.multiple),
    });
  },
  /**
   * Rows of "target ← source": which field of one system fills which field of another. Both lists
   * come from data sources of the integration (`sources`: the fields a row may read; `targets`:
   * the fields it may fill), run with the instance's connections. Each target appears at most
   * once; on save the server checks every value against what the data sources offer.
   */
  mapping<O extends FieldOptions<MappingRow[]> & { sources: string; targets: string; sourceLabel?: string; targetLabel?: string; min?: number; max?: number }>(
    o: O,
  ) {
    const cell = (side: 'target' | 'source') =>
      z
        .string({ error: `Each row of ${o.label} needs a ${side}` })
        .trim()
        .min(1, `Each row of ${o.label} needs a ${side}`)
        .max(200);
    const max = o.max ?? 200;
    let s = z
      .array(z.strictObject({ target: cell('target'), source: cell('source') }, { error: `Each row of ${o.label} is a target and a source` }), {
        error: `${o.label} must be a list of rows`,
      })
      .max(max, `${o.label} has more than ${max} rows`);
    const min = o.min ?? (o.required === false ? 0 : 1);
    if (min > 0) s = s.min(min, min === 1 ? `Map at least one field in ${o.label}` : `Map at least ${min} fields in ${o.label}`);
    const unique = s.superRefine((rows, ctx) => {
      const seen = new Set<string>();
      rows.forEach((row, i) => {
        if (seen.has(row.target)) ctx.addIssue({ code: 'custom', path: [i, 'target'], message: `"${row.target}" is filled by more than one row` });
        seen.add(row.target);
      });
    });
    return finish(unique, 'mapping', o, {
      [FieldHint.sources]: o.sources,
      [FieldHint.targets]: o.targets,
      ...(o.sourceLabel ? { [FieldHint.sourceLabel]: o.sourceLabel } : {}),
      ...(o.targetLabel ? { [FieldHint.targetLabel]: o.targetLabel } : {}),
    });
  },
};
