// The migration list, append-only and in order: a committed entry is never edited, reordered or removed.
// Explicit rather than a glob, so which migrations ship is a reviewed code change (and ESM output has no
// directory TypeORM could reliably scan). The migration files import TypeORM types only, so this list is light.
import { ReportingStore1764752400000 } from './1764752400000-reporting-store.js';
import { SnapshotScanId1764763200000 } from './1764763200000-snapshot-scan-id.js';
import { AdvisoryDb1764813600000 } from './1764813600000-advisory-db.js';
import { ApiTokens1764914400000 } from './1764914400000-api-tokens.js';
import { FindingPriority1765000000000 } from './1765000000000-finding-priority.js';
import { AdvisoryVersionKeys1765100000000 } from './1765100000000-advisory-version-keys.js';
import { FindingPrincipals1765200000000 } from './1765200000000-finding-principals.js';
import { SnapshotChunks1765400000000 } from './1765400000000-snapshot-chunks.js';
import { AdvisoryMatchEntries1765600000000 } from './1765600000000-advisory-match-entries.js';

export const MIGRATIONS = [
  ReportingStore1764752400000,
  SnapshotScanId1764763200000,
  AdvisoryDb1764813600000,
  ApiTokens1764914400000,
  FindingPriority1765000000000,
  AdvisoryVersionKeys1765100000000,
  FindingPrincipals1765200000000,
  SnapshotChunks1765400000000,
  AdvisoryMatchEntries1765600000000,
];

export const MIGRATIONS_TABLE = 'schema_migrations';
