import { html, nothing, type TemplateResult } from 'lit';
import { ifDefined } from 'lit/directives/if-defined.js';
import { live } from 'lit/directives/live.js';
import { describedBy, renderError, renderHelp, renderLabel, renderRequiredMark, type FieldForm, type FieldView } from './field-parts.js';
import type { FieldKind, FieldSpec } from './field-spec.js';

/** @internal Draws one field of kind `K` into the form's shadow root. */
export type Renderer<K extends FieldKind> = (f: FieldSpec<K>, view: FieldView, form: FieldForm) => TemplateResult;

/** Up to this many options a choice is a radio group (all visible at once); more make a select. */
const RADIO_LIMIT = 4;

type InputKind = 'text' | 'secret' | 'number' | 'url' | 'email';
const INPUT_TYPE: { [K in InputKind]: string } = { text: 'text', secret: 'password', number: 'number', url: 'url', email: 'email' };

const renderInput: Renderer<InputKind> = (f, { id, message }, form) => {
  const raw = form.raw(f) as string;
  const secretSet = form.secretIsSet(f) && raw === '';
  const numeric = f.kind === 'number';
  return html`<div part="field" class="field" data-kind=${f.kind}>
    ${renderLabel(form, id, f)}
    <input
      id=${id}
      part="input"
      data-field=${f.name}
      data-focus=${f.name}
      name=${f.name}
      type=${INPUT_TYPE[f.kind]}
      placeholder=${ifDefined(f.placeholder)}
      autocomplete=${ifDefined(f.kind === 'secret' ? 'off' : undefined)}
      spellcheck=${ifDefined(f.kind === 'secret' ? 'false' : undefined)}
      inputmode=${ifDefined(numeric ? (f.integer ? 'numeric' : 'decimal') : undefined)}
      ?required=${f.required && !form.secretIsSet(f)}
      minlength=${ifDefined(numeric ? undefined : f.minLength)}
      maxlength=${ifDefined(numeric ? undefined : f.maxLength)}
      pattern=${ifDefined(f.kind === 'text' ? f.pattern : undefined)}
      min=${ifDefined(numeric ? f.min : undefined)}
      max=${ifDefined(numeric ? f.max : undefined)}
      step=${ifDefined(numeric ? (f.integer ? '1' : 'any') : undefined)}
      .value=${live(raw)}
      ?disabled=${form.disabled}
      aria-invalid=${message ? 'true' : 'false'}
      aria-describedby=${describedBy(id, f, secretSet ? [`${id}-set`] : [])}
      @input=${(e: Event) => form.input(e, f, (e.target as HTMLInputElement).value)}
      @change=${() => form.commit(f)}
      @keydown=${(e: KeyboardEvent) => form.submitOnEnter(e)}
    />
    ${secretSet ? html`<div part="help" class="help secret-set" id="${id}-set">${form.t('form.secretSet')}</div>` : nothing}
    ${renderHelp(id, f)} ${renderError(id, message)}
  </div>`;
};

const renderTextarea: Renderer<'longText' | 'json'> = (f, { id, message }, form) => {
  const json = f.kind === 'json';
  return html`<div part="field" class="field" data-kind=${f.kind}>
    ${renderLabel(form, id, f)}
    <textarea
      id=${id}
      part="input"
      class=${json ? 'code' : ''}
      data-field=${f.name}
      data-focus=${f.name}
      name=${f.name}
      rows=${json ? 6 : 4}
      spellcheck=${json ? 'false' : 'true'}
      .value=${live(form.raw(f) as string)}
      placeholder=${ifDefined(f.placeholder)}
      ?required=${f.required}
      maxlength=${ifDefined(f.maxLength)}
      ?disabled=${form.disabled}
      aria-invalid=${message ? 'true' : 'false'}
      aria-describedby=${describedBy(id, f)}
      @input=${(e: Event) => form.input(e, f, (e.target as HTMLTextAreaElement).value)}
      @change=${() => form.commit(f)}
    ></textarea>
    ${renderHelp(id, f)} ${renderError(id, message)}
  </div>`;
};

const renderSwitch: Renderer<'boolean'> = (f, { id, message }, form) =>
  html`<div part="field" class="field switch" data-kind=${f.kind}>
    <input
      id=${id}
      part="input"
      type="checkbox"
      role="switch"
      data-field=${f.name}
      data-focus=${f.name}
      name=${f.name}
      .checked=${live(form.raw(f) === true)}
      ?disabled=${form.disabled}
      aria-invalid=${message ? 'true' : 'false'}
      aria-describedby=${describedBy(id, f)}
      @input=${(e: Event) => form.input(e, f, (e.target as HTMLInputElement).checked)}
      @change=${() => form.commit(f)}
    />
    ${renderLabel(form, id, f)} ${renderHelp(id, f)} ${renderError(id, message)}
  </div>`;

