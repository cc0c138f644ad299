import { html, nothing, type ReactiveController, type ReactiveControllerHost, type TemplateResult } from 'lit';
import { ifDefined } from 'lit/directives/if-defined.js';
import { live } from 'lit/directives/live.js';
import { describedBy, renderError, renderHelp, renderLabel, type FieldForm, type FieldView } from './field-parts.js';
import type { FieldOption, FieldSpec } from './field-spec.js';

/**
 * Loads a picker's options: the host calls the data-source route. `config` holds only the fields the
 * picker depends on (`x-plug-depends-on`), as the form has them now: the server refuses any other
 * unsaved value. A host sends those that differ from the saved config (POST, admins only) and
 * otherwise runs the data source with the saved config (GET).
 */
export type LoadOptions = (dataSource: string, query: string, config: Record<string, unknown>) => Promise<FieldOption[]>;

/** A `LoadOptions` rejection whose message the field shows as it is (what the customer must do first), with no Retry. */
export class OptionsUnavailable extends Error {
  override name = 'OptionsUnavailable';
}

/** The message of an `OptionsUnavailable` rejection; '' for any other failure. */
export const unavailableMessage = (error: unknown): string => (error instanceof OptionsUnavailable ? error.message : '');

/** @internal What a picker needs from its form beyond what every field renderer gets. */
export interface PickerForm extends FieldForm {
  readonly loadOptions: LoadOptions | undefined;
  /** Labels of the fields `f` depends on that are still empty. */
  missing(f: FieldSpec): string[];
  /** The config a data source sees: the page's current values over the rest, no secrets. */
  config(): Record<string, unknown>;
  /** Replaces the field's picks as a user edit would (the form fires `input`, then `change`). */
  pick(f: FieldSpec, values: string[]): void;
}

type Status = 'idle' | 'loading' | 'ready' | 'error';

/** Debounce for picker searches and dependent reloads, so typing costs one request, not one per key. */
const PICKER_DELAY_MS = 250;

/**
 * @internal One picker field of `<plug-config-form>`: an ARIA 1.2 combobox whose listbox holds
 * options a data source loads (search as you type, debounced), chips for a multiple picker, and
 * a reload when a field it depends on changes. A reactive controller rather than an element: it
 * renders into the form's shadow root, so labels, validity anchors (`data-field`) and `::part()`
 * names work as for every other field, and the form stays the one form-associated element.
 */
export class PickerField implements ReactiveController {
  #open = false;
  #query = '';
  #status: Status = 'idle';
  /** Why the options could not be loaded, when the host said (see OptionsUnavailable). */
  #unavailable = '';
  #options: FieldOption[] = [];
  /** Index of the highlighted option (aria-activedescendant), -1 for none. */
  #active = -1;
  /** Bumped to make a load in flight stale. */
  #seq = 0;
  #checkSeq = 0;
  #searchTimer?: ReturnType<typeof setTimeout>;
  #checkTimer?: ReturnType<typeof setTimeout>;
  /** Labels of values seen in loaded options; kept when code replaces the form's value. */
  #labels = new Map<string, string>();
  #prefetched = false;
  /** Id of the highlighted option as last rendered, to scroll it into view. */
  #activeId: string | undefined;

  constructor(
    private readonly host: ReactiveControllerHost & { readonly renderRoot: ParentNode },
    private readonly form: PickerForm,
  ) {
    host.addController(this);
  }

  hostUpdated(): void {
    if (this.#activeId) this.host.renderRoot.querySelector(`#${CSS.escape(this.#activeId)}`)?.scrollIntoView?.({ block: 'nearest' });
  }

  #labelOf(value: string): string {
    return this.#labels.get(value) ?? value;
  }

