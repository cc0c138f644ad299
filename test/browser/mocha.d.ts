// The browser tests run in Mocha (@web/test-runner-mocha), which puts these on `window`.
// @types/mocha is not installed; this is the part the tests use.
type MochaDone = (error?: unknown) => void;
type MochaFn = (this: unknown, done: MochaDone) => void | Promise<unknown>;

declare global {
  function describe(title: string, fn: () => void): void;
  function it(title: string, fn: MochaFn | (() => void | Promise<unknown>)): void;
  function before(fn: () => void | Promise<unknown>): void;
  function after(fn: () => void | Promise<unknown>): void;
  function beforeEach(fn: () => void | Promise<unknown>): void;
  function afterEach(fn: () => void | Promise<unknown>): void;
}

export {};
