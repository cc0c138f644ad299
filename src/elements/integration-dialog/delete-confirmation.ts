import { html, type TemplateResult } from 'lit';
import type { SetupSection } from './setup-section.js';

/** What the setup hands to the delete confirmation. */
export interface DeleteConfirmationContext extends SetupSection {
  /** Back to the overview; nothing deleted. */
  keep: () => void;
  remove: () => Promise<void>;
}

/** @internal The question before deleting an instance. "Keep it" comes first and gets the focus. */
export function renderDeleteConfirmation(ctx: DeleteConfirmationContext): TemplateResult {
  return html`<div class="notice" role="alert">${ctx.t('dialog.deleteConfirm')}</div>
    <div class="actions">
      <button part="button" class="button keep" type="button" ?disabled=${ctx.busy} @click=${ctx.keep}>
        ${ctx.t('dialog.deleteCancel')}
      </button>
      <button part="button" class="button danger primary" type="button" ?disabled=${ctx.busy} @click=${ctx.remove}>
        ${ctx.t('dialog.delete')}
      </button>
    </div>`;
}
