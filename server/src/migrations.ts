// Every subsystem's migrations (the core ones are always added by openStore). Every process that
// opens the store (serve, runner, demo, tests) passes this one list: Kysely's migrator refuses a
// database that holds migrations it was not given, so a process knowing fewer would fail to start.
import type { Migration } from 'kysely';
import { oauthMigrations } from './oauth/migrations.js';
import { runtimeMigrations } from './runtime/schema.js';

export const allMigrations: Record<string, Migration> = { ...oauthMigrations, ...runtimeMigrations };
