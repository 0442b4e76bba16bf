// The plain shapes that cross the libs/store boundary. Payload columns hold binary protobuf messages from
// @vigil/contracts; the store never decodes them, so its schema does not change when a message gains a field.

export interface StoredBlob {
  /** `sha256:<64 hex>` of content. */
  digest: string;
  mediaType: string;
  size: number;
  content: Uint8Array;
  createdAt: Date;
}

export interface NewEvent {
  eventId: string;
  eventType: string;
  topic: string;
  partition: number;
  /** Decimal string, as the event log reports it (Kafka offsets are int64). */
  logOffset: string;
  /** The cluster the event belongs to. */
  scope: string;
  subjectKey: string;
  occurredAt: Date;
  /** The binary EventEnvelope as read from the log. */
  payload: Uint8Array;
}

export interface StoredEvent extends NewEvent {
  recordedAt: Date;
}

export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] as const;
export type StoredSeverity = (typeof SEVERITIES)[number];
export type FindingStatus = 'open' | 'resolved';

export interface StoredFinding {
  scope: string;
  findingId: string;
  source: string;
  ruleId: string;
  severity: StoredSeverity;
  /** Scanner and target key of the scan that last saw the finding: only a later scan of both resolves it. */
  scanner: string;
  targetKey: string;
  lastScanId: string | null;
  assetKey: string;
  pciRequirements: string[];
  status: FindingStatus;
  firstSeen: Date;
  lastSeen: Date;
  resolvedAt: Date | null;
  resolvedByScan: string | null;
  /** The correlator's contextual priority (0-100) when it scored the finding; null or absent otherwise. */
  priority?: number | null;
  /** For a correlated finding: the findings it joins. */
  relatedFindingIds?: string[];
  /** The binary Finding message. */
  payload: Uint8Array;
}

/**
 * A finding row to write. Its payload may be where the bytes already are: a slice of a recorded event's payload
 * (the event that reported it), copied by the database so that they do not travel twice.
 */
export interface FindingWrite extends Omit<StoredFinding, 'payload'> {
  payload: Uint8Array | EventSlice;
}

/** Bytes inside the payload of a recorded event: `length` bytes from byte `offset` (0-based). */
export interface EventSlice {
  eventId: string;
  offset: number;
  length: number;
}

export const SCAN_STATUSES = ['requested', 'started', 'completed', 'failed'] as const;
export type ScanStatus = (typeof SCAN_STATUSES)[number];

export interface StoredScan {
  scanId: string;
  scanner: string;
  scope: string;
  targetKey: string;
  status: ScanStatus;
  requestedAt: Date | null;
  completedAt: Date | null;
  /** Every finding id the completed scan saw; null until it completes. */
  findingIds: string[] | null;
  /** The latest binary scan event (scan-completed once there is one). */
  payload: Uint8Array | null;
}

export interface StoredAsset {
  scope: string;
  kind: string;
  key: string;
  payload: Uint8Array;
  updatedAt: Date;
}

export interface StoredException {
  id: string;
  scope: string;
  payload: Uint8Array;
  expiresAt: Date;
  revokedAt: Date | null;
}

/** One entry per (topic, partition): the last offset a snapshot covers. */
export interface LogPositionEntry {
  topic: string;
  partition: number;
  offset: string;
}

export interface NewSnapshot {
  scope: string;
  /** Previous version + 1 (1 for a scope's first snapshot). */
  version: number;
  frameworkVersion: string;
  contentHash: string;
  /** Content hash of version - 1; null for version 1. */
  previousHash: string | null;
  logPosition: LogPositionEntry[];
  content: Uint8Array;
  /** The completed scan whose projection made this version; '' when none did (on request, on a schedule). */
  scanId?: string;
}

export interface StoredSnapshot extends NewSnapshot {
  createdAt: Date;
}

/** How a new version's content was stored: its chunks, and those of them not stored before (with their bytes). */
export interface SnapshotStorage {
  chunks: number;
  newChunks: number;
  newBytes: number;
}

/** A snapshot without its content, for listings. */
export type SnapshotInfo = Omit<StoredSnapshot, 'content'> & { size: number };

/** The findings API's filters, applied in SQL. Absent fields do not filter. */
export interface FindingFilterQuery {
  scope: string;
  status: FindingStatus;
  severities?: readonly StoredSeverity[];
  /** A requirement id ("6.3.1") or a principal requirement ("6", "A1"). */
  requirement?: string;
  source?: string;
  /** An asset key, or a prefix of one ending in "/". */
  asset?: string;
  /** true: correlated findings only; false: none of them. */
  correlated?: boolean;
}

/** One page of the findings matching a filter. */
export interface FindingQuery extends FindingFilterQuery {
  /** Keyset position: the page starts after this finding in priority desc, severity, id order. */
  after?: { priority: number | null; severity: StoredSeverity; findingId: string };
  limit: number;
}

export interface FindingPage {
  rows: StoredFinding[];
  hasMore: boolean;
}
