/**
 * Minimal typings for better-sqlite3@12 (the package ships none and @types/better-sqlite3 is
 * not installed). Only the surface this project uses; rows come back as `unknown` so every
 * caller validates or narrows what it reads (validation at the edges).
 */
declare module "better-sqlite3" {
  type BindValue = number | bigint | string | Buffer | null;
  /** positional values, or one object for named parameters (@name) */
  type BindArg = BindValue | Readonly<Record<string, BindValue>>;

  interface RunResult {
    changes: number;
    lastInsertRowid: number | bigint;
  }

  interface Statement {
    run(...params: BindArg[]): RunResult;
    get(...params: BindArg[]): unknown;
    all(...params: BindArg[]): unknown[];
    iterate(...params: BindArg[]): IterableIterator<unknown>;
    /** return only the first column of each row */
    pluck(toggle?: boolean): this;
    /** return rows as arrays instead of objects */
    raw(toggle?: boolean): this;
    readonly reader: boolean;
  }

  interface Options {
    readonly?: boolean;
    fileMustExist?: boolean;
    /** busy timeout in ms */
    timeout?: number;
    /** the addon to use: a path, or the object process.dlopen loaded (single executable) */
    nativeBinding?: string | object;
  }

  interface Transaction<A extends unknown[], R> {
    (...args: A): R;
    immediate(...args: A): R;
  }

  class Database {
    constructor(filename: string, options?: Options);
    readonly open: boolean;
    readonly inTransaction: boolean;
    readonly name: string;
    prepare(sql: string): Statement;
    exec(sql: string): this;
    pragma(source: string, options?: { simple?: boolean }): unknown;
    transaction<A extends unknown[], R>(fn: (...args: A) => R): Transaction<A, R>;
    close(): this;
  }

  export default Database;
  export type { BindArg, BindValue, Database, Options, RunResult, Statement };
}
