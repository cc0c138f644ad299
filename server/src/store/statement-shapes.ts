// The hottest writes (a status toggle's update and its audit insert, the group commit's savepoints)
// run thousands of times a second with the same shape: Kysely builds and compiles each shape once
// (per dialect), and later calls only put their values where the first compile put its parameters.
// Building and compiling was ~25 µs of a toggle; the SQL is still Kysely's, never written by hand.
import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';

/** Where a compiled parameter comes from: a named value of the call, or a constant of the shape. */
type Slot = { name: string } | { value: unknown };

interface Template {
  sql: string;
  query: CompiledQuery['query'];
  slots: readonly Slot[];
}

// Unique strings no caller's value starts with: they mark where each named value went.
const MARK = '\u0000plugboard-statement-shape:';
const SHARED_QUERY_ID = { queryId: 'plugboard-statement-shape' };

/**
 * A statement shape: `build` gets placeholders for `values` (only passed through to Kysely as
 * values, never looked at) and returns the query; `execute` runs it with real values. Compiled on
 * first use per dialect (SQLite and PostgreSQL differ in placeholders and quoting).
 */
export class StatementShape<DB, Values extends Record<string, unknown>, Row = unknown> {
  // Keyed by the executor's adapter: a Kysely and its transactions share it, another dialect has its own.
  private readonly templates = new WeakMap<object, Template>();

  constructor(
    private readonly names: readonly (keyof Values & string)[],
    private readonly build: (db: Kysely<DB>, values: Values) => Compilable<Row>,
  ) {}

  /** Runs the statement on `db` (a Kysely or a transaction) with these values. */
  execute(db: Kysely<DB>, values: Values): Promise<QueryResult<Row>> {
    const executor = db.getExecutor();
    // A plugin may rewrite a query per call (its queryId): compile every time then, as Kysely would.
    if (executor.plugins.length > 0) return db.executeQuery(this.build(db, values));
    let template = this.templates.get(executor.adapter);
    if (!template) {
      template = this.compile(db);
      this.templates.set(executor.adapter, template);
    }
    const parameters = template.slots.map((slot) => ('name' in slot ? values[slot.name] : slot.value));
    // No plugin reads the queryId (none is installed): one constant id serves every call.
    return db.executeQuery<Row>({ sql: template.sql, query: template.query, parameters, queryId: SHARED_QUERY_ID });
  }

  private compile(db: Kysely<DB>): Template {
    const marks = Object.fromEntries(this.names.map((name) => [name, `${MARK}${name}`])) as unknown as Values;
    const compiled = this.build(db, marks).compile();
    const slots = compiled.parameters.map((parameter): Slot => {
      if (typeof parameter === 'string' && parameter.startsWith(MARK)) return { name: parameter.slice(MARK.length) };
      return { value: parameter };
    });
    const used = new Set(slots.flatMap((slot) => ('name' in slot ? [slot.name] : [])));
    // Each value must land in exactly the parameters Kysely made of it: one inlined or transformed would be lost.
    for (const name of this.names) if (!used.has(name)) throw new Error(`statement shape: "${name}" is not a parameter of ${compiled.sql}`);
    return { sql: compiled.sql, query: compiled.query, slots };
  }
}
