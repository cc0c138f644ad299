// `npm run bench`: runs every benchmark in bench/ one after another and prints their figures.
// Nothing here asserts; figures go into docs/benchmarks.md and the issue notes.
// `npm run bench -- http` runs only the benchmarks whose file name contains "http".
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const filter = process.argv[2];
const files = readdirSync('bench')
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && f !== 'run.ts')
  .filter((f) => !filter || f.includes(filter))
  .sort();

let failed = 0;
for (const file of files) {
  console.log(`\n=== bench/${file}`);
  // The same flags as this runner (the plugboard-source condition, tsx), so no build is needed.
  const r = spawnSync(process.execPath, [...process.execArgv, `bench/${file}`], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`(bench/${file} exited with ${r.status})`);
  }
}
process.exit(failed ? 1 : 0);
