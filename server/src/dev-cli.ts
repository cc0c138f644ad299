// `plugboard dev [module]`'s entry (bin/plugboard.js imports it; `dev` may still be the first argument).
import { devCommand } from './dev.js';

const args = process.argv.slice(2);
if (args[0] === 'dev') args.shift();
await devCommand(args);
