import { html, type TemplateResult } from 'lit';

// Only URLs an <img> can load without running anything: http(s) and raster/SVG data images.
const SAFE_ICON = /^(https?:\/\/|data:image\/)/i;

export function isSafeIcon(src: string | undefined): src is string {
  return typeof src === 'string' && SAFE_ICON.test(src.trim());
}

/** The integration's icon, or its first letter on a tile when it has no usable icon. */
export function renderIcon(src: string | undefined, name: string): TemplateResult {
  return isSafeIcon(src)
    ? html`<img part="icon" class="icon" src=${src.trim()} alt="" width="40" height="40" loading="lazy" />`
    : html`<span part="icon" class="icon icon-letter" aria-hidden="true">${name.trim().charAt(0).toUpperCase() || '?'}</span>`;
}
