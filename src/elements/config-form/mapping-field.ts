import { html, nothing, type ReactiveController, type ReactiveControllerHost, type TemplateResult } from 'lit';
import { ifDefined } from 'lit/directives/if-defined.js';
import { live } from 'lit/directives/live.js';
import { renderError, renderHelp, renderRequiredMark, type FieldForm, type FieldView } from './field-parts.js';
import type { FieldOption, FieldSpec, MappingRaw, MappingRow } from './field-spec.js';
import { unavailableMessage, type LoadOptions } from './picker-field.js';

type Side = 'target' | 'source';
const SIDES: readonly Side[] = ['target', 'source'];

/** @internal What a mapping needs from its form beyond what every field renderer gets. */
export interface MappingForm extends FieldForm {
  readonly loadOptions: LoadOptions | undefined;
  /** Replaces the rows as a user edit would (the form fires `input`, then `change`). */
  setRows(f: FieldSpec, rows: MappingRow[]): void;
  /** Server messages about single cells, by `<row>.<side>` (`2.target`); gone once the field is edited. */
  cellErrors(f: FieldSpec): Map<string, string>;
  /** The field's own messages are visible (after a commit or reportValidity). */
  shown(f: FieldSpec): boolean;
}

/** The offered values of both sides, with their labels. */
export interface MappingLists {
  target: Map<string, string>;
  source: Map<string, string>;
}

/** What is wrong with a mapping as the user has it: a message per cell (`<row>.<side>`), and one for the field. */
export interface MappingProblems {
  cells: Map<string, string>;
  field: string;
}

export const mappingRows = (raw: unknown): MappingRow[] => (raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as MappingRaw).rows : []);

/**
 * The mapping's own rules, as the server checks them: each filled row names both fields, a target
 * is filled once, values are among those offered (once the lists are loaded), enough rows.
 */
export function mappingProblems(f: FieldSpec, rows: MappingRow[], lists: MappingLists | undefined, t: FieldForm['t']): MappingProblems {
  const cells = new Map<string, string>();
  const seen = new Set<string>();
  let complete = 0;
  rows.forEach((row, i) => {
    if (row.target === '' && row.source === '') return;
    for (const side of SIDES) {
      const value = row[side];
      if (value === '') cells.set(`${i}.${side}`, t('form.mappingChoose'));
      else if (lists && !lists[side].has(value)) cells.set(`${i}.${side}`, t('form.mappingUnavailable', { field: value }));
    }
    if (row.target !== '' && seen.has(row.target) && !cells.has(`${i}.target`)) {
      cells.set(`${i}.target`, t('form.mappingDuplicate', { field: lists?.target.get(row.target) ?? row.target }));
    }
    seen.add(row.target);
    if (row.target !== '' && row.source !== '') complete++;
  });
  const min = f.minItems ?? 0;
  const field = cells.size ? t('form.mappingFix') : complete < min && rows.length > 0 ? t('form.mappingAtLeast', { count: min }) : '';
  return { cells, field };
}

type Status = 'idle' | 'loading' | 'ready' | 'error';

/**
 * @internal One mapping field of `<plug-config-form>`: rows of "target ← source" native selects
 * (keyboard and screen readers get what they know), with add and remove. Both lists come from
 * data sources, loaded once with the saved config. A value not (or no longer) offered stays in
 * its select, marked, so nothing chosen disappears. Like the picker, a controller rendering into
 * the form's shadow root, so labels, validity anchors and `::part()` names work as for any field.
 */
export class MappingField implements ReactiveController {
  #status: Status = 'idle';
  /** Why the lists could not be loaded, when the host said (see OptionsUnavailable). */
  #unavailable = '';
  /** What loaded: one side may have while the other failed (e.g. it needs a connection not made yet). */
  #lists: Partial<MappingLists> | undefined;
  #seq = 0;
  /** Where focus goes after the next render (a row added or removed): the first of these ids that exists. */
  #focus: string[] = [];

  constructor(
    private readonly host: ReactiveControllerHost & { readonly renderRoot: ParentNode },
    private readonly form: MappingForm,
  ) {
    host.addController(this);
  }

  hostUpdated(): void {
    const ids = this.#focus;
    if (ids.length === 0) return;
    this.#focus = [];
    for (const id of ids) {
      const target = this.host.renderRoot.querySelector<HTMLElement>(`#${CSS.escape(id)}`);
      if (target) return target.focus();
    }
  }

