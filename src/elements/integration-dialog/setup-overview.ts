import { html, nothing, type TemplateResult } from 'lit';
import type { FieldError, FlowSpec, UpdateAvailable } from '../../protocol/index.js';
import { keyInWords } from '../../protocol/words.js';
import { connectionStatusText } from '../i18n.js';
import { fieldsOf, type SetupSection } from './setup-section.js';

/** What the setup hands to its overview. */
export interface OverviewContext extends SetupSection {
  /** Blockers from the last refused activation; the instance's own are shown when there are none. */
  blockers: FieldError[];
  locale: string | undefined;
  /** Who changed the instance, what and when (instance-history.ts). */
  history: TemplateResult | typeof nothing;
  /** Webhook URLs and runs of an instance past draft (instance-activity.ts). */
  activity: TemplateResult | typeof nothing;
  start: () => Promise<void> | void;
  activate: () => Promise<void> | void;
  pause: () => Promise<void> | void;
  /** To the current version ("Update available", when the vendor lets customers do it). */
  upgrade: () => Promise<void> | void;
  confirmDelete: () => Promise<void> | void;
}

/**
 * When a scheduled flow runs, in words: the interval the customer configured (or the field's
 * default before they have), else the trigger's own label.
 */
function scheduleText(ctx: OverviewContext, flow: FlowSpec): string | undefined {
  const trigger = flow.trigger;
  if (trigger.type !== 'schedule') return trigger.label;
  const field = trigger.intervalField;
  if (field) {
    const page = ctx.detail.configPages.find((p) => fieldsOf(p.schema).includes(field));
    const fallback = (page?.schema.properties as Record<string, { default?: unknown }> | undefined)?.[field]?.default;
    const minutes = ctx.instance?.config[field] ?? fallback;
    if (typeof minutes === 'number' && Number.isInteger(minutes) && minutes > 0) return ctx.t('dialog.everyMinutes', { count: minutes });
  }
  return trigger.label;
}

/** A newer version: what changed since the instance's, and "Update" when the customer may apply it. */
function renderUpdate(ctx: OverviewContext, update: UpdateAvailable, current: string | undefined): TemplateResult {
  const { t, busy } = ctx;
  return html`<section part="update" class="update" aria-labelledby="update-heading">
    <h3 id="update-heading">${t('dialog.updateAvailable', { version: update.version })}</h3>
    ${current ? html`<p class="muted">${t('dialog.runsVersion', { version: current })}</p>` : nothing}
    ${
      update.changelog.length > 0
        ? html`<dl class="changelog">
          ${update.changelog.map((entry) => html`<dt>${entry.version}</dt><dd>${entry.notes}</dd>`)}
        </dl>`
        : nothing
    }
    ${
      update.selfUpgrade
        ? html`<div class="actions">
          <button part="button" class="button primary" type="button" ?disabled=${busy} @click=${ctx.upgrade}>${t('dialog.update')}</button>
        </div>`
        : html`<p class="muted">${t('dialog.updateByVendor')}</p>`
    }
  </section>`;
}

/** @internal What the integration does and needs, the instance's state, and its actions. */
export function renderOverview(ctx: OverviewContext): TemplateResult {
  const { detail, instance, busy, t } = ctx;
  const paragraphs = (detail.overview ?? '').split(/\n\s*\n/).filter((p) => p.trim() !== '');
  const canActivate = instance && instance.status !== 'active';
  const pending = [...ctx.blockers, ...(ctx.blockers.length === 0 ? (instance?.blockers ?? []) : [])];
  return html`
    <section aria-labelledby="overview-heading">
      <h3 id="overview-heading">${t('dialog.overview')}</h3>
      <p>${detail.description}</p>
      ${paragraphs.map((p) => html`<p class="muted">${p}</p>`)}
      ${
        instance
          ? html`<p class="muted">
            ${t('dialog.updated', {
              date: new Intl.DateTimeFormat(ctx.locale, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(instance.updatedAt)),
            })}
          </p>`
          : nothing
      }
      ${instance?.status === 'error' && instance.statusReason ? html`<p class="notice">${instance.statusReason}</p>` : nothing}
    </section>
    ${instance?.update ? renderUpdate(ctx, instance.update, instance.integrationVersion ?? undefined) : nothing}
    ${
      detail.flows.length > 0
        ? html`<section aria-labelledby="does-heading">
          <h3 id="does-heading">${t('dialog.does')}</h3>
          <ul class="needs">
            ${detail.flows.map((flow) => {
              const when = scheduleText(ctx, flow);
              return html`<li>
                <strong>${flow.label ?? keyInWords(flow.name)}</strong>${flow.description ? html`: ${flow.description}` : nothing}
                ${when ? html`<span class="muted">(${when})</span>` : nothing}
              </li>`;
            })}
          </ul>
        </section>`
        : nothing
    }
    <section aria-labelledby="needs-heading">
      <h3 id="needs-heading">${t('dialog.needs')}</h3>
      ${
        detail.connections.length + detail.configPages.length === 0
          ? html`<p class="muted">${t('dialog.nothingNeeded')}</p>`
          : html`<ul class="needs">
            ${detail.connections.map((c) => {
              const st = instance?.connections.find((s) => s.name === c.name);
              return html`<li>${c.label} (${t(`dialog.kind.${c.kind}`)})${st ? html` · ${connectionStatusText(t, st.status, st.accountName)}` : nothing}</li>`;
            })}
            ${detail.configPages.map((p) => html`<li>${t('dialog.configure')}: ${p.title}</li>`)}
          </ul>`
      }
    </section>
    ${
      pending.length > 0 && canActivate
        ? html`<div class="notice" role="note">
          ${t('dialog.blockers')}
          <ul>
            ${pending.map((b) => html`<li>${b.message}</li>`)}
          </ul>
        </div>`
        : nothing
    }
    <div class="actions">
      ${
        instance
          ? html`<button part="button" class="button danger" type="button" ?disabled=${busy} @click=${ctx.confirmDelete}>
              ${t('dialog.delete')}
            </button>
            <span class="spacer"></span>
            ${
              instance.status === 'active'
                ? html`<button part="button" class="button" type="button" ?disabled=${busy} @click=${ctx.pause}>${t('dialog.pause')}</button>`
                : nothing
            }
            <button part="button" class="button" type="button" ?disabled=${busy} @click=${ctx.start}>
              ${t(instance.status === 'draft' ? 'dialog.continue' : 'dialog.configure')}
            </button>
            ${
              canActivate
                ? html`<button part="button" class="button primary" type="button" ?disabled=${busy} @click=${ctx.activate}>
                  ${t(instance.status === 'paused' ? 'dialog.resume' : 'dialog.activate')}
                </button>`
                : nothing
            }`
          : html`<button part="button" class="button primary" type="button" ?disabled=${busy} @click=${ctx.start}>
            ${t('dialog.start')}
          </button>`
      }
    </div>
    ${ctx.history} ${ctx.activity}
  `;
}
