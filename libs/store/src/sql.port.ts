// A narrow SQL port over pg for the code outside libs/store that needs raw SQL (the embedded event log).
// Only libs/store imports pg; everyone else sees these types.

export interface SqlResult<R> {
  rows: R[];
  rowCount: number;
}

export interface SqlQueryable {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<SqlResult<R>>;
}

export interface Sql extends SqlQueryable {
  /** Runs fn in one transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws. */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  /**
   * LISTEN on a channel over a dedicated connection; the returned function UNLISTENs and releases it.
   * The connection is not re-established when lost: onError (else the Sql's onError) gets a clear error and
   * notifications stop, so the caller decides whether to listen again.
   */
  listen(
    channel: string,
    onNotify: (payload: string) => void,
    onError?: (err: Error) => void,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
