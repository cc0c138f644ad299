import { LitElement } from 'lit';

/**
 * Base of every Plugboard element: a typed `emit()` whose events bubble out of shadow roots,
 * and a `define()` that tolerates a second copy of the bundle on the page.
 */
export class PlugElement extends LitElement {
  /** Registers `tag` unless it exists; embeds do get loaded twice (two versions, two script tags). */
  static define(tag: string, ctor: CustomElementConstructor = this): void {
    const existing = customElements.get(tag);
    if (!existing) {
      customElements.define(tag, ctor);
    } else if (existing !== ctor) {
      console.warn(`<${tag}> is already defined by another copy of Plugboard; keeping the first.`);
    }
  }

  /** Where `emit()` dispatches: the element itself; an internal element fires from the public one around it. */
  protected get eventTarget(): EventTarget {
    return this;
  }

  /** Dispatches a `bubbles` + `composed` event so hosts can listen on `document`. */
  protected emit<K extends keyof GlobalEventHandlersEventMap>(
    name: K,
    init: GlobalEventHandlersEventMap[K] extends CustomEvent<infer D> ? { detail: D; cancelable?: boolean } : { cancelable?: boolean },
  ): boolean {
    const event = new CustomEvent(name, { bubbles: true, composed: true, cancelable: false, ...init });
    return this.eventTarget.dispatchEvent(event);
  }
}
