import { html, nothing, type TemplateResult } from 'lit';
// Lit sets an object binding again on every render: only a new draft may replace what the customer is typing.
import { guard } from 'lit/directives/guard.js';
import type { ConfigPage, FieldError, Instance, IntegrationDetail } from '../../protocol/index.js';
import type { LoadOptions } from '../config-form/config-form.js';
import { FORM_PARTS, fieldsOf, type SetupSection } from './setup-section.js';

export type Step = { kind: 'connections'; title: string } | { kind: 'page'; title: string; page: ConfigPage; index: number };

/** The page holding the field an error `path` points at (`channel`, `channel.0`). */
export const onPage = (step: Step, error: FieldError): boolean => step.kind === 'page' && fieldsOf(step.page.schema).includes(error.path.split('.')[0]!);

/** `config.channel` → `channel`; `values.token` → `token` (the form speaks in its own field names). */
export function relative(errors: FieldError[], prefix: string): FieldError[] {
  return errors.map((e) => ({ ...e, path: e.path.startsWith(`${prefix}.`) ? e.path.slice(prefix.length + 1) : e.path }));
}

/** The draft with a page's values in place of what it held for that page's fields. */
export function withPage(
  draft: Record<string, unknown>,
  page: { schema: Record<string, unknown> | undefined; value: Record<string, unknown> },
): Record<string, unknown> {
  const next = { ...draft };
  for (const name of fieldsOf(page.schema)) delete next[name];
  return { ...next, ...page.value };
}

/** The wizard's steps: connections (when the integration has any), then one per config page. */
export function wizardSteps(detail: IntegrationDetail, connectionsTitle: string): Step[] {
  const steps: Step[] = [];
  if (detail.connections.length > 0) steps.push({ kind: 'connections', title: connectionsTitle });
  detail.configPages.forEach((page, index) => steps.push({ kind: 'page', title: page.title, page, index }));
  return steps;
}

/** Equal configs, whatever the order of their keys. */
export function sameConfig(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const sorted = (o: Record<string, unknown>) =>
    JSON.stringify(
      Object.keys(o)
        .sort()
        .map((k) => [k, o[k]]),
    );
  return sorted(a) === sorted(b);
}

const STEP_KEY = 'plugboard:setup-step:';

/** Remembers the step a customer reached for an instance (this tab only), so the wizard reopens there. */
export function rememberStep(instanceId: string, step: number): void {
  try {
    sessionStorage.setItem(STEP_KEY + instanceId, String(step));
  } catch {
    // Storage refused (a sandboxed frame, privacy settings): the wizard falls back to what is missing.
  }
}

/** Where the wizard reopens: the step the customer left in this tab, else the first step with something missing. */
export function resumeStep(steps: Step[], instance: Instance): number {
  let stored: number | undefined;
  try {
    const raw = sessionStorage.getItem(STEP_KEY + instance.id);
    stored = raw === null ? undefined : Number(raw);
  } catch {
    stored = undefined;
  }
  if (stored !== undefined && Number.isInteger(stored) && stored >= 0 && stored < steps.length) return stored;
  const missing = relative(instance.blockers, 'config');
  const first = steps.findIndex((s) =>
    s.kind === 'connections' ? instance.blockers.some((b) => b.path.startsWith('connections.')) : missing.some((b) => onPage(s, b)),
  );
  return Math.max(first, 0);
}

/** What the setup hands to the wizard. */
export interface WizardContext extends SetupSection {
  steps: Step[];
  index: number;
  /** The configuration being edited: the stored config, then the wizard's edits. */
  draft: Record<string, unknown>;
  /** The server's field errors (422) of the last save. */
  fieldErrors: FieldError[];
  loadOptions: LoadOptions;
  connections: () => TemplateResult[];
  toOverview: () => void;
  back: () => void;
  next: () => void;
  save: () => void;
}

/** @internal The setup wizard: the stepper (each step's name, the current one marked), the current step (connections or a config page) and back/next/save. */
export function renderWizard(ctx: WizardContext): TemplateResult {
  const { steps, index, busy, t } = ctx;
  const step = steps[index]!;
  const last = index === steps.length - 1;
  const pageErrors = step.kind === 'page' ? ctx.fieldErrors.filter((e) => onPage(step, e)) : [];
  return html`
    <ol part="progress" class="progress" aria-label=${t('dialog.progress')}>
      ${steps.map(
        (s, i) => html`<li ?data-done=${i <= index} aria-current=${i === index ? 'step' : nothing}>
          <span class="step-number" aria-hidden="true">${i + 1}</span><span class="step-title">${s.title}</span>
        </li>`,
      )}
    </ol>
    <section aria-labelledby="step-heading">
      <h3 id="step-heading" tabindex="-1">${step.title}</h3>
      ${
        step.kind === 'connections'
          ? ctx.connections()
          : html`${step.page.description ? html`<p class="muted">${step.page.description}</p>` : nothing}
            <plug-config-form
              part="form"
              exportparts=${FORM_PARTS}
              data-page=${step.index}
              .schema=${step.page.schema}
              .value=${guard([ctx.draft], () => ctx.draft)}
              .secretsSet=${ctx.instance?.secretsSet ?? []}
              .errors=${pageErrors}
              .loadOptions=${ctx.loadOptions}
              .translations=${ctx.translations}
              ?disabled=${busy}
            ></plug-config-form>`
      }
    </section>
    <div class="actions">
      ${
        index > 0
          ? html`<button part="button" class="button" type="button" ?disabled=${busy} @click=${ctx.back}>${t('dialog.back')}</button>`
          : html`<button part="button" class="button" type="button" ?disabled=${busy} @click=${ctx.toOverview}>
            ${t('dialog.overview')}
          </button>`
      }
      <span class="spacer"></span>
      ${
        last
          ? html`<button part="button" class="button primary" type="button" ?disabled=${busy} @click=${ctx.save}>${t('dialog.save')}</button>`
          : html`<button part="button" class="button primary" type="button" ?disabled=${busy} @click=${ctx.next}>${t('dialog.next')}</button>`
      }
    </div>
  `;
}
