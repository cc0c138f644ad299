// ESLint (flat config): `npm run lint`. Rules that catch defects; layout is Prettier's job, so
// no stylistic rules here. Type-aware rules run on the TypeScript files through the root
// tsconfig.json (one program, built once per run). `npm run lint` caches results in .eslintcache
// and re-lints only changed files; a type change does not re-lint its unchanged importers, so
// CI (a fresh clone, no cache) is the full check.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import lit from 'eslint-plugin-lit';
import wc from 'eslint-plugin-wc';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: [
      'dist/',
      'server/dist/',
      'coverage/',
      '.plugboard/',
      // A reload's snapshots of the integrations module (server/src/integration-reload.ts), not sources.
      '**/.plugboard-*',
      'custom-elements.json',
      // Type fixtures for React and Vue, checked by their own tsconfig (deliberate misuse included).
      'test/frameworks/',
    ],
  },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },

  js.configs.recommended,
  {
    rules: {
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },

  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // verbatimModuleSyntax keeps every import as written: type-only imports must say so, and
      // `import { type X }` would leave a runtime `import {}` of the module behind. `typeof import('x')`
      // stays allowed: it types a module that is loaded lazily with import().
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            // node:test's test()/describe() return promises the runner itself awaits.
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] },
            // @open-wc/semantic-dom-diff merges a Promise-returning overload into chai's `equal`; plain `.equal()` is synchronous.
            { from: 'package', package: 'chai', name: 'Equal' },
          ],
        },
      ],
      // AbortSignal.reason is typed `any`; rejecting with it is the platform's own idiom (fetch does it).
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true }],
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],

      // Off: taste or false positives here.
      // Flags the `!` on indexed reads (`rows[0]!`, `split('.')[0]!`) that only noUncheckedIndexedAccess would need; removing them is churn the wrong way.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // `async` without `await` is deliberate: it implements a Promise-returning interface and turns a throw into a rejection.
      '@typescript-eslint/require-await': 'off',
      // Every hit saves a DOM method to restore it later (window.fetch, window.open) or destructures a harness of arrow functions.
      '@typescript-eslint/unbound-method': 'off',
      // Fires on String(v) of unknown data narrowed to {}, which is how this code stringifies payload values on purpose.
      '@typescript-eslint/no-base-to-string': 'off',
      // The one alias lets the getters of config-form's field context reach the host; an alias is the idiom there.
      '@typescript-eslint/no-this-alias': 'off',
    },
  },

  // Lit and custom-element rules where elements are written and tested.
  {
    files: ['src/elements/**/*.ts', 'test/browser/**/*.ts'],
    extends: [lit.configs['flat/recommended'], wc.configs['flat/recommended']],
    rules: {
      'lit/attribute-names': 'error',
      'lit/lifecycle-super': 'error',
      'lit/no-classfield-shadowing': 'error',
      'lit/no-invalid-escape-sequences': 'error',
      'lit/no-legacy-imports': 'error',
      'lit/no-native-attributes': 'error',
      'lit/no-this-assign-in-render': 'error',
      'lit/no-value-attribute': 'error',
      'lit/value-after-constraints': 'error',
      'wc/no-closed-shadow-root': 'error',
      'wc/no-constructor-params': 'error',
      'wc/no-customized-built-in-elements': 'error',
      'wc/no-invalid-extends': 'error',
      'wc/no-typos': 'error',
      'wc/require-listener-teardown': 'error',
    },
  },
  // No decorators in the elements: the browser build lowers them with helpers and turns each
  // `#private` member of a decorated class into WeakMap calls (see src/elements/base/api-element.ts).
  {
    files: ['src/elements/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error', { selector: 'Decorator', message: 'Declare reactive properties in `static properties` (see PlugApiElement).' }],
    },
  },
  {
    files: ['test/browser/**/*.ts'],
    rules: {
      // chai's property assertions (`expect(x).to.be.true`) are expressions by design.
      '@typescript-eslint/no-unused-expressions': 'off',
    },
  },

  // Tests read response bodies and event details as `any` and let the assertion be the check;
  // the no-`any` rule is for module edges (src, server, demo, bench).
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },

  // Plain JavaScript: browser code for the demo page, Node everywhere else.
  {
    files: ['demo/public/**/*.js'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ignores: ['demo/public/**'],
    languageOptions: { globals: globals.node },
  },
);
