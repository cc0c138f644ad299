#!/usr/bin/env node
// plugboard <command>: dispatches to the built modules under dist/ (in the repository, `npm run build` first).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const commands = {
  serve: { module: 'dist/cli.js', summary: 'run the backend in production (needs encryption key and JWT keys)' },
  dev: { module: 'dist/dev-cli.js', summary: 'run the backend on your machine: dev <module> reloads it on change and prints each run' },
  keygen: { summary: 'print a new PLUGBOARD_ENCRYPTION_KEY' },
  runner: { module: 'dist/runtime/runner-main.js', summary: 'run flow executions from the job queue (PostgreSQL; any number of them)' },
};

const help = `Usage: plugboard <command>

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`)
  .join('\n')}

Configuration comes from environment variables; see the README (PORT, PUBLIC_URL, DATABASE_URL,
PLUGBOARD_ENCRYPTION_KEY, PLUGBOARD_JWT_KEYS or PLUGBOARD_JWKS_URL, PLUGBOARD_JWT_ISSUER,
PLUGBOARD_JWT_AUDIENCE, PLUGBOARD_ALLOWED_ORIGINS, PLUGBOARD_INTEGRATIONS, LOG_LEVEL, ...).
The demo is not part of this package: in the repository, \`npm install && npm start\`.
`;

const [name] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h' || name === 'help') {
  process.stdout.write(help);
  process.exit(name ? 0 : 1);
}
if (name === 'keygen') {
  const { randomBytes } = await import('node:crypto');
  process.stdout.write(`${randomBytes(32).toString('base64url')}\n`);
  process.exit(0);
}
const command = commands[name];
if (!command || !command.module) {
  process.stderr.write(command ? `plugboard ${name}: not available yet\n` : `plugboard: unknown command "${name}"\n\n${help}`);
  process.exit(1);
}
const target = join(root, command.module);
if (!existsSync(target)) {
  process.stderr.write(`plugboard ${name}: ${command.module} is missing; run \`npm run build\` first\n`);
  process.exit(1);
}
await import(pathToFileURL(target).href);
