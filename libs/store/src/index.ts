// @vigil/store: the only package that imports typeorm and pg. Everything it exports is plain TypeScript; TypeORM
// types stay inside. The reporting store loads TypeORM lazily (see reporting-store.open.ts).
export type { Sql, SqlQueryable, SqlResult } from './sql.port.js';
export { createSql, DatabaseConnectionError, isConnectionError, type SqlOptions } from './pg-sql.adapter.js';
export { createDatabase, dropDatabase, pingDatabase, waitForDatabase } from './database-admin.js';
export { redactUrl, withDatabase, databaseName } from './database-url.js';
export {
  runMigrations,
  migrationStatus,
  type MigrationStatus,
  type AppliedMigration,
} from './migrations.runner.js';
export {
  startEmbeddedPostgres,
  type EmbeddedPostgres,
  type EmbeddedPostgresOptions,
} from './embedded-postgres.js';
export {
  openReportingStore,
  type ReportingStore,
  type ReportingReader,
  type ReportingTransaction,
  type ReportingStoreOptions,
} from './reporting-store.open.js';
export { BlobIntegrityError, SnapshotConflictError } from './store.errors.js';
export { blobDigest } from './blob-digest.js';
export * from './reporting.types.js';
export { putBlob } from './blob-writer.js';
export {
  createAdvisoryStore,
  PostgresAdvisoryStore,
  type PgAdvisoryStore,
  type AdvisoryImportRow,
  type AdvisoryImportOptions,
  type AdvisoryImportResult,
  type AdvisoryKeyRow,
  type AdvisoryImportKey,
  type AdvisorySourceRow,
  type AdvisoryDbInfoRow,
  type AdvisoryCandidateRow,
} from './advisory.store.js';
export {
  createTokenStore,
  hashToken,
  checkTokenInput,
  isTokenRole,
  TOKEN_ROLES,
  ALL_CLUSTERS,
  type TokenStore,
  type StoredToken,
  type NewToken,
  type MintedToken,
  type TokenRole,
} from './tokens.store.js';
