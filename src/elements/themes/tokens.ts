import { css } from 'lit';

// Dark values, used for `theme="dark"` and for `prefers-color-scheme: dark` unless `theme="light"`.
const dark = css`
  --_color-primary: var(--plug-color-primary, #818cf8);
  --_color-on-primary: var(--plug-color-on-primary, #0b1020);
  --_color-surface: var(--plug-color-surface, #0f172a);
  --_color-surface-raised: var(--plug-color-surface-raised, #1e293b);
  --_color-text: var(--plug-color-text, #e2e8f0);
  --_color-text-muted: var(--plug-color-text-muted, #94a3b8);
  --_color-border: var(--plug-color-border, #475569);
  --_color-focus: var(--plug-color-focus, #93c5fd);
  --_color-success: var(--plug-color-success, #34d399);
  --_color-warning: var(--plug-color-warning, #fbbf24);
  --_color-danger: var(--plug-color-danger, #f87171);
`;

/**
 * Global design tokens. A host overrides any `--plug-*` variable on any ancestor (or `:root`).
 * Elements read them only through these private `--_*` fallbacks, so unset tokens get the
 * defaults below. Light by default; dark through `prefers-color-scheme` or `theme="dark"`.
 */
export const tokens = css`
  :host {
    --_color-primary: var(--plug-color-primary, #4f46e5);
    --_color-on-primary: var(--plug-color-on-primary, #ffffff);
    --_color-surface: var(--plug-color-surface, #ffffff);
    --_color-surface-raised: var(--plug-color-surface-raised, #f8fafc);
    --_color-text: var(--plug-color-text, #0f172a);
    --_color-text-muted: var(--plug-color-text-muted, #475569);
    --_color-border: var(--plug-color-border, #cbd5e1);
    --_color-focus: var(--plug-color-focus, #2563eb);
    --_color-success: var(--plug-color-success, #047857);
    --_color-warning: var(--plug-color-warning, #92400e);
    --_color-danger: var(--plug-color-danger, #b91c1c);
    --_color-backdrop: var(--plug-color-backdrop, rgb(15 23 42 / 0.45));
    --_space-xs: var(--plug-space-xs, 0.25rem);
    --_space-s: var(--plug-space-s, 0.5rem);
    --_space-m: var(--plug-space-m, 1rem);
    --_space-l: var(--plug-space-l, 1.5rem);
    --_space-xl: var(--plug-space-xl, 2rem);
    --_radius-s: var(--plug-radius-s, 4px);
    --_radius-m: var(--plug-radius-m, 8px);
    --_radius-l: var(--plug-radius-l, 12px);
    --_font-family: var(--plug-font-family, inherit);
    --_font-size: var(--plug-font-size, 1rem);
    --_font-size-s: var(--plug-font-size-s, 0.875rem);
    --_font-size-l: var(--plug-font-size-l, 1.25rem);
    --_font-weight-strong: var(--plug-font-weight-strong, 600);
    --_shadow: var(--plug-shadow, 0 1px 3px rgb(15 23 42 / 0.12));
    font-family: var(--_font-family);
    color: var(--_color-text);
  }
  @media (prefers-color-scheme: dark) {
    :host(:not([theme='light'])) {
      ${dark}
    }
  }
  :host([theme='dark']) {
    ${dark}
  }
  :host([hidden]) {
    display: none !important;
  }
  :focus-visible {
    outline: 2px solid var(--_color-focus);
    outline-offset: 2px;
  }
`;
