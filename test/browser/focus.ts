/** The focused element, looking through open shadow roots (document.activeElement stops at the first host). */
export function deepActiveElement(): Element | null {
  let el: Element | null = document.activeElement;
  while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
  return el;
}

/** Resolves after a real keyboard-like press in Chromium (through the test runner's sendKeys). */
export { sendKeys } from '@web/test-runner-commands';
