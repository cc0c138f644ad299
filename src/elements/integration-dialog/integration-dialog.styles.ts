import { css } from 'lit';

/** The dialog's chrome: the native dialog or the inline section, the panel and its header. */
export const dialogStyles = css`
  :host {
    --_dialog-width: var(--plug-dialog-width, 40rem);
    --_dialog-background: var(--plug-dialog-background, var(--_color-surface));
    --_dialog-radius: var(--plug-dialog-radius, var(--_radius-l));
    display: contents;
  }
  :host([mode='inline']) {
    display: block;
  }
  dialog {
    width: min(var(--_dialog-width), calc(100vw - 2 * var(--_space-m)));
    max-height: calc(100vh - 2 * var(--_space-xl));
    padding: 0;
    border: 1px solid var(--_color-border);
    border-radius: var(--_dialog-radius);
    background: var(--_dialog-background);
    color: var(--_color-text);
    box-shadow: 0 20px 50px rgb(15 23 42 / 0.3);
  }
  dialog::backdrop {
    background: var(--_color-backdrop);
  }
  /* A phone: a full-screen sheet that scrolls inside, its header (and Close) kept in view. */
  @media (max-width: 599.98px) {
    dialog {
      box-sizing: border-box;
      width: 100%;
      max-width: none;
      height: 100%;
      max-height: none;
      margin: 0;
      border: 0;
      border-radius: 0;
      overscroll-behavior: contain;
    }
    dialog .panel {
      min-height: 100%;
      box-sizing: border-box;
      padding: 0 var(--_space-m) var(--_space-l);
    }
    dialog header {
      position: sticky;
      top: 0;
      z-index: 1;
      margin-inline: calc(-1 * var(--_space-m));
      padding: var(--_space-s) var(--_space-m);
      border-block-end: 1px solid var(--_color-border);
      background: var(--_dialog-background);
    }
  }
  .panel {
    display: flex;
    flex-direction: column;
    gap: var(--_space-m);
    padding: var(--_space-l);
    background: var(--_dialog-background);
    font-family: var(--_font-family);
  }
  :host([mode='inline']) .panel {
    border: 1px solid var(--_color-border);
    border-radius: var(--_dialog-radius);
  }
  header {
    display: flex;
    gap: var(--_space-s);
    align-items: center;
  }
  header h2 {
    flex: 1;
    margin: 0;
    font-size: var(--_font-size-l);
    overflow-wrap: anywhere;
  }
  h2:focus {
    outline: none;
  }
  .icon {
    width: 40px;
    height: 40px;
    border-radius: var(--_radius-m);
    box-shadow: 0 0 0 1px var(--_color-icon-ring);
  }
  .icon-letter {
    display: grid;
    place-items: center;
    background: var(--_color-primary);
    color: var(--_color-on-primary);
    font-weight: var(--_font-weight-strong);
  }
  .sentinel {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
  }
  /* The setup renders into this shadow root; its box adds nothing to the panel's layout. */
  plug-integration-setup {
    display: contents;
  }
`;
