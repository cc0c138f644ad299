import { css } from 'lit';

/** Shared by every element that has buttons: `part="button"` plus a variant class. */
export const buttonStyles = css`
  .button {
    display: inline-flex;
    align-items: center;
    justify-content: center;
    gap: var(--_space-xs);
    min-height: var(--_target);
    min-width: var(--_target);
    box-sizing: border-box;
    padding: 0 var(--_space-m);
    border: 1px solid var(--_color-border);
    border-radius: var(--plug-button-radius, var(--_radius-m));
    background: var(--_color-surface);
    color: var(--_color-text);
    font: inherit;
    font-size: var(--_font-size-s);
    font-weight: var(--_font-weight-strong);
    cursor: pointer;
  }
  .button.primary {
    border-color: var(--_color-primary);
    background: var(--_color-primary);
    color: var(--_color-on-primary);
  }
  .button.danger {
    border-color: var(--_color-danger);
    color: var(--_color-danger);
  }
  .button.danger.primary {
    background: var(--_color-danger);
    color: var(--_color-surface);
  }
  .button:disabled {
    opacity: 0.55;
    cursor: not-allowed;
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    margin: -1px;
    padding: 0;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
    border: 0;
  }
`;

/**
 * A loading placeholder's shimmer (`.skeleton`); each element sets its placeholders' size. The
 * band moves by `transform`, which the compositor animates alone: a moving `background-position`
 * needed a main-thread frame (style and paint) every 16 ms while the request was out, and a fast
 * answer waited behind those frames (docs/benchmarks.md, "Seventh session, render").
 */
export const skeletonStyles = css`
  .skeleton {
    position: relative;
    overflow: hidden;
    background: var(--_color-surface-raised);
  }
  .skeleton::after {
    content: '';
    position: absolute;
    inset: 0;
    background: linear-gradient(90deg, transparent, var(--_color-border), transparent);
    animation: shimmer 1.2s infinite linear;
  }
  @media (prefers-reduced-motion: reduce) {
    .skeleton::after {
      animation: none;
    }
  }
  @keyframes shimmer {
    from {
      transform: translateX(-100%);
    }
    to {
      transform: translateX(100%);
    }
  }
`;

export const marketplaceStyles = css`
  :host {
    --_grid-min: var(--plug-marketplace-card-min-width, 16rem);
    display: block;
  }
  .toolbar {
    display: flex;
    flex-wrap: wrap;
    gap: var(--_space-s) var(--_space-m);
    align-items: center;
    margin-block-end: var(--_space-m);
  }
  h2 {
    flex: 1 0 100%;
    margin: 0;
    font-size: var(--_font-size-l);
  }
  .search,
  .category {
    min-height: var(--_target);
    box-sizing: border-box;
    padding: 0 var(--_space-s);
    border: 1px solid var(--_color-border);
    border-radius: var(--_radius-m);
    background: var(--_color-surface);
    color: var(--_color-text);
    font: inherit;
  }
  .search {
    flex: 1 1 14rem;
  }
  .toggle {
    display: inline-flex;
    gap: var(--_space-xs);
    align-items: center;
    min-height: var(--_target);
  }
  .toggle input {
    accent-color: var(--_color-primary);
  }
  /* A phone: search takes its own row, the filter and the toggle share the next. */
  @media (max-width: 600px) {
    .search {
      flex-basis: 100%;
    }
    .category {
      flex: 1 1 auto;
    }
  }
  .count {
    color: var(--_color-text-muted);
    font-size: var(--_font-size-s);
  }
  .grid {
    display: grid;
    grid-template-columns: repeat(auto-fill, minmax(min(var(--_grid-min), 100%), 1fr));
    gap: var(--plug-marketplace-gap, var(--_space-m));
    margin: 0;
    padding: 0;
    list-style: none;
  }
  .grid > li {
    /* A grid of its own, so its card stretches to the row's height. */
    display: grid;
    /* Contained, not content-visibility: auto: the cards come in batches of 24 as the page scrolls
       anyway, and content-visibility made Chromium compute an intersection for every card each frame
       (up to 97 ms of a scroll frame with 1,000 cards: bench/render.ts, a trace of the scroll). */
    contain: layout style;
  }
  .more {
    height: 1px;
  }
  .skeleton {
    height: 9rem;
    border-radius: var(--_radius-l);
  }
  .message {
    padding: var(--_space-xl) var(--_space-m);
    border: 1px dashed var(--_color-border);
    border-radius: var(--_radius-l);
    color: var(--_color-text-muted);
    text-align: center;
  }
  .message.error {
    border-color: var(--_color-danger);
    color: var(--_color-danger);
  }
  .message p {
    margin: 0 0 var(--_space-m);
  }
`;
