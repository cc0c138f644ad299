import { expect } from '@open-wc/testing';

// The built script-tag bundle (dist/plugboard.js, from `npm run build`), loaded twice as two
// module instances, the way two script tags of different versions would.
describe('dist/plugboard.js', () => {
  it('defines every element and can be loaded twice without throwing', async function () {
    const probe = await fetch('/dist/plugboard.js', { method: 'HEAD' });
    if (!probe.ok) {
      console.warn('dist/plugboard.js not built: run `npm run build` first. SKIPPED.');
      this.skip();
    }
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => warnings.push(args.join(' '));
    try {
      await import(/* @vite-ignore */ '/dist/plugboard.js?copy=1' as string);
      await import(/* @vite-ignore */ '/dist/plugboard.js?copy=2' as string);
    } finally {
      console.warn = warn;
    }
    // The core is defined by the import itself; the detail chunk as soon as the browser is idle.
    for (const tag of ['plug-provider', 'plug-marketplace', 'plug-integration-card', 'plug-instance-status']) {
      expect(customElements.get(tag), tag).to.not.equal(undefined);
    }
    const detail = ['plug-integration-dialog', 'plug-config-form', 'plug-connect-button', 'plug-execution-log'];
    await Promise.all(detail.map((tag) => customElements.whenDefined(tag)));
    for (const tag of detail) expect(customElements.get(tag), tag).to.not.equal(undefined);
    expect(warnings.some((w) => w.includes('already defined by another copy'))).to.equal(true);
  });
});
