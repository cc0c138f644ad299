/** Drives `<plug-integration-dialog>` as a customer would: its text, buttons by name, its form's fields and steps. */
import { waitUntil } from '@open-wc/testing';
import type { PlugIntegrationDialog } from '../../src/elements/integration-dialog/integration-dialog.js';
import type { PlugConfigForm } from '../../src/elements/config-form/config-form.js';

export const root = (el: PlugIntegrationDialog) => el.shadowRoot!;
export const text = (el: PlugIntegrationDialog) => root(el).textContent!.replace(/\s+/g, ' ');
export function button(el: PlugIntegrationDialog, label: string): HTMLButtonElement {
  const found = [...root(el).querySelectorAll('button')].find((b) => b.textContent!.trim() === label);
  if (!found) throw new Error(`no button "${label}" in: ${text(el)}`);
  return found;
}
export function form(el: PlugIntegrationDialog): PlugConfigForm {
  return root(el).querySelector('plug-config-form')!;
}
export const input = (el: PlugIntegrationDialog, field: string) => form(el).shadowRoot!.querySelector<HTMLInputElement>(`[data-field="${field}"]`)!;
export async function type(el: PlugIntegrationDialog, field: string, value: string): Promise<void> {
  const f = form(el);
  await f.updateComplete;
  const control = input(el, field);
  control.value = value;
  control.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
  control.dispatchEvent(new Event('change', { bubbles: true, composed: true }));
  await f.updateComplete;
}
export async function step(el: PlugIntegrationDialog, title: string): Promise<void> {
  await waitUntil(() => root(el).querySelector('#step-heading')?.textContent?.trim() === title, `step "${title}" not shown: ${text(el)}`);
}
export async function shown(el: PlugIntegrationDialog, words: string): Promise<void> {
  await waitUntil(() => text(el).includes(words), `"${words}" not shown: ${text(el)}`);
}

/** Waits for the toast's fade-in to end: axe judges its contrast once it is shown in full. */
export async function toastSettled(el: PlugIntegrationDialog): Promise<void> {
  const toast = root(el).querySelector('.toast');
  await Promise.all((toast?.getAnimations({ subtree: true }) ?? []).map((a) => a.finished));
  await new Promise((r) => setTimeout(r, 300));
}
