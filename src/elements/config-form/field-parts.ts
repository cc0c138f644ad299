import { html, nothing, type TemplateResult } from 'lit';
import type { StringKey } from '../i18n.js';
import type { FieldSpec, RawValue } from './field-spec.js';

/**
 * @internal What a field renderer reads from `<plug-config-form>` and reports back to it. One
 * object per form; every method takes the field, so renderers stay plain functions.
 */
export interface FieldForm {
  /** The form is disabled (its `disabled` or a disabled ancestor fieldset/form). */
  readonly disabled: boolean;
  t(key: StringKey, vars?: Record<string, string | number>): string;
  /** The field's value as being edited. */
  raw(f: FieldSpec): RawValue;
  /** The field's value as a list (a list field's items, or a single picker's one value). */
  list(f: FieldSpec): string[];
  /** A secret with a stored (or earlier typed) value: optional, shown as "Set — type to replace". */
  secretIsSet(f: FieldSpec): boolean;
  /** A native `input`: stops it and records the edit (the form fires its own `input`). */
  input(e: Event, f: FieldSpec, raw: RawValue): void;
  /** A native `change`: the user committed the field (the form fires its own `change`). */
  commit(f: FieldSpec): void;
  submitOnEnter(e: KeyboardEvent): void;
  /** The picker of a picker field (its state outlives a render). */
  picker(f: FieldSpec<'picker'>): { render(f: FieldSpec<'picker'>, view: FieldView): TemplateResult };
  /** The controller of a mapping field (its loaded lists outlive a render). */
  mapping(f: FieldSpec<'mapping'>): { render(f: FieldSpec<'mapping'>, view: FieldView): TemplateResult };
}

/** Where a field is drawn: `id` prefixes the ids of its control, help and error; `message` is the error shown. */
export interface FieldView {
  id: string;
  message: string;
}

/** The ids a control is described by: help, extra notes, then the error. */
export function describedBy(id: string, f: FieldSpec, extra: string[] = []): string {
  return [f.help ? `${id}-help` : '', ...extra, `${id}-error`].filter(Boolean).join(' ');
}

export function renderHelp(id: string, f: FieldSpec): TemplateResult | typeof nothing {
  return f.help ? html`<div part="help" class="help" id="${id}-help">${f.help}</div>` : nothing;
}

export function renderError(id: string, message: string): TemplateResult {
  return html`<div part="error" class="error" id="${id}-error" aria-live="polite">${message}</div>`;
}

export function renderRequiredMark(form: FieldForm, f: FieldSpec): TemplateResult | typeof nothing {
  return f.required ? html`<span class="required" aria-hidden="true" title=${form.t('form.required')}>*</span>` : nothing;
}

export function renderLabel(form: FieldForm, id: string, f: FieldSpec): TemplateResult {
  return html`<label part="label" class="label" for=${id}>${f.label}${renderRequiredMark(form, f)}</label>`;
}
