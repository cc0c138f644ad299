import { html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { property } from 'lit/decorators.js';
import { ifDefined } from 'lit/directives/if-defined.js';
import { live } from 'lit/directives/live.js';
import type { FieldError } from '../../protocol/problem.js';
import { PlugElement } from '../base/plug-element.js';
import { format, type StringKey, type Translations } from '../i18n.js';
import { tokens } from '../themes/tokens.js';
import { styles } from './config-form.styles.js';
import { fromRaw, isFilled, readFields, toRaw, type FieldOption, type FieldSpec, type RawValue } from './field-spec.js';

export type { FieldOption } from './field-spec.js';

/** Loads a picker's options: the host calls `GET /instances/:id/data-sources/:source?q=`. */
export type LoadOptions = (
  dataSource: string,
  query: string,
  config: Record<string, unknown>,
) => Promise<FieldOption[]>;

interface PickerState {
  open: boolean;
  query: string;
  status: 'idle' | 'loading' | 'ready' | 'error';
  options: FieldOption[];
  /** Index of the highlighted option (aria-activedescendant), -1 for none. */
  active: number;
  seq: number;
  searchTimer?: ReturnType<typeof setTimeout>;
  checkTimer?: ReturnType<typeof setTimeout>;
  checkSeq: number;
}

const differs = (a: unknown, b: unknown): boolean => JSON.stringify(a) !== JSON.stringify(b);

/** Debounce for picker searches and dependent reloads, so typing costs one request, not one per key. */
const PICKER_DELAY_MS = 250;
/** Up to this many options a choice is a radio group (all visible at once); more make a select. */
const RADIO_LIMIT = 4;

/**
 * @customElement plug-config-form
 * @summary Renders one config page of an integration from its JSON Schema (as the SDK writes it)
 * and gives back typed values. Secrets are write-only: a stored one shows "Set — type to replace".
 *
 * Form-associated as a whole: inside a host `<form>` it contributes every field under its own
 * name (FormData) and its validity, anchored on the first invalid input. The inputs themselves
 * are native elements in the shadow root, so native constraint messages are used.
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
  static formAssociated = true;

  readonly #internals: ElementInternals;
  /** The last value set by code; edits live in #raw so a form reset can go back to it. */
  #source: Record<string, unknown> = {};
  #raw = new Map<string, RawValue>();
  /** Fields whose native/own validation message is visible (after a commit or reportValidity). */
  #shown = new Set<string>();
  /** Fields the user edited since `errors` was set: their server message is out of date. */
  #dismissed = new Set<string>();
  #pickers = new Map<string, PickerState>();
  #labels = new Map<string, Map<string, string>>();
  #prefetched = new Set<string>();
  #formDisabled = false;
  #specs?: { schema: unknown; fields: FieldSpec[] };

  /** JSON Schema of one config page: `properties` with `x-plug-*` hints, `required`, `x-plug-order`. */
  @property({ attribute: false }) accessor schema: Record<string, unknown> | undefined = undefined;
  /** Secret fields that have a stored value. Their value is never sent to the browser. */
  @property({ attribute: false, hasChanged: differs }) accessor secretsSet: string[] = [];
  /**
   * Field errors from the server (422), `path` relative to the form (`channel`; `config.channel`
   * also works). Compared by content: a host re-rendering with an equal new array does not bring
   * back messages the user has since edited away.
   */
  @property({ attribute: false, hasChanged: differs }) accessor errors: FieldError[] = [];
  /** Loads a picker's options for a search `query` with the form's current config (secrets left out). */
  @property({ attribute: false }) accessor loadOptions: LoadOptions | undefined = undefined;
  @property({ attribute: false }) accessor translations: Translations | undefined = undefined;
  @property({ type: Boolean, reflect: true }) accessor disabled = false;

  constructor() {
    super();
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
    if (changed.has('disabled') && this.disabled) for (const p of this.#pickers.values()) p.open = false;
  }

  protected override updated(changed: PropertyValues<this>): void {
    this.#syncValidity();
    this.#syncFormValue();
    if (changed.has('schema') || changed.has('loadOptions')) this.#prefetched.clear();
    this.#prefetchLabels();
    this.renderRoot.querySelector('[role="option"].active')?.scrollIntoView?.({ block: 'nearest' });
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

  #t(key: StringKey, vars?: Record<string, string | number>): string {
    return format(this.translations, key, vars);
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

  #serverErrors(): { byField: Map<string, string[]>; unmatched: string[] } {
    const names = new Set(this.#fields().map((f) => f.name));
    const byField = new Map<string, string[]>();
    const unmatched: string[] = [];
    for (const e of this.errors ?? []) {
      const path = String(e.path ?? '').replace(/^\/+/, '').replace(/^config[./]/, '');
      const head = path.split(/[./[]/)[0];
      const name = names.has(path) ? path : names.has(head) ? head : undefined;
      if (name === undefined) unmatched.push(e.message);
      else byField.set(name, [...(byField.get(name) ?? []), e.message]);
    }
    return { byField, unmatched };
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
    if (Array.isArray(raw)) {
      if (f.minItems && raw.length < f.minItems) return this.#t('form.pickAtLeast', { count: f.minItems });
      if (f.maxItems !== undefined && raw.length > f.maxItems) return this.#t('form.pickAtMost', { count: f.maxItems });
    }
    return '';
  }

  #validationMessage(f: FieldSpec): string {
    const custom = this.#customMessage(f);
    if (custom) return custom;
    const anchor = this.#anchor(f);
    if (!anchor) return '';
    anchor.setCustomValidity('');
    return anchor.validationMessage;
  }

  #visibleError(f: FieldSpec, server: Map<string, string[]>): string {
    const messages = this.#dismissed.has(f.name) ? undefined : server.get(f.name);
    if (messages?.length) return messages.join(' ');
    return this.#shown.has(f.name) ? this.#validationMessage(f) : '';
  }

  /** Puts custom messages on the anchors and reports the first invalid field to the host form. */
  #syncValidity(): HTMLElement | undefined {
    let first: { anchor: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement } | undefined;
    for (const f of this.#fields()) {
      const anchor = this.#anchor(f);
      if (!anchor) continue;
      anchor.setCustomValidity(this.#customMessage(f));
      if (!first && !anchor.validity.valid) first = { anchor };
    }
    if (!first) {
      this.#internals.setValidity({});
      return undefined;
    }
    const v = first.anchor.validity;
    const flags: ValidityStateFlags = {};
    for (const k of ['valueMissing', 'typeMismatch', 'patternMismatch', 'tooLong', 'tooShort', 'rangeUnderflow', 'rangeOverflow', 'stepMismatch', 'badInput', 'customError'] as const) {
      if (v[k]) flags[k] = true;
    }
    this.#internals.setValidity(flags, first.anchor.validationMessage, first.anchor);
    return first.anchor;
  }

  #syncFormValue(): void {
    const data = new FormData();
    for (const [name, v] of Object.entries(this.value)) {
      if (Array.isArray(v)) for (const item of v) data.append(name, String(item));
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

  #submitOnEnter = (e: KeyboardEvent): void => {
    if (e.key === 'Enter' && !e.isComposing) this.#internals.form?.requestSubmit();
  };

  /** A field changed: pickers depending on it get fresh options and lose choices that no longer exist. */
  #dependencyChanged(name: string): void {
    for (const p of this.#fields()) {
      if (p.kind !== 'picker' || !p.dependsOn.includes(name)) continue;
      const st = this.#picker(p);
      clearTimeout(st.searchTimer);
      clearTimeout(st.checkTimer);
      st.seq++;
      st.checkSeq++;
      Object.assign(st, { open: false, query: '', status: 'idle', options: [], active: -1 });
      if (this.#list(p).length === 0) continue;
      if (this.#depsMissing(p).length > 0) {
        this.#replacePicks(p, []);
        continue;
      }
      st.checkTimer = setTimeout(() => void this.#recheck(p), PICKER_DELAY_MS);
    }
  }

  async #recheck(f: FieldSpec): Promise<void> {
    const st = this.#picker(f);
    const seq = ++st.checkSeq;
    const options = await this.#fetch(f, '').catch(() => undefined);
    if (!options || seq !== st.checkSeq || this.#pickers.get(f.name) !== st) return;
    const valid = new Set(options.map((o) => o.value));
    const picked = this.#list(f);
    const kept = picked.filter((v) => valid.has(v));
    if (kept.length !== picked.length) this.#replacePicks(f, kept);
  }

  #replacePicks(f: FieldSpec, values: string[]): void {
    this.#edit(f, f.multiple ? values : (values[0] ?? ''));
    this.#commit(f);
  }

  // ------------------------------------------------------------------ pickers

  #picker(f: FieldSpec): PickerState {
    let st = this.#pickers.get(f.name);
    if (!st) {
      st = { open: false, query: '', status: 'idle', options: [], active: -1, seq: 0, checkSeq: 0 };
      this.#pickers.set(f.name, st);
    }
    return st;
  }

  #labelOf(f: FieldSpec, value: string): string {
    return this.#labels.get(f.name)?.get(value) ?? value;
  }

  async #fetch(f: FieldSpec, query: string): Promise<FieldOption[]> {
    if (!this.loadOptions || !f.dataSource) throw new Error(`no loadOptions for ${f.name}`);
    const loaded = await this.loadOptions(f.dataSource, query, this.#config());
    const options = (Array.isArray(loaded) ? loaded : []).flatMap((o): FieldOption[] =>
      o && (typeof o.value === 'string' || typeof o.value === 'number')
        ? [{ value: String(o.value), label: typeof o.label === 'string' ? o.label : String(o.value) }]
        : [],
    );
    const labels = this.#labels.get(f.name) ?? new Map<string, string>();
    for (const o of options) labels.set(o.value, o.label);
    this.#labels.set(f.name, labels);
    return options;
  }

  async #load(f: FieldSpec): Promise<void> {
    const st = this.#picker(f);
    clearTimeout(st.searchTimer);
    const seq = ++st.seq;
    st.status = 'loading';
    this.requestUpdate();
    try {
      const options = await this.#fetch(f, st.query);
      if (seq !== st.seq) return;
      Object.assign(st, { options, status: 'ready', active: -1 });
    } catch {
      if (seq !== st.seq) return;
      Object.assign(st, { options: [], status: 'error', active: -1 });
    }
    this.requestUpdate();
  }

  /** Shows labels instead of raw ids for values set by code: one unfiltered load per picker. */
  #prefetchLabels(): void {
    if (!this.loadOptions) return;
    for (const f of this.#fields()) {
      if (f.kind !== 'picker' || this.#prefetched.has(f.name)) continue;
      const picked = this.#list(f);
      const known = this.#labels.get(f.name);
      if (picked.length === 0 || picked.every((v) => known?.has(v)) || this.#depsMissing(f).length > 0) continue;
      this.#prefetched.add(f.name);
      this.#fetch(f, '').then(
        () => this.requestUpdate(),
        () => undefined, // labels stay as ids; opening the picker shows the error with a retry
      );
    }
  }

  #open(f: FieldSpec): void {
    if (this.#isDisabled() || this.#depsMissing(f).length > 0) return;
    const st = this.#picker(f);
    if (st.open) return;
    st.open = true;
    st.active = -1;
    void this.#load(f);
  }

  #close(f: FieldSpec): void {
    const st = this.#picker(f);
    clearTimeout(st.searchTimer);
    st.seq++;
    Object.assign(st, { open: false, query: '', status: st.status === 'loading' ? 'idle' : st.status, active: -1 });
    this.requestUpdate();
  }

  #search(e: Event, f: FieldSpec): void {
    e.stopPropagation(); // typing a query is not an edit of the form's value
    const st = this.#picker(f);
    st.query = (e.target as HTMLInputElement).value;
    st.open = true;
    st.status = 'loading';
    st.seq++; // a search already in flight is now stale
    clearTimeout(st.searchTimer);
    st.searchTimer = setTimeout(() => void this.#load(f), PICKER_DELAY_MS);
    this.requestUpdate();
  }

  #choose(f: FieldSpec, option: FieldOption): void {
    if (f.multiple) {
      const picked = this.#list(f);
      const next = picked.includes(option.value) ? picked.filter((v) => v !== option.value) : [...picked, option.value];
      this.#edit(f, next);
    } else {
      this.#close(f);
      this.#edit(f, option.value);
    }
    this.#commit(f);
  }

  #pickerKeydown(e: KeyboardEvent, f: FieldSpec): void {
    const st = this.#picker(f);
    const visible = st.open && st.status === 'ready' ? st.options : [];
    switch (e.key) {
      case 'ArrowDown':
      case 'ArrowUp':
        e.preventDefault();
        if (!st.open) {
          this.#open(f);
        } else if (visible.length > 0) {
          const step = e.key === 'ArrowDown' ? 1 : -1;
          st.active = st.active < 0 ? (step > 0 ? 0 : visible.length - 1) : (st.active + step + visible.length) % visible.length;
          this.requestUpdate();
        }
        break;
      case 'Enter':
        if (st.open) {
          e.preventDefault();
          const option = visible[st.active];
          if (option) this.#choose(f, option);
        } else {
          this.#submitOnEnter(e);
        }
        break;
      case 'Escape':
        if (st.open) {
          // Stop here, or a dialog around the form would close too.
          e.preventDefault();
          e.stopPropagation();
          this.#close(f);
        }
        break;
      case 'Tab':
        if (st.open) this.#close(f);
        break;
    }
  }

  #retry(f: FieldSpec, e: Event): void {
    const wrapper = (e.currentTarget as HTMLElement).closest('.picker');
    wrapper?.querySelector<HTMLInputElement>('[role="combobox"]')?.focus();
    void this.#load(f);
  }

  // ------------------------------------------------------------------ public API

  /** Current values: numbers as numbers, lists as arrays, JSON fields as their JSON text (the server parses it); a secret only when typed. */
  get value(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const f of this.#fields()) {
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
    for (const st of this.#pickers.values()) {
      clearTimeout(st.searchTimer);
      clearTimeout(st.checkTimer);
    }
    this.#pickers.clear();
    this.#prefetched.clear();
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

  #describedBy(id: string, f: FieldSpec, extra: string[] = []): string {
    return [f.help ? `${id}-help` : '', ...extra, `${id}-error`].filter(Boolean).join(' ');
  }

  #help(id: string, f: FieldSpec): TemplateResult | typeof nothing {
    return f.help ? html`<div part="help" class="help" id="${id}-help">${f.help}</div>` : nothing;
  }

  #error(id: string, message: string): TemplateResult {
    return html`<div part="error" class="error" id="${id}-error" aria-live="polite">${message}</div>`;
  }

  #label(id: string, f: FieldSpec): TemplateResult {
    return html`<label part="label" class="label" for=${id}>${f.label}${this.#requiredMark(f)}</label>`;
  }

  #requiredMark(f: FieldSpec): TemplateResult | typeof nothing {
    return f.required ? html`<span class="required" aria-hidden="true" title=${this.#t('form.required')}>*</span>` : nothing;
  }

  #renderField(f: FieldSpec, i: number, server: Map<string, string[]>): TemplateResult {
    const id = `f${i}`;
    const message = this.#visibleError(f, server);
    switch (f.kind) {
      case 'boolean':
        return this.#renderSwitch(f, id, message);
      case 'choice':
        return f.options.length <= RADIO_LIMIT ? this.#renderGroup(f, id, message, 'radio') : this.#renderSelect(f, id, message);
      case 'multiChoice':
        return this.#renderGroup(f, id, message, 'checkbox');
      case 'picker':
        return this.#renderPicker(f, id, message);
      case 'longText':
      case 'json':
        return this.#renderTextarea(f, id, message);
      default:
        return this.#renderInput(f, id, message);
    }
  }

  #renderInput(f: FieldSpec, id: string, message: string): TemplateResult {
    const raw = this.#rawOf(f) as string;
    const secretSet = this.#secretIsSet(f) && raw === '';
    const type = { secret: 'password', number: 'number', url: 'url', email: 'email' }[f.kind as string] ?? 'text';
    const numeric = f.kind === 'number';
    return html`<div part="field" class="field" data-kind=${f.kind}>
      ${this.#label(id, f)}
      <input
        id=${id}
        part="input"
        data-field=${f.name}
        data-focus=${f.name}
        name=${f.name}
        type=${type}
        .value=${live(raw)}
        placeholder=${ifDefined(f.placeholder)}
        autocomplete=${ifDefined(f.kind === 'secret' ? 'off' : undefined)}
        spellcheck=${ifDefined(f.kind === 'secret' ? 'false' : undefined)}
        inputmode=${ifDefined(numeric ? (f.integer ? 'numeric' : 'decimal') : undefined)}
        ?required=${f.required && !this.#secretIsSet(f)}
        minlength=${ifDefined(numeric ? undefined : f.minLength)}
        maxlength=${ifDefined(numeric ? undefined : f.maxLength)}
        pattern=${ifDefined(f.kind === 'text' ? f.pattern : undefined)}
        min=${ifDefined(numeric ? f.min : undefined)}
        max=${ifDefined(numeric ? f.max : undefined)}
        step=${ifDefined(numeric ? (f.integer ? '1' : 'any') : undefined)}
        ?disabled=${this.#isDisabled()}
        aria-invalid=${message ? 'true' : 'false'}
        aria-describedby=${this.#describedBy(id, f, secretSet ? [`${id}-set`] : [])}
        @input=${(e: Event) => this.#onInput(e, f, (e.target as HTMLInputElement).value)}
        @change=${() => this.#commit(f)}
        @keydown=${this.#submitOnEnter}
      />
      ${secretSet ? html`<div part="help" class="help secret-set" id="${id}-set">${this.#t('form.secretSet')}</div>` : nothing}
      ${this.#help(id, f)} ${this.#error(id, message)}
    </div>`;
  }

  #renderTextarea(f: FieldSpec, id: string, message: string): TemplateResult {
    const json = f.kind === 'json';
    return html`<div part="field" class="field" data-kind=${f.kind}>
      ${this.#label(id, f)}
      <textarea
        id=${id}
        part="input"
        class=${json ? 'code' : ''}
        data-field=${f.name}
        data-focus=${f.name}
        name=${f.name}
        rows=${json ? 6 : 4}
        spellcheck=${json ? 'false' : 'true'}
        .value=${live(this.#rawOf(f) as string)}
        placeholder=${ifDefined(f.placeholder)}
        ?required=${f.required}
        maxlength=${ifDefined(f.maxLength)}
        ?disabled=${this.#isDisabled()}
        aria-invalid=${message ? 'true' : 'false'}
        aria-describedby=${this.#describedBy(id, f)}
        @input=${(e: Event) => this.#onInput(e, f, (e.target as HTMLTextAreaElement).value)}
        @change=${() => this.#commit(f)}
      ></textarea>
      ${this.#help(id, f)} ${this.#error(id, message)}
    </div>`;
  }

  #renderSwitch(f: FieldSpec, id: string, message: string): TemplateResult {
    return html`<div part="field" class="field switch" data-kind=${f.kind}>
      <input
        id=${id}
        part="input"
        type="checkbox"
        role="switch"
        data-field=${f.name}
        data-focus=${f.name}
        name=${f.name}
        .checked=${live(this.#rawOf(f) === true)}
        ?disabled=${this.#isDisabled()}
        aria-invalid=${message ? 'true' : 'false'}
        aria-describedby=${this.#describedBy(id, f)}
        @input=${(e: Event) => this.#onInput(e, f, (e.target as HTMLInputElement).checked)}
        @change=${() => this.#commit(f)}
      />
      ${this.#label(id, f)} ${this.#help(id, f)} ${this.#error(id, message)}
    </div>`;
  }

  #renderGroup(f: FieldSpec, id: string, message: string, type: 'radio' | 'checkbox'): TemplateResult {
    const raw = this.#rawOf(f);
    const picked = Array.isArray(raw) ? raw : [raw];
    const toggle = (e: Event, value: string): void => {
      const checked = (e.target as HTMLInputElement).checked;
      if (type === 'radio') this.#onInput(e, f, value);
      else this.#onInput(e, f, checked ? [...this.#list(f), value] : this.#list(f).filter((v) => v !== value));
    };
    return html`<fieldset part="field" class="field group" data-kind=${f.kind} aria-describedby=${this.#describedBy(id, f)}>
      <legend part="label" class="label">${f.label}${this.#requiredMark(f)}</legend>
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
            ?disabled=${this.#isDisabled()}
            aria-invalid=${message ? 'true' : 'false'}
            @input=${(e: Event) => toggle(e, o.value)}
            @change=${() => this.#commit(f)}
          /><span>${o.label}</span>
        </label>`,
      )}
      ${this.#help(id, f)} ${this.#error(id, message)}
    </fieldset>`;
  }

  #renderSelect(f: FieldSpec, id: string, message: string): TemplateResult {
    const raw = this.#rawOf(f) as string;
    return html`<div part="field" class="field" data-kind=${f.kind}>
      ${this.#label(id, f)}
      <select
        id=${id}
        part="input"
        data-field=${f.name}
        data-focus=${f.name}
        name=${f.name}
        ?required=${f.required}
        ?disabled=${this.#isDisabled()}
        aria-invalid=${message ? 'true' : 'false'}
        aria-describedby=${this.#describedBy(id, f)}
        @input=${(e: Event) => this.#onInput(e, f, (e.target as HTMLSelectElement).value)}
        @change=${() => this.#commit(f)}
      >
        <option value="" .selected=${live(raw === '')}>${f.placeholder ?? this.#t('form.choose')}</option>
        ${f.options.map((o) => html`<option .value=${o.value} .selected=${live(raw === o.value)}>${o.label}</option>`)}
      </select>
      ${this.#help(id, f)} ${this.#error(id, message)}
    </div>`;
  }

  #renderPicker(f: FieldSpec, id: string, message: string): TemplateResult {
    const st = this.#picker(f);
    const picked = this.#list(f);
    const missing = this.#depsMissing(f);
    // A field with an error stays reachable, so reportValidity can take the user to it.
    const blocked = missing.length > 0 && !message;
    const disabled = this.#isDisabled() || blocked;
    const open = st.open && !disabled;
    const showList = open && st.status === 'ready' && st.options.length > 0;
    const listId = `${id}-listbox`;
    const active = showList && st.active >= 0 ? `${id}-opt-${st.active}` : undefined;
    const shown = open ? st.query : f.multiple ? '' : picked[0] !== undefined ? this.#labelOf(f, picked[0]) : '';
    const extra = [missing.length > 0 ? `${id}-deps` : '', f.multiple && picked.length ? `${id}-chips` : ''];
    let status: TemplateResult | string = '';
    if (open && st.status === 'loading') status = this.#t('form.pickerLoading');
    else if (open && st.status === 'error') status = this.#t('form.pickerError');
    else if (open && st.status === 'ready') {
      status = st.options.length === 0 ? this.#t('form.pickerEmpty') : html`<span class="visually-hidden">${this.#t('form.pickerCount', { count: st.options.length })}</span>`;
    }
    return html`<div
      part="field"
      class="field picker"
      data-kind=${f.kind}
      @focusout=${(e: FocusEvent) => {
        if (st.open && !(e.currentTarget as HTMLElement).contains(e.relatedTarget as Node | null)) this.#close(f);
      }}
    >
      ${this.#label(id, f)}
      ${f.multiple && picked.length
        ? html`<ul class="chips" id="${id}-chips" aria-label=${this.#t('form.pickerSelected', { label: f.label })}>
            ${picked.map(
              (v) => html`<li part="chip" class="chip">
                <span>${this.#labelOf(f, v)}</span>
                <button
                  type="button"
                  part="button"
                  aria-label=${this.#t('form.pickerRemove', { label: this.#labelOf(f, v) })}
                  ?disabled=${this.#isDisabled()}
                  @click=${() => this.#replacePicks(f, this.#list(f).filter((x) => x !== v))}
                >
                  ×
                </button>
              </li>`,
            )}
          </ul>`
        : nothing}
      <div class="combo">
        <input
          id=${id}
          part="input"
          type="text"
          role="combobox"
          autocomplete="off"
          data-field=${f.name}
          data-focus=${f.name}
          aria-autocomplete="list"
          aria-expanded=${showList ? 'true' : 'false'}
          aria-controls=${ifDefined(showList ? listId : undefined)}
          aria-activedescendant=${ifDefined(active)}
          aria-required=${f.required ? 'true' : 'false'}
          aria-invalid=${message ? 'true' : 'false'}
          aria-describedby=${this.#describedBy(id, f, extra)}
          placeholder=${open && !f.multiple && picked[0] !== undefined ? this.#labelOf(f, picked[0]) : (f.placeholder ?? this.#t('form.pickerSearch'))}
          .value=${live(shown)}
          ?disabled=${disabled}
          @input=${(e: Event) => this.#search(e, f)}
          @keydown=${(e: KeyboardEvent) => this.#pickerKeydown(e, f)}
          @click=${() => this.#open(f)}
          @focus=${(e: FocusEvent) => (e.target as HTMLInputElement).select()}
        />
        ${!f.multiple && !f.required && picked.length && !disabled
          ? html`<button
              type="button"
              part="button"
              class="clear"
              aria-label=${this.#t('form.pickerClear', { label: f.label })}
              @click=${() => this.#replacePicks(f, [])}
            >
              ×
            </button>`
          : nothing}
        ${showList
          ? html`<ul
              part="listbox"
              class="listbox"
              role="listbox"
              id=${listId}
              aria-label=${f.label}
              aria-multiselectable=${ifDefined(f.multiple ? 'true' : undefined)}
              @mousedown=${(e: Event) => e.preventDefault()}
            >
              ${st.options.map(
                (o, j) => html`<li
                  part="option"
                  role="option"
                  id="${id}-opt-${j}"
                  class=${j === st.active ? 'active' : ''}
                  aria-selected=${picked.includes(o.value) ? 'true' : 'false'}
                  @click=${() => this.#choose(f, o)}
                >
                  ${o.label}
                </li>`,
              )}
            </ul>`
          : nothing}
      </div>
      <div class="picker-status" role="status">${status}</div>
      ${open && st.status === 'error'
        ? html`<button type="button" part="button" class="retry" @click=${(e: Event) => this.#retry(f, e)}>
            ${this.#t('form.pickerRetry')}
          </button>`
        : nothing}
      ${missing.length > 0
        ? html`<div part="help" class="help" id="${id}-deps">${this.#t('form.pickerDepends', { fields: missing.join(', ') })}</div>`
        : nothing}
      ${this.#help(id, f)} ${this.#error(id, message)}
    </div>`;
  }

  override render(): TemplateResult {
    const { byField, unmatched } = this.#serverErrors();
    return html`${unmatched.length
        ? html`<div part="error" class="form-errors" role="alert">
            <p>${this.#t('form.errors')}</p>
            <ul>
              ${unmatched.map((m) => html`<li>${m}</li>`)}
            </ul>
          </div>`
        : nothing}
      <div class="fields">${this.#fields().map((f, i) => this.#renderField(f, i, byField))}</div>`;
  }
}
