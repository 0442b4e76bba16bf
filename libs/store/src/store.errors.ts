// Errors callers branch on; kept apart from the repositories so importing them does not load TypeORM.

/** A blob's bytes no longer hash to the digest they are stored under. */
export class BlobIntegrityError extends Error {
  constructor(
    readonly digest: string,
    readonly actual: string,
  ) {
    super(`blob ${digest} is corrupt: its content hashes to ${actual}`);
    this.name = 'BlobIntegrityError';
  }
}

/** insertSnapshot was asked for a version or previous hash that does not extend the scope's chain. */
export class SnapshotConflictError extends Error {
  constructor(
    readonly scope: string,
    readonly version: number,
    readonly expectedVersion: number,
    detail: string,
  ) {
    super(`snapshot ${version} of scope "${scope}" rejected: ${detail}`);
    this.name = 'SnapshotConflictError';
  }
}
