// Entry of `plugboard runner` (bin/plugboard.js imports it): runner-cli.ts itself only exports, so
// importing it never starts a runner.
import { runnerCommand } from './runner-cli.js';

await runnerCommand();
