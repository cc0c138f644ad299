// The browser tests run in Mocha (@web/test-runner-mocha), which puts these on `window`.
// @types/mocha is not installed; this is the part the tests use.
type MochaDone = (error?: unknown) => void;
interface MochaContext {
  skip(): never;
  timeout(ms: number): void;
}
type MochaFn = (this: MochaContext, done: MochaDone) => void | Promise<unknown>;
type MochaHook = (this: MochaContext) => void | Promise<unknown>;

declare global {
  function describe(title: string, fn: () => void): void;
  function it(title: string, fn: MochaFn): void;
  function before(fn: MochaHook): void;
  function after(fn: MochaHook): void;
  function beforeEach(fn: MochaHook): void;
  function afterEach(fn: MochaHook): void;
}

export {};
