import { html, nothing, type PropertyDeclarations, type PropertyValues, type TemplateResult } from 'lit';
import type { FieldError } from '../../protocol/problem.js';
import { PlugElement } from '../base/plug-element.js';
import { addEnglish, format, type StringKey, type Translations } from '../i18n.js';
import { tokens } from '../themes/tokens.js';
import { styles } from './config-form.styles.js';
import { renderField } from './field-renderers.js';
import { formEn } from './form-strings.js';
import { fromRaw, isFilled, readFields, toRaw, type FieldSpec, type RawValue } from './field-spec.js';
import { MappingField, mappingProblems, mappingRows, type MappingForm } from './mapping-field.js';
import { PickerField, type LoadOptions, type PickerForm } from './picker-field.js';

export type { FieldOption } from './field-spec.js';
export { OptionsUnavailable, type LoadOptions } from './picker-field.js';

addEnglish(formEn);

const differs = (a: unknown, b: unknown): boolean => JSON.stringify(a) !== JSON.stringify(b);

/**
 * @customElement plug-config-form
 * @summary Renders one config page of an integration from its JSON Schema (as the SDK writes it)
 * and gives back typed values. Secrets are write-only: a stored one shows "Set — type to replace".
 *
 * Form-associated as a whole: inside a host `<form>` it contributes every field under its own
 * name (FormData) and its validity, anchored on the first invalid input. The inputs themselves
 * are native elements in the shadow root; every message is the form's own (`form.*` strings,
 * translatable), never the browser's.
 *
 * Use: set `schema` (one `configPages[i].schema` of the integration detail), `value` (the
 * instance's config), `secretsSet`, and `loadOptions` (calls the data-source route). Read
 * `value` to save; after a 422 set `errors` and call `reportValidity()` to focus the first
 * field with a problem. `lang` is the native attribute: it is inherited by the inputs.
 *
 * @event input - Bubbles, composed. On each user edit (never when code sets `value`).
 * @event change - Bubbles, composed. When the user commits a value (blur after typing, a pick, a toggle).
 *
 * @csspart field - The wrapper of one field (a `fieldset` for radio and checkbox groups).
 * @csspart label - A field's label or legend.
 * @csspart input - An input, textarea, select, radio, checkbox or picker search box.
 * @csspart help - Help text, the "Set — type to replace" note and "Fill in … first".
 * @csspart error - A field's error message, and the list of errors that match no field.
 * @csspart listbox - A picker's option list.
 * @csspart option - One option in a picker's list.
 * @csspart chip - One selected value of a multiple picker.
 * @csspart button - Small buttons (remove a chip, clear a picker, retry).
 *
 * @cssproperty --plug-config-form-gap - Space between fields.
 * @cssproperty --plug-config-form-input-background - Background of inputs.
 * @cssproperty --plug-config-form-input-border-color - Border of inputs.
 */
export class PlugConfigForm extends PlugElement {
  static override styles = [tokens, styles];
  // `static properties`, not decorators: see PlugApiElement.
  static override properties: PropertyDeclarations = {
    schema: { attribute: false },
    secretsSet: { attribute: false, hasChanged: differs },
    errors: { attribute: false, hasChanged: differs },
    loadOptions: { attribute: false },
    translations: { attribute: false },
    disabled: { type: Boolean, reflect: true },
  };
  static formAssociated = true;