  /** The offered values, once loaded. */
  get lists(): MappingLists | undefined {
    return this.#status === 'ready' ? (this.#lists as MappingLists) : undefined;
  }

  /** Loads both lists unless they are loaded or loading (called after each render: the next one shows "Loading"). */
  load(f: FieldSpec): void {
    if (this.#status !== 'idle' || !this.form.loadOptions) return;
    this.#status = 'loading';
    queueMicrotask(() => void this.#load(f));
  }

  /** The schema or `loadOptions` changed: load again on the next render. */
  reset(): void {
    this.#seq++;
    this.#status = 'idle';
    this.#lists = undefined;
  }

  async #load(f: FieldSpec): Promise<void> {
    const loadOptions = this.form.loadOptions;
    if (!loadOptions || !f.sources || !f.targets) return;
    const seq = ++this.#seq;
    this.#status = 'loading';
    this.host.requestUpdate();
    const list = async (dataSource: string) => {
      const loaded = await loadOptions(dataSource, '', {});
      return new Map((Array.isArray(loaded) ? loaded : []).map((o: FieldOption) => [String(o.value), typeof o.label === 'string' ? o.label : String(o.value)]));
    };
    // Each side on its own: the side that loads still names its values (a label, not the key) when
    // the other can't load yet.
    const [target, source] = await Promise.allSettled([list(f.targets), f.sources === f.targets ? Promise.resolve(undefined) : list(f.sources)]);
    if (seq !== this.#seq) return;
    const targets = target.status === 'fulfilled' ? target.value : undefined;
    this.#lists = { target: targets, source: source.status === 'fulfilled' ? (source.value ?? targets) : undefined };
    const failed = [target, source].find((r): r is PromiseRejectedResult => r.status === 'rejected');
    this.#status = failed ? 'error' : 'ready';
    if (failed) this.#unavailable = unavailableMessage(failed.reason);
    this.host.requestUpdate();
  }

  #set(f: FieldSpec, rows: MappingRow[], focus: string[]): void {
    this.#focus = focus;
    this.form.setRows(f, rows);
  }

  #add(f: FieldSpec, id: string): void {
    const rows = mappingRows(this.form.raw(f));
    this.#set(f, [...rows, { target: '', source: '' }], [`${id}-${rows.length}-target`]);
  }

