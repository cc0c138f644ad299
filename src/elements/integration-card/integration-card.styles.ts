import { css } from 'lit';

export const cardStyles = css`
  :host {
    --_card-background: var(--plug-card-background, var(--_color-surface));
    --_card-border-color: var(--plug-card-border-color, var(--_color-border));
    --_card-radius: var(--plug-card-radius, var(--_radius-l));
    --_card-padding: var(--plug-card-padding, var(--_space-m));
    display: block;
    /* Fills its grid cell, so the cards of a row share the tallest one's height. */
    height: 100%;
  }
  .card {
    position: relative;
    display: flex;
    flex-direction: column;
    gap: var(--_space-s);
    height: 100%;
    box-sizing: border-box;
    padding: var(--_card-padding);
    border: 1px solid var(--_card-border-color);
    border-radius: var(--_card-radius);
    background: var(--_card-background);
    color: var(--_color-text);
    box-shadow: var(--_shadow);
  }
  .card:hover {
    border-color: var(--_color-primary);
  }
  .card:has(.open:focus-visible) {
    outline: 2px solid var(--_color-focus);
    outline-offset: 2px;
  }
  .head {
    display: flex;
    gap: var(--_space-s);
    align-items: center;
  }
  .icon {
    flex: none;
    width: 40px;
    height: 40px;
    border-radius: var(--_radius-m);
    object-fit: contain;
    /* Outside the tile, so it shows whatever the icon's own colors (4.4:1 on the dark surface). */
    box-shadow: 0 0 0 1px var(--_color-icon-ring);
  }
  .icon-letter {
    display: grid;
    place-items: center;
    background: var(--_color-primary);
    color: var(--_color-on-primary);
    font-weight: var(--_font-weight-strong);
  }
  h3 {
    margin: 0;
    font-size: var(--_font-size);
    overflow-wrap: anywhere;
  }
  /* A 44 px touch target of its own (the margins give the padding back: the layout is as if inline). */
  .open {
    all: unset;
    display: inline-block;
    min-inline-size: 44px;
    padding-block: 13px;
    margin-block: -13px;
    cursor: pointer;
  }
  /* The whole card is the click target; the button stays the one focus stop. */
  .open::after {
    content: '';
    position: absolute;
    inset: 0;
    border-radius: var(--_card-radius);
  }
  .open:focus-visible {
    outline: none;
  }
  .category {
    margin: 0;
    color: var(--_color-text-muted);
    font-size: var(--_font-size-s);
  }
  .description {
    flex: 1;
    margin: 0;
    color: var(--_color-text-muted);
    font-size: var(--_font-size-s);
    overflow-wrap: anywhere;
  }
  .status {
    display: flex;
    flex-wrap: wrap;
    gap: var(--_space-xs) var(--_space-s);
    align-items: center;
  }
  .account {
    min-width: 0;
    color: var(--_color-text-muted);
    font-size: var(--_font-size-s);
    overflow-wrap: anywhere;
  }
  .locked .description,
  .locked h3 {
    color: var(--_color-text-muted);
  }
  /* A long translation wraps rather than widen the card past its grid column. */
  .badge[data-status='higher-plan'] {
    white-space: normal;
    min-width: 0;
    background: transparent;
    border: 1px dashed var(--_color-border);
    color: var(--_color-text-muted);
  }
  .upgrade {
    margin-inline-start: auto;
    color: var(--_color-primary);
    font: inherit;
    font-size: var(--_font-size-s);
    font-weight: var(--_font-weight-strong);
    background: none;
    border: none;
    padding: 0;
    cursor: pointer;
    text-decoration: underline;
    text-underline-offset: 2px;
  }
  .upgrade:focus-visible {
    outline: 2px solid var(--_color-primary);
    outline-offset: 2px;
    border-radius: 2px;
  }
`;
