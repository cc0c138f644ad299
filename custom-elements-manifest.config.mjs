// custom-elements.json (`npm run build`): the public elements only, as a page author sees them.
// The React/Vue types (scripts/framework-types.mjs) and docs/elements.md's reference
// (scripts/element-docs.mjs) are generated from it.

/** The public element classes, `src/elements/<name>/<name>.ts`: not styles, define modules or internal elements. */
export const publicElements = [
  'marketplace',
  'integration-card',
  'integration-dialog',
  'config-form',
  'connect-button',
  'instance-status',
  'execution-log',
  'provider',
  'vendor-console',
];

const publicModules = publicElements.map((name) => `src/elements/${name}/${name}.ts`);

/** Lifecycle and form callbacks: public in JavaScript, but the browser calls them, not the page. */
const callbacks = new Set([
  'connectedCallback',
  'disconnectedCallback',
  'adoptedCallback',
  'attributeChangedCallback',
  'formAssociatedCallback',
  'formDisabledCallback',
  'formResetCallback',
  'formStateRestoreCallback',
]);

/** Lit decorators of internal state and shadow-DOM lookups (and `state: true` in `static properties`): never part of the contract, `private` or not. */
const internalDecorators = new Set(['state', 'query', 'queryAll', 'queryAsync', 'queryAssignedElements', 'queryAssignedNodes']);

const isPublicMember = (member) =>
  !member.name.startsWith('#') && member.privacy !== 'private' && member.privacy !== 'protected' && !member.static && !callbacks.has(member.name);

/**
 * The base classes are analyzed so that their `api`, `getToken`, `translations`, … are inherited
 * into each element; once inheritance is applied, their modules and everything private,
 * protected or static (`@state` fields, `#x`, `styles`, `define`, `emit`) are dropped.
 */
function publicApiOnly() {
  /** `ClassName.member` of every field with an internal decorator (the Lit plugin lists them as public fields). */
  const internal = new Set();
  return {
    name: 'plugboard-public-api-only',
    analyzePhase({ ts, node }) {
      if (!ts.isPropertyDeclaration(node) || !ts.isClassDeclaration(node.parent) || !node.parent.name) return;
      // `static properties = { x: { state: true } }` (the eager classes' form of `@state`).
      if (node.name.getText() === 'properties' && node.initializer && ts.isObjectLiteralExpression(node.initializer)) {
        for (const p of node.initializer.properties) {
          const options = ts.isPropertyAssignment(p) && ts.isObjectLiteralExpression(p.initializer) ? p.initializer : undefined;
          const isState = options?.properties.some(
            (o) => ts.isPropertyAssignment(o) && o.name.getText() === 'state' && o.initializer.kind === ts.SyntaxKind.TrueKeyword,
          );
          if (isState) internal.add(`${node.parent.name.text}.${p.name.getText()}`);
        }
        return;
      }
      const decorators = (ts.canHaveDecorators(node) && ts.getDecorators(node)) || [];
      const isInternal = decorators.some((d) => {
        const callee = ts.isCallExpression(d.expression) ? d.expression.expression : d.expression;
        return ts.isIdentifier(callee) && internalDecorators.has(callee.text);
      });
      if (isInternal) internal.add(`${node.parent.name.text}.${node.name.getText()}`);
    },
    packageLinkPhase({ customElementsManifest }) {
      const manifest = customElementsManifest;
      manifest.modules = manifest.modules.filter((mod) => publicModules.includes(mod.path));
      for (const mod of manifest.modules) {
        mod.declarations = (mod.declarations ?? []).filter((d) => d.customElement);
        // Type re-exports (`export type { FieldOption } from './field-spec.js'`) are not elements.
        mod.exports = (mod.exports ?? []).filter((e) => e.declaration?.module === mod.path);
        for (const declaration of mod.declarations) {
          declaration.members = (declaration.members ?? []).filter(
            (m) => isPublicMember(m) && !internal.has(`${m.inheritedFrom?.name ?? declaration.name}.${m.name}`),
          );
          if (declaration.members.length === 0) delete declaration.members;
          if (declaration.attributes) {
            declaration.attributes = declaration.attributes.filter((a) => !internal.has(`${a.inheritedFrom?.name ?? declaration.name}.${a.fieldName}`));
          }
        }
      }
      manifest.modules.sort((a, b) => publicModules.indexOf(a.path) - publicModules.indexOf(b.path));
      toShippedPaths(manifest);
    },
  };
}

/**
 * The package ships `dist/npm/` (JavaScript), not `src/`: module references (`path`, `module`) name the
 * file a tool can open in an installed package, `src/elements/x/x.ts` → `dist/npm/elements/x/x.js`.
 */
function toShippedPaths(node) {
  if (Array.isArray(node)) return node.forEach(toShippedPaths);
  if (!node || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    if ((key === 'path' || key === 'module') && typeof value === 'string') {
      node[key] = value.replace(/^\/?src\/(.+)\.[jt]s$/, 'dist/npm/$1.js');
    } else {
      toShippedPaths(value);
    }
  }
}

export default {
  globs: [...publicModules, 'src/elements/base/*.ts'],
  litelement: true,
  // package.json already says `"customElements": "custom-elements.json"`: the analyzer must not rewrite it.
  packagejson: false,
  plugins: [publicApiOnly()],
};
