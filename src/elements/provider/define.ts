import { ContextRoot } from '@lit/context';
import { PlugProvider } from './provider.js';

// Elements upgraded before their provider ask for context too early; a root on the page
// keeps those requests and answers them when the provider appears. One root per page,
// even when the bundle is loaded twice.
const ROOT = Symbol.for('plugboard.context-root');
const page = globalThis as typeof globalThis & { [ROOT]?: true };
if (!page[ROOT] && typeof document !== 'undefined') {
  page[ROOT] = true;
  new ContextRoot().attach(document.documentElement);
}

PlugProvider.define('plug-provider');

declare global {
  interface HTMLElementTagNameMap {
    'plug-provider': PlugProvider;
  }
}

export { PlugProvider };
