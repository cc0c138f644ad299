import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';

// Debian's Chromium: no test tool may download a browser here.
const executablePath = process.env.CHROME_PATH ?? '/usr/bin/chromium';

// Tests import '@open-wc/testing' and get test/browser/open-wc-testing.ts: its waitUntil waits 5 s,
// not 1 s, which a loaded CI host's render overran. The shim itself gets the real package.
const shim = '/test/browser/open-wc-testing.ts';
const patientWaitUntil = {
  name: 'patient-wait-until',
  resolveImport({ source, context }) {
    if (source === '@open-wc/testing' && context.path !== shim) return shim;
    return undefined;
  },
};

export default {
  files: ['test/browser/**/*.test.ts'],
  nodeResolve: { exportConditions: ['browser', 'development'] },
  plugins: [patientWaitUntil, esbuildPlugin({ ts: true, target: 'es2022', tsconfig: 'tsconfig.json' })],
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath,
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-dev-shm-usage',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
          '--disable-quic',
        ],
      },
    }),
  ],
  // One file at a time: a second page at once is hidden and unfocused (document.hasFocus() is
  // false, visibilityState 'hidden'), which breaks the focus and keyboard tests.
  concurrency: 1,
  testFramework: { config: { timeout: 10000 } },
  testsFinishTimeout: 180000,
};