function renderGroup(f: FieldSpec<'choice' | 'multiChoice'>, { id, message }: FieldView, form: FieldForm, type: 'radio' | 'checkbox'): TemplateResult {
  const raw = form.raw(f);
  const picked = Array.isArray(raw) ? raw : [raw];
  const toggle = (e: Event, value: string): void => {
    const checked = (e.target as HTMLInputElement).checked;
    if (type === 'radio') form.input(e, f, value);
    else form.input(e, f, checked ? [...form.list(f), value] : form.list(f).filter((v) => v !== value));
  };
  return html`<fieldset part="field" class="field group" data-kind=${f.kind} aria-describedby=${describedBy(id, f)}>
    <legend part="label" class="label">${f.label}${renderRequiredMark(form, f)}</legend>
    ${f.options.map(
      (o, j) => html`<label class="choice">
        <input
          id="${id}-${j}"
          part="input"
          type=${type}
          name=${id}
          .value=${o.value}
          data-field=${ifDefined(j === 0 ? f.name : undefined)}
          data-focus=${ifDefined(j === 0 ? f.name : undefined)}
          .checked=${live(picked.includes(o.value))}
          ?required=${type === 'radio' && f.required}
          ?disabled=${form.disabled}
          aria-invalid=${message ? 'true' : 'false'}
          @input=${(e: Event) => toggle(e, o.value)}
          @change=${() => form.commit(f)}
        /><span>${o.label}</span>
      </label>`,
    )}
    ${renderHelp(id, f)} ${renderError(id, message)}
  </fieldset>`;
}

const renderSelect: Renderer<'choice'> = (f, { id, message }, form) => {
  const raw = form.raw(f) as string;
  return html`<div part="field" class="field" data-kind=${f.kind}>
    ${renderLabel(form, id, f)}
    <select
      id=${id}
      part="input"
      data-field=${f.name}
      data-focus=${f.name}
      name=${f.name}
      ?required=${f.required}
      ?disabled=${form.disabled}
      aria-invalid=${message ? 'true' : 'false'}
      aria-describedby=${describedBy(id, f)}
      @input=${(e: Event) => form.input(e, f, (e.target as HTMLSelectElement).value)}
      @change=${() => form.commit(f)}
    >
      <option value="" .selected=${live(raw === '')}>${f.placeholder ?? form.t('form.choose')}</option>
      ${f.options.map((o) => html`<option .value=${o.value} .selected=${live(raw === o.value)}>${o.label}</option>`)}
    </select>
    ${renderHelp(id, f)} ${renderError(id, message)}
  </div>`;
};

/**
 * @internal One renderer per field kind of the protocol. Typed by `FieldKind`, so a kind added to
 * `src/protocol/fields.ts` does not compile until it has a renderer here.
 */
export const renderers: { [K in FieldKind]: Renderer<K> } = {
  text: renderInput,
  secret: renderInput,
  number: renderInput,
  url: renderInput,
  email: renderInput,
  longText: renderTextarea,
  json: renderTextarea,
  boolean: renderSwitch,
  choice: (f, view, form) => (f.options.length <= RADIO_LIMIT ? renderGroup(f, view, form, 'radio') : renderSelect(f, view, form)),
  multiChoice: (f, view, form) => renderGroup(f, view, form, 'checkbox'),
  picker: (f, view, form) => form.picker(f).render(f, view),
  mapping: (f, view, form) => form.mapping(f).render(f, view),
};

/**
 * A kind this build does not know (a newer server): a labelled note saying the field can't be
 * edited here, instead of a guessed input that could overwrite the value. Focusable (not in the
 * tab order), so `reportValidity()` can take the user to a server message about it.
 */
export function renderUnsupported(f: FieldSpec, { id, message }: FieldView, form: FieldForm): TemplateResult {
  return html`<div
    part="field"
    class="field unsupported"
    data-kind="unsupported"
    data-declared-kind=${ifDefined(f.declaredKind)}
    role="group"
    aria-labelledby="${id}-label"
    aria-describedby=${describedBy(id, f, [`${id}-unsupported`])}
  >
    <div part="label" class="label" id="${id}-label">${f.label}${renderRequiredMark(form, f)}</div>
    <div part="help" class="help" id="${id}-unsupported" data-focus=${f.name} tabindex="-1">${form.t('form.unsupported')}</div>
    ${renderHelp(id, f)} ${renderError(id, message)}
  </div>`;
}

/** Draws a field with the renderer of its kind, or the unsupported note for a kind this build does not know. */
export function renderField(f: FieldSpec, view: FieldView, form: FieldForm): TemplateResult {
  return isSupported(f) ? renderKnown(f, view, form) : renderUnsupported(f, view, form);
}

function renderKnown<K extends FieldKind>(f: FieldSpec<K>, view: FieldView, form: FieldForm): TemplateResult {
  const render: Renderer<K> = renderers[f.kind];
  return render(f, view, form);
}

const isSupported = (f: FieldSpec): f is FieldSpec<FieldKind> => f.kind !== 'unsupported';
