import { css } from 'lit';

/**
 * Global design tokens. A host overrides any `--plug-*` variable on any ancestor (or `:root`).
 * Elements read them only through these private `--_*` fallbacks, so unset tokens get the
 * defaults below.
 *
 * Colors are `light-dark(light, dark)`: they follow the `color-scheme` the element inherits from
 * the host page (a light page gets a light marketplace whatever the visitor's system prefers).
 * `theme="auto"` opts into the system preference, `theme="light"`/`"dark"` force one.
 */
export const tokens = css`
  :host {
    --_color-primary: var(--plug-color-primary, light-dark(#4f46e5, #818cf8));
    --_color-on-primary: var(--plug-color-on-primary, light-dark(#ffffff, #0b1020));
    --_color-surface: var(--plug-color-surface, light-dark(#ffffff, #0f172a));
    --_color-surface-raised: var(--plug-color-surface-raised, light-dark(#f8fafc, #1e293b));
    --_color-text: var(--plug-color-text, light-dark(#0f172a, #e2e8f0));
    --_color-text-muted: var(--plug-color-text-muted, light-dark(#475569, #94a3b8));
    --_color-border: var(--plug-color-border, light-dark(#cbd5e1, #475569));
    --_color-focus: var(--plug-color-focus, light-dark(#2563eb, #93c5fd));
    --_color-success: var(--plug-color-success, light-dark(#047857, #34d399));
    --_color-warning: var(--plug-color-warning, light-dark(#92400e, #fbbf24));
    --_color-danger: var(--plug-color-danger, light-dark(#b91c1c, #f87171));
    --_color-backdrop: var(--plug-color-backdrop, rgb(15 23 42 / 0.45));
    /* Around an integration's icon: a vendor's dark icon tile would melt into the dark surface. */
    --_color-icon-ring: var(--plug-color-icon-ring, light-dark(rgb(15 23 42 / 0.15), rgb(226 232 240 / 0.5)));
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
    /* Smallest touch target: 44 px where the pointer is a finger (see the media query below). */
    --_target: var(--plug-target-size, 2.25rem);
    font-family: var(--_font-family);
    color: var(--_color-text);
  }
  /* A forced theme may differ from the page: paint the surface, or light text lands on a light page. */
  :host([theme='light']),
  :host([theme='dark']),
  :host([theme='auto']) {
    background-color: var(--_color-surface);
  }
  :host([theme='light']) {
    color-scheme: light;
  }
  :host([theme='dark']) {
    color-scheme: dark;
  }
  @media (prefers-color-scheme: dark) {
    :host([theme='auto']) {
      color-scheme: dark;
    }
  }
  @media (prefers-color-scheme: light) {
    :host([theme='auto']) {
      color-scheme: light;
    }
  }
  @media (pointer: coarse), (max-width: 600px) {
    :host {
      --_target: var(--plug-target-size, 44px);
    }
  }
  :host([hidden]) {
    display: none !important;
  }
  :focus-visible {
    outline: 2px solid var(--_color-focus);
    outline-offset: 2px;
  }
`;