  readonly #internals: ElementInternals;
  /** The last value set by code; edits live in #raw so a form reset can go back to it. */
  #source: Record<string, unknown> = {};
  #raw = new Map<string, RawValue>();
  /** Fields whose native/own validation message is visible (after a commit or reportValidity). */
  #shown = new Set<string>();
  /** Fields the user edited since `errors` was set: their server message is out of date. */
  #dismissed = new Set<string>();
  /** One per picker field name; its labels of loaded options outlive a new `value`. */
  #pickers = new Map<string, PickerField>();
  /** One per mapping field name; its loaded lists outlive a new `value`. */
  #mappings = new Map<string, MappingField>();
  #formDisabled = false;
  #specs?: { schema: unknown; fields: FieldSpec[] };
  /** What the field renderers and pickers read from this form and report back to it. */
  readonly #form: PickerForm & MappingForm = (() => {
    const form = this;
    return {
      get disabled() {
        return form.#isDisabled();
      },
      get loadOptions() {
        return form.loadOptions;
      },
      t: (key, vars) => form.#t(key, vars),
      raw: (f) => form.#rawOf(f),
      list: (f) => form.#list(f),
      secretIsSet: (f) => form.#secretIsSet(f),
      input: (e, f, raw) => form.#onInput(e, f, raw),
      commit: (f) => form.#commit(f),
      submitOnEnter: (e) => form.#submitOnEnter(e),
      picker: (f) => form.#picker(f),
      missing: (f) => form.#depsMissing(f),
      config: () => form.#config(),
      pick: (f, values) => form.#replacePicks(f, values),
      mapping: (f) => form.#mapping(f),
      setRows: (f, rows) => {
        form.#edit(f, { rows });
        form.#commit(f);
      },
      cellErrors: (f) => (form.#dismissed.has(f.name) ? new Map() : (form.#serverErrors().cells.get(f.name) ?? new Map())),
      shown: (f) => form.#shown.has(f.name),
    };
  })();

  /** JSON Schema of one config page: `properties` with `x-plug-*` hints, `required`, `x-plug-order`. */
  declare schema: Record<string, unknown> | undefined;
  /** Secret fields that have a stored value. Their value is never sent to the browser. */
  declare secretsSet: string[];
  /**
   * Field errors from the server (422), `path` relative to the form (`channel`; `config.channel`
   * also works). Compared by content: a host re-rendering with an equal new array does not bring
   * back messages the user has since edited away.
   */
  declare errors: FieldError[];
  /** Loads a picker's options for a search `query` with the form's current config (secrets left out). */
  declare loadOptions: LoadOptions | undefined;
  declare translations: Translations | undefined;
  declare disabled: boolean;

  constructor() {
    super();
    this.secretsSet = [];
    this.errors = [];
    this.disabled = false;
    this.#internals = this.attachInternals();
    // A host form's submit validation fires `invalid` here: show the messages, as native inputs do.
    this.addEventListener('invalid', () => {
      for (const f of this.#fields()) this.#shown.add(f.name);
      this.requestUpdate();
    });
    // `value` is a plain accessor, so rescue a value set on the element before it was upgraded.
    if (Object.hasOwn(this, 'value')) {
      const early = (this as { value?: Record<string, unknown> }).value;
      delete (this as { value?: unknown }).value;
      this.value = early;
    }
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('errors')) this.#dismissed.clear();
    if (changed.has('disabled') && this.disabled) for (const p of this.#pickers.values()) p.collapse();
  }

  protected override updated(changed: PropertyValues<this>): void {
    this.#syncValidity();
    this.#syncFormValue();
    if (changed.has('schema') || changed.has('loadOptions')) {
      for (const p of this.#pickers.values()) p.allowPrefetch();
      for (const m of this.#mappings.values()) m.reset();
    }
    for (const f of this.#fields()) {
      if (f.kind === 'picker') this.#picker(f).prefetch(f);
      else if (f.kind === 'mapping') this.#mapping(f).load(f);
    }
  }

  formResetCallback(): void {
    this.value = this.#source;
  }

  formDisabledCallback(disabled: boolean): void {
    this.#formDisabled = disabled;
    this.requestUpdate();
  }

  // ------------------------------------------------------------------ reading the schema and values

  #fields(): FieldSpec[] {
    if (!this.#specs || this.#specs.schema !== this.schema) this.#specs = { schema: this.schema, fields: readFields(this.schema) };
    return this.#specs.fields;
  }

  #locale(): string | undefined {
    return (this.closest('[lang]') as HTMLElement | null)?.lang || document.documentElement.lang || undefined;
  }

  #t(key: StringKey, vars?: Record<string, string | number>): string {
    return format(this.translations, key, vars, this.#locale());
  }

  #rawOf(f: FieldSpec): RawValue {
    return this.#raw.get(f.name) ?? toRaw(f, this.#source[f.name]);
  }

  /**
   * A secret the host passed back in `value` (typed earlier, e.g. before going to another wizard
   * page). The server never sends secrets, so this can only be the user's own typing: it is kept
   * and returned, but never put into the DOM.
   */
  #pendingSecret(f: FieldSpec): string | undefined {
    const v = f.kind === 'secret' ? this.#source[f.name] : undefined;
    return typeof v === 'string' && v !== '' ? v : undefined;
  }

  #secretIsSet(f: FieldSpec): boolean {
    return f.kind === 'secret' && (this.secretsSet?.includes(f.name) || this.#pendingSecret(f) !== undefined);
  }

  #list(f: FieldSpec): string[] {
    const raw = this.#rawOf(f);
    return Array.isArray(raw) ? raw : typeof raw === 'string' && raw !== '' ? [raw] : [];
  }

  /** The config a data source sees: the page's current values over the rest of the config, no secrets. */
  #config(): Record<string, unknown> {
    const fields = this.#fields();
    const config: Record<string, unknown> = { ...this.#source };
    for (const f of fields) delete config[f.name];
    const current = this.value;
    for (const f of fields) if (f.kind !== 'secret' && f.name in current) config[f.name] = current[f.name];
    return config;
  }

  #depsMissing(f: FieldSpec): string[] {
    if (f.dependsOn.length === 0) return [];
    const config = this.#config();
    const byName = new Map(this.#fields().map((x) => [x.name, x]));
    return f.dependsOn.filter((d) => !isFilled(config[d])).map((d) => byName.get(d)?.label ?? d);
  }

  #isDisabled(): boolean {
    return this.disabled || this.#formDisabled;
  }

  /** Server errors by field; a mapping's cell errors (`fields.2.target`) by cell, with one summary on the field. */
  #serverErrors(): { byField: Map<string, string[]>; unmatched: string[]; cells: Map<string, Map<string, string>> } {
    const names = new Set(this.#fields().map((f) => f.name));
    const mappings = new Set(this.#fields().flatMap((f) => (f.kind === 'mapping' ? [f.name] : [])));
    const byField = new Map<string, string[]>();
    const cells = new Map<string, Map<string, string>>();
    const unmatched: string[] = [];
    for (const e of this.errors ?? []) {
      const path = String(e.path ?? '')
        .replace(/^\/+/, '')
        .replace(/^config[./]/, '');
      const head = path.split(/[./[]/)[0];
      const name = names.has(path) ? path : names.has(head) ? head : undefined;
      const cell = name !== undefined && mappings.has(name) ? /^\w+\.(\d+)\.(target|source)$/.exec(path) : null;
      if (cell) {
        const of = cells.get(name!) ?? new Map<string, string>();
        of.set(`${cell[1]}.${cell[2]}`, [of.get(`${cell[1]}.${cell[2]}`), e.message].filter(Boolean).join(' '));
        cells.set(name!, of);
        if (!byField.has(name!)) byField.set(name!, [this.#t('form.mappingFix')]);
      } else if (name === undefined) unmatched.push(e.message);
      else byField.set(name, [...(byField.get(name) ?? []), e.message]);
    }
    return { byField, unmatched, cells };
  }

  // ------------------------------------------------------------------ validity

  #anchor(f: FieldSpec): HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement | null {
    return this.renderRoot.querySelector(`[data-field="${CSS.escape(f.name)}"]`);
  }

  /** Rules native inputs can't express: JSON syntax, picker emptiness, list sizes. */
  #customMessage(f: FieldSpec): string {
    const raw = this.#rawOf(f);
    if (f.kind === 'json' && !fromRaw(f, raw).ok) return this.#t('form.invalidJson');
    if (f.kind === 'picker' && !f.multiple && f.required && raw === '') return this.#t('form.missing');
    if (f.kind === 'mapping') return mappingProblems(f, mappingRows(raw), this.#mapping(f).lists, (key, vars) => this.#t(key, vars)).field;
    if (Array.isArray(raw)) {
      if (f.minItems && raw.length < f.minItems) return this.#t('form.pickAtLeast', { count: f.minItems });
      if (f.maxItems !== undefined && raw.length > f.maxItems) return this.#t('form.pickAtMost', { count: f.maxItems });
    }
    return '';
  }

  /**
   * Our message for what the field's input fails (its constraints come from the field spec):
   * never the browser's own text, which is neither ours nor translatable.
   */
  #constraintMessage(f: FieldSpec, v: ValidityState): string {
    const number = (n: number | undefined): string => new Intl.NumberFormat(this.#locale()).format(n ?? 0);
    if (v.valueMissing) return this.#t('form.missing');
    if (v.badInput) return this.#t('form.number');
    if (v.typeMismatch) return this.#t(f.kind === 'email' ? 'form.email' : 'form.url');
    if (v.patternMismatch) return f.placeholder ? this.#t('form.patternExample', { example: f.placeholder }) : this.#t('form.pattern');
    if (v.tooShort) return this.#t('form.minLength', { count: f.minLength ?? 0 });
    if (v.tooLong) return this.#t('form.maxLength', { count: f.maxLength ?? 0 });
    if (v.rangeUnderflow) return this.#t('form.min', { min: number(f.min) });
    if (v.rangeOverflow) return this.#t('form.max', { max: number(f.max) });
    if (v.stepMismatch) return this.#t('form.integer');
    return v.valid ? '' : this.#t('form.invalid');
  }

  /** The field's message: its own rules first, then its input's constraints. Leaves it on the input, so a host form's validation shows ours too. */
  #validationMessage(f: FieldSpec, anchor = this.#anchor(f)): string {
    const custom = this.#customMessage(f);
    if (!anchor) return custom;
    anchor.setCustomValidity('');
    const message = custom || this.#constraintMessage(f, anchor.validity);
    anchor.setCustomValidity(message);
    return message;
  }

  #visibleError(f: FieldSpec, server: Map<string, string[]>): string {
    const messages = this.#dismissed.has(f.name) ? undefined : server.get(f.name);
    if (messages?.length) return messages.join(' ');
    return this.#shown.has(f.name) ? this.#validationMessage(f) : '';
  }

  /** Puts custom messages on the anchors and reports the first invalid field to the host form. */
  #syncValidity(): HTMLElement | undefined {
    let first: { anchor: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement; message: string } | undefined;
    for (const f of this.#fields()) {
      const anchor = this.#anchor(f);
      if (!anchor) continue;
      const message = this.#validationMessage(f, anchor);
      if (!first && !anchor.validity.valid) first = { anchor, message };
    }
    if (!first) {
      this.#internals.setValidity({});
      return undefined;
    }
    const v = first.anchor.validity;
    const flags: ValidityStateFlags = {};
    for (const k of [
      'valueMissing',
      'typeMismatch',
      'patternMismatch',
      'tooLong',
      'tooShort',
      'rangeUnderflow',
      'rangeOverflow',
      'stepMismatch',
      'badInput',
      'customError',
    ] as const) {
      if (v[k]) flags[k] = true;
    }
    // Ours, not the anchor's validationMessage: a disabled input (the form is busy) reports none.
    this.#internals.setValidity(flags, first.message || this.#t('form.invalid'), first.anchor);
    return first.anchor;
  }

  #syncFormValue(): void {
    const data = new FormData();
    for (const [name, v] of Object.entries(this.value)) {
      if (Array.isArray(v) && v.every((item) => typeof item !== 'object')) for (const item of v) data.append(name, String(item));
      else data.append(name, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
    }
    this.#internals.setFormValue(data);
  }

  /** Renders now if an update is queued, so validity reads the inputs as the user sees them. */
  #flush(): void {
    if (this.hasUpdated && this.isUpdatePending) this.performUpdate();
  }

  // ------------------------------------------------------------------ edits

  #edit(f: FieldSpec, raw: RawValue): void {
    this.#raw.set(f.name, raw);
    this.#dismissed.add(f.name);
    this.#dependencyChanged(f.name);
    this.requestUpdate();
    this.emit('input', {});
  }

  #commit(f: FieldSpec): void {
    this.#shown.add(f.name);
    this.requestUpdate();
    this.emit('change', {});
  }

  /** Native `input` is composed and would leave the shadow root a second time; ours replaces it. */
  #onInput(e: Event, f: FieldSpec, raw: RawValue): void {
    e.stopPropagation();
    this.#edit(f, raw);
  }

  #submitOnEnter(e: KeyboardEvent): void {
    if (e.key === 'Enter' && !e.isComposing) this.#internals.form?.requestSubmit();
  }

  /** A field changed: pickers depending on it get fresh options and lose choices that no longer exist. */
  #dependencyChanged(name: string): void {
    for (const p of this.#fields()) if (p.kind === 'picker' && p.dependsOn.includes(name)) this.#picker(p).dependencyChanged(p);
  }

  #replacePicks(f: FieldSpec, values: string[]): void {
    this.#edit(f, f.multiple ? values : (values[0] ?? ''));
    this.#commit(f);
  }

  /** The field's controller in `controllers`, made on first use: its state outlives a render and a new `value`. */
  #controllerOf<C>(controllers: Map<string, C>, f: FieldSpec, make: new (host: PlugConfigForm, form: PickerForm & MappingForm) => C): C {
    let controller = controllers.get(f.name);
    if (!controller) controllers.set(f.name, (controller = new make(this, this.#form)));
    return controller;
  }

  #picker(f: FieldSpec): PickerField {
    return this.#controllerOf(this.#pickers, f, PickerField);
  }

  #mapping(f: FieldSpec): MappingField {
    return this.#controllerOf(this.#mappings, f, MappingField);
  }

  // ------------------------------------------------------------------ public API

  /**
   * Current values: numbers as numbers, lists as arrays, JSON fields as their JSON text (the
   * server parses it); a secret only when typed; a field of an unsupported kind as it was set.
   */
  get value(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const f of this.#fields()) {
      if (f.kind === 'unsupported') {
        if (this.#source[f.name] !== undefined) out[f.name] = this.#source[f.name];
        continue;
      }
      const parsed = fromRaw(f, this.#rawOf(f));
      const v = (parsed.ok ? parsed.value : parsed.text) ?? this.#pendingSecret(f);
      if (v !== undefined) out[f.name] = v;
    }
    return out;
  }

  /**
   * Replaces what the form shows. Fires no event. A secret given here is never shown (the field
   * says "Set — type to replace") and comes back from the getter until the user types another.
   */
  set value(v: Record<string, unknown> | null | undefined) {
    this.#source = { ...(v ?? {}) };
    this.#raw.clear();
    this.#shown.clear();
    for (const p of this.#pickers.values()) p.reset();
    this.requestUpdate();
  }

  get form(): HTMLFormElement | null {
    return this.#internals.form;
  }

  get validity(): ValidityState {
    return this.#internals.validity;
  }

  get validationMessage(): string {
    return this.#internals.validationMessage;
  }

  /** True when every field passes its constraints. Server `errors` don't count: the user may resubmit. */
  checkValidity(): boolean {
    this.#flush();
    return this.#syncValidity() === undefined;
  }

  /**
   * Shows every field's message and focuses the first field with a problem (its own or one
   * from the server's `errors`). Returns `checkValidity()`.
   */
  reportValidity(): boolean {
    this.#flush();
    const valid = this.#syncValidity() === undefined;
    for (const f of this.#fields()) this.#shown.add(f.name);
    this.requestUpdate();
    if (this.hasUpdated) this.performUpdate();
    const server = this.#serverErrors().byField;
    const first = this.#fields().find((f) => this.#visibleError(f, server) !== '');
    if (first) {
      const target = this.renderRoot.querySelector<HTMLElement>(`[data-focus="${CSS.escape(first.name)}"]`);
      target?.focus();
    }
    return valid;
  }

  // ------------------------------------------------------------------ rendering

  override render(): TemplateResult {
    const { byField, unmatched } = this.#serverErrors();
    return html`${
      unmatched.length
        ? html`<div part="error" class="form-errors" role="alert">
            <p>${this.#t('form.errors')}</p>
            <ul>
              ${unmatched.map((m) => html`<li>${m}</li>`)}
            </ul>
          </div>`
        : nothing
    }
      <div class="fields">${this.#fields().map((f, i) => renderField(f, { id: `f${i}`, message: this.#visibleError(f, byField) }, this.#form))}</div>`;
  }
}