  #remove(f: FieldSpec, id: string, index: number): void {
    const rows = mappingRows(this.form.raw(f)).filter((_, i) => i !== index);
    // Focus stays where the user is: the row that took this one's place (its remove button, or its
    // first select when it is the one row left of a required mapping), else "Add".
    const at = Math.min(index, rows.length - 1);
    this.#set(f, rows, [`${id}-${at}-remove`, `${id}-${at}-target`, `${id}-add`]);
  }

  #select(f: FieldSpec, e: Event, index: number, side: Side): void {
    const value = (e.target as HTMLSelectElement).value;
    const rows = mappingRows(this.form.raw(f)).map((r, i) => (i === index ? { ...r, [side]: value } : r));
    this.form.input(e, f, { rows });
  }

  #cell(f: FieldSpec, id: string, index: number, side: Side, value: string, message: string, anchor: boolean): TemplateResult {
    const form = this.form;
    const list = this.#lists?.[side];
    const offered = list ? [...list] : [];
    // A value the list does not hold (not loaded yet, or no longer offered) stays selectable, so it is kept.
    const kept = value !== '' && !offered.some(([v]) => v === value);
    const label = side === 'target' ? (f.targetLabel ?? form.t('form.mappingTarget')) : (f.sourceLabel ?? form.t('form.mappingSource'));
    const cellId = `${id}-${index}-${side}`;
    return html`<div class="mapping-cell">
      <label class="mapping-label" for=${cellId}>${label}</label>
      <select
        id=${cellId}
        part="input"
        data-field=${ifDefined(anchor ? f.name : undefined)}
        data-focus=${ifDefined(anchor ? f.name : undefined)}
        data-row=${index}
        data-side=${side}
        ?disabled=${form.disabled}
        aria-invalid=${message ? 'true' : 'false'}
        aria-describedby=${message ? `${id}-${index}-error` : nothing}
        @input=${(e: Event) => this.#select(f, e, index, side)}
        @change=${() => form.commit(f)}
      >
        <option value="" .selected=${live(value === '')}>${form.t('form.choose')}</option>
        ${kept ? html`<option .value=${value} .selected=${live(true)}>${value}</option>` : nothing}
        ${offered.map(([v, l]) => html`<option .value=${v} .selected=${live(v === value)}>${l}</option>`)}
      </select>
    </div>`;
  }

  render(f: FieldSpec<'mapping'>, { id, message }: FieldView): TemplateResult {
    const form = this.form;
    const rows = mappingRows(form.raw(f));
    const own = mappingProblems(f, rows, this.lists, form.t);
    const server = form.cellErrors(f);
    const shown = form.shown(f);
    const cellMessage = (key: string) => server.get(key) ?? (shown ? (own.cells.get(key) ?? '') : '');
    // The validity anchor (and focus target of reportValidity): the first cell with a problem, else the first cell.
    const firstBad = rows.flatMap((_, i) => SIDES.map((side) => `${i}.${side}`)).find((key) => server.has(key) || own.cells.has(key)) ?? '0.target';
    const required = f.minItems !== undefined && f.minItems > 0;
    const full = f.maxItems !== undefined && rows.length >= f.maxItems;
    const empty = this.lists !== undefined && (this.lists.target.size === 0 || this.lists.source.size === 0);
    let status: string = '';
    if (this.#status === 'loading') status = form.t('form.mappingLoading');
    else if (this.#status === 'error') status = this.#unavailable || form.t('form.mappingError');
    else if (empty) status = form.t('form.mappingEmpty');
    const describedBy = [f.help ? `${id}-help` : '', status ? `${id}-status` : '', `${id}-error`].filter(Boolean).join(' ');
    return html`<fieldset part="field" class="field mapping" data-kind=${f.kind} aria-describedby=${describedBy}>
      <legend part="label" class="label">${f.label}${renderRequiredMark(form, f)}</legend>
      ${renderHelp(id, f)}
      <div class="mapping-head" aria-hidden="true">
        <span>${f.targetLabel ?? form.t('form.mappingTarget')}</span><span></span><span>${f.sourceLabel ?? form.t('form.mappingSource')}</span>
      </div>
      ${rows.length === 0 ? html`<p class="help mapping-none">${form.t('form.mappingNone')}</p>` : nothing}
      ${rows.map((row, i) => {
        const messages = [...new Set(SIDES.map((side) => cellMessage(`${i}.${side}`)).filter(Boolean))];
        const rowName = form.t('form.mappingRow', { number: i + 1 });
        return html`<div class="mapping-row" role="group" aria-label=${rowName}>
          ${this.#cell(f, id, i, 'target', row.target, cellMessage(`${i}.target`), firstBad === `${i}.target`)}
          <span class="mapping-arrow" aria-hidden="true">←</span>
          ${this.#cell(f, id, i, 'source', row.source, cellMessage(`${i}.source`), firstBad === `${i}.source`)}
          ${
            required && rows.length === 1
              ? html`<span class="mapping-remove-space"></span>`
              : html`<button
                  type="button"
                  part="button"
                  class="mapping-remove"
                  id="${id}-${i}-remove"
                  aria-label=${form.t('form.mappingRemove', { number: i + 1 })}
                  ?disabled=${form.disabled}
                  @click=${() => this.#remove(f, id, i)}
                >
                  ×
                </button>`
          }
          <div part="error" class="error mapping-error" id="${id}-${i}-error">${messages.join(' ')}</div>
        </div>`;
      })}
      <div class="mapping-actions">
        <button type="button" part="button" class="mapping-add" id="${id}-add" ?disabled=${form.disabled || full || empty} @click=${() => this.#add(f, id)}>
          <span aria-hidden="true">+</span> ${form.t('form.mappingAdd')}
        </button>
        ${
          this.#status === 'error' && !this.#unavailable
            ? html`<button type="button" part="button" class="retry" @click=${() => void this.#load(f)}>${form.t('form.pickerRetry')}</button>`
            : nothing
        }
      </div>
      <div class="picker-status" id="${id}-status" role="status">${status}</div>
      ${renderError(id, message)}
    </fieldset>`;
  }
}