  async #fetch(f: FieldSpec, query: string): Promise<FieldOption[]> {
    const loadOptions = this.form.loadOptions;
    if (!loadOptions || !f.dataSource) throw new Error(`no loadOptions for ${f.name}`);
    const current = this.form.config();
    const dependsOn = Object.fromEntries(f.dependsOn.filter((d) => Object.hasOwn(current, d)).map((d) => [d, current[d]]));
    const loaded = await loadOptions(f.dataSource, query, dependsOn);
    const options = (Array.isArray(loaded) ? loaded : []).flatMap((o): FieldOption[] =>
      o && (typeof o.value === 'string' || typeof o.value === 'number')
        ? [{ value: String(o.value), label: typeof o.label === 'string' ? o.label : String(o.value) }]
        : [],
    );
    for (const o of options) this.#labels.set(o.value, o.label);
    return options;
  }

  async #load(f: FieldSpec): Promise<void> {
    clearTimeout(this.#searchTimer);
    const seq = ++this.#seq;
    this.#status = 'loading';
    this.host.requestUpdate();
    try {
      const options = await this.#fetch(f, this.#query);
      if (seq !== this.#seq) return;
      this.#options = options;
      this.#status = 'ready';
    } catch (error) {
      if (seq !== this.#seq) return;
      this.#options = [];
      this.#status = 'error';
      this.#unavailable = unavailableMessage(error);
    }
    this.#active = -1;
    this.host.requestUpdate();
  }

  async #recheck(f: FieldSpec): Promise<void> {
    const seq = ++this.#checkSeq;
    const options = await this.#fetch(f, '').catch(() => undefined);
    if (!options || seq !== this.#checkSeq) return;
    const valid = new Set(options.map((o) => o.value));
    const picked = this.form.list(f);
    const kept = picked.filter((v) => valid.has(v));
    if (kept.length !== picked.length) this.form.pick(f, kept);
  }

  #show(f: FieldSpec): void {
    if (this.form.disabled || this.form.missing(f).length > 0 || this.#open) return;
    this.#open = true;
    this.#active = -1;
    void this.#load(f);
  }

  #close(): void {
    clearTimeout(this.#searchTimer);
    this.#seq++;
    this.#open = false;
    this.#query = '';
    if (this.#status === 'loading') this.#status = 'idle';
    this.#active = -1;
    this.host.requestUpdate();
  }

  #search(e: Event, f: FieldSpec): void {
    e.stopPropagation(); // typing a query is not an edit of the form's value
    this.#query = (e.target as HTMLInputElement).value;
    this.#open = true;
    this.#status = 'loading';
    this.#seq++; // a search already in flight is now stale
    clearTimeout(this.#searchTimer);
    this.#searchTimer = setTimeout(() => void this.#load(f), PICKER_DELAY_MS);
    this.host.requestUpdate();
  }

  #choose(f: FieldSpec, option: FieldOption): void {
    if (f.multiple) {
      const picked = this.form.list(f);
      this.form.pick(f, picked.includes(option.value) ? picked.filter((v) => v !== option.value) : [...picked, option.value]);
    } else {
      this.#close();
      this.form.pick(f, [option.value]);
    }
  }

  #keydown(e: KeyboardEvent, f: FieldSpec): void {
    const visible = this.#open && this.#status === 'ready' ? this.#options : [];
    switch (e.key) {
      case 'ArrowDown':
      case 'ArrowUp':
        e.preventDefault();
        if (!this.#open) {
          this.#show(f);
        } else if (visible.length > 0) {
          const step = e.key === 'ArrowDown' ? 1 : -1;
          this.#active = this.#active < 0 ? (step > 0 ? 0 : visible.length - 1) : (this.#active + step + visible.length) % visible.length;
          this.host.requestUpdate();
        }
        break;
      case 'Enter':
        if (this.#open) {
          e.preventDefault();
          const option = visible[this.#active];
          if (option) this.#choose(f, option);
        } else {
          this.form.submitOnEnter(e);
        }
        break;
      case 'Escape':
        if (this.#open) {
          // Stop here, or a dialog around the form would close too.
          e.preventDefault();
          e.stopPropagation();
          this.#close();
        }
        break;
      case 'Tab':
        if (this.#open) this.#close();
        break;
    }
  }

  #retry(f: FieldSpec, e: Event): void {
    const wrapper = (e.currentTarget as HTMLElement).closest('.picker');
    wrapper?.querySelector<HTMLInputElement>('[role="combobox"]')?.focus();
    void this.#load(f);
  }

  /** Code replaced the form's value: back to closed and idle; requests in flight go stale. Labels stay. */
  reset(): void {
    this.#stop();
    this.#activeId = undefined;
    this.#prefetched = false;
  }

  /** Closed, nothing loaded or loading, no recheck pending. */
  #stop(): void {
    clearTimeout(this.#searchTimer);
    clearTimeout(this.#checkTimer);
    this.#seq++;
    this.#checkSeq++;
    this.#open = false;
    this.#query = '';
    this.#status = 'idle';
    this.#options = [];
    this.#active = -1;
  }

  /** The form was disabled: the list closes. */
  collapse(): void {
    this.#open = false;
  }

  /** The schema or the data source changed: labels of set values may be loaded again. */
  allowPrefetch(): void {
    this.#prefetched = false;
  }

  /** Shows labels instead of raw ids for values set by code: one unfiltered load. */
  prefetch(f: FieldSpec): void {
    if (!this.form.loadOptions || this.#prefetched) return;
    const picked = this.form.list(f);
    if (picked.length === 0 || picked.every((v) => this.#labels.has(v)) || this.form.missing(f).length > 0) return;
    this.#prefetched = true;
    this.#fetch(f, '').then(
      () => this.host.requestUpdate(),
      () => undefined, // labels stay as ids; opening the picker shows the error with a retry
    );
  }

  /** A field this one depends on changed: fresh options next time, and choices that no longer exist go. */
  dependencyChanged(f: FieldSpec): void {
    this.#stop();
    if (this.form.list(f).length === 0) return;
    if (this.form.missing(f).length > 0) {
      this.form.pick(f, []);
      return;
    }
    this.#checkTimer = setTimeout(() => void this.#recheck(f), PICKER_DELAY_MS);
  }

  render(f: FieldSpec<'picker'>, { id, message }: FieldView): TemplateResult {
    const form = this.form;
    const picked = form.list(f);
    const missing = form.missing(f);
    // A field with an error stays reachable, so reportValidity can take the user to it.
    const blocked = missing.length > 0 && !message;
    const disabled = form.disabled || blocked;
    const open = this.#open && !disabled;
    const showList = open && this.#status === 'ready' && this.#options.length > 0;
    const listId = `${id}-listbox`;
    const active = showList && this.#active >= 0 ? `${id}-opt-${this.#active}` : undefined;
    this.#activeId = active;
    const shown = open ? this.#query : f.multiple ? '' : picked[0] !== undefined ? this.#labelOf(picked[0]) : '';
    const extra = [missing.length > 0 ? `${id}-deps` : '', f.multiple && picked.length ? `${id}-chips` : ''];
    let status: TemplateResult | string = '';
    if (open && this.#status === 'loading') status = form.t('form.pickerLoading');
    else if (open && this.#status === 'error') status = this.#unavailable || form.t('form.pickerError');
    else if (open && this.#status === 'ready') {
      status =
        this.#options.length === 0
          ? form.t('form.pickerEmpty')
          : html`<span class="visually-hidden">${form.t('form.pickerCount', { count: this.#options.length })}</span>`;
    }
    return html`<div
      part="field"
      class="field picker"
      data-kind=${f.kind}
      @focusout=${(e: FocusEvent) => {
        if (this.#open && !(e.currentTarget as HTMLElement).contains(e.relatedTarget as Node | null)) this.#close();
      }}
    >
      ${renderLabel(form, id, f)}
      ${
        f.multiple && picked.length
          ? html`<ul class="chips" id="${id}-chips" aria-label=${form.t('form.pickerSelected', { label: f.label })}>
            ${picked.map(
              (v) => html`<li part="chip" class="chip">
                <span>${this.#labelOf(v)}</span>
                <button
                  type="button"
                  part="button"
                  aria-label=${form.t('form.pickerRemove', { label: this.#labelOf(v) })}
                  ?disabled=${form.disabled}
                  @click=${() =>
                    form.pick(
                      f,
                      form.list(f).filter((x) => x !== v),
                    )}
                >
                  ×
                </button>
              </li>`,
            )}
          </ul>`
          : nothing
      }
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
          aria-describedby=${describedBy(id, f, extra)}
          placeholder=${open && !f.multiple && picked[0] !== undefined ? this.#labelOf(picked[0]) : (f.placeholder ?? form.t('form.pickerSearch'))}
          .value=${live(shown)}
          ?disabled=${disabled}
          @input=${(e: Event) => this.#search(e, f)}
          @keydown=${(e: KeyboardEvent) => this.#keydown(e, f)}
          @click=${() => this.#show(f)}
          @focus=${(e: FocusEvent) => (e.target as HTMLInputElement).select()}
        />
        ${
          !f.multiple && !f.required && picked.length && !disabled
            ? html`<button
              type="button"
              part="button"
              class="clear"
              aria-label=${form.t('form.pickerClear', { label: f.label })}
              @click=${() => form.pick(f, [])}
            >
              ×
            </button>`
            : nothing
        }
        ${
          showList
            ? html`<ul
              part="listbox"
              class="listbox"
              role="listbox"
              id=${listId}
              aria-label=${f.label}
              aria-multiselectable=${ifDefined(f.multiple ? 'true' : undefined)}
              @mousedown=${(e: Event) => e.preventDefault()}
            >
              ${this.#options.map(
                (o, j) => html`<li
                  part="option"
                  role="option"
                  id="${id}-opt-${j}"
                  class=${j === this.#active ? 'active' : ''}
                  aria-selected=${picked.includes(o.value) ? 'true' : 'false'}
                  @click=${() => this.#choose(f, o)}
                >
                  ${o.label}
                </li>`,
              )}
            </ul>`
            : nothing
        }
      </div>
      <div class="picker-status" role="status">${status}</div>
      ${
        open && this.#status === 'error' && !this.#unavailable
          ? html`<button type="button" part="button" class="retry" @click=${(e: Event) => this.#retry(f, e)}>
            ${form.t('form.pickerRetry')}
          </button>`
          : nothing
      }
      ${
        missing.length > 0 ? html`<div part="help" class="help" id="${id}-deps">${form.t('form.pickerDepends', { fields: missing.join(', ') })}</div>` : nothing
      }
      ${renderHelp(id, f)} ${renderError(id, message)}
    </div>`;
  }
}
