// Deliberate misuse, kept apart from App.tsx: test/node/framework-types.test.ts expects exactly
// the errors it lists for these lines (and none in App.tsx), which proves the element types bite.

export function Misuse() {
  return (
    <>
      <plug-marketplace
        // A token string where the element takes a function.
        getToken="x"
        // The detail of plug-instance-activated is { instance }.
        onplug-instance-activated={(e) => console.log(e.detail.instanceId)}
        theme="blue"
        // Translations only has the keys of the built-in English strings.
        translations={{ 'marketplace.titel': 'Apps' }}
      />
      <plug-integration-dialog open="yes" />
      <plug-marketplce api="/api/v1" />
    </>
  );
}
