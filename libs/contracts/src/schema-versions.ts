import { type JsonObject } from '@bufbuild/protobuf';
import { type EventEnvelope } from './gen/vigil/v1/envelope_pb.js';

// Published shapes carry the version they were written with. Proto evolution is additive (new fields, new enum
// values, `reserved` for removed ones), so most changes need no new version: an old document still parses. A
// version is bumped only when the meaning of existing data changes; then an upcaster that rewrites version N into
// N+1 is added to the tables below, and readers chain them up to the current version. Writers always write the
// current version. The tables are plain data, read by the functions here; nothing registers itself on import.

export const SCHEMA_VERSIONS = {
  'vigil.v1.ScanReport': 1,
  'vigil.v1.HostReport': 1,
  'vigil.v1.ComplianceReport': 1,
  'vigil.v1.SnapshotList': 1,
  'vigil.v1.SnapshotDiff': 1,
} as const satisfies Record<string, number>;

export type ReportTypeName = keyof typeof SCHEMA_VERSIONS;

export type PayloadCase = NonNullable<EventEnvelope['payload']['case']>;

// The envelope's schema_version is the version of its payload's shape.
export const EVENT_SCHEMA_VERSIONS = {
  scanRequested: 1,
  scanStarted: 1,
  scanCompleted: 1,
  findingReported: 1,
  inventoryObserved: 1,
  exceptionRecorded: 1,
  exceptionRevoked: 1,
  snapshotPublished: 1,
  deadLettered: 1,
  detectionClosed: 1,
  snapshotRequested: 1,
  requirementAttested: 1,
  attestationRevoked: 1,
  sensorSeen: 1,
} as const satisfies Record<PayloadCase, number>;

/** Rewrites a report's proto3 JSON (proto enum names, not plain words) from version N to N+1. */
export type ReportUpcaster = (json: JsonObject) => JsonObject;
/** Rewrites a decoded event from version N to N+1 of its payload. */
export type EventUpcaster = (envelope: EventEnvelope) => EventEnvelope;

// Keyed by type name, then by the version the upcaster reads. Empty while every shape is at version 1.
export const REPORT_UPCASTERS: Readonly<Record<string, Readonly<Record<number, ReportUpcaster>>>> = {};
export const EVENT_UPCASTERS: Readonly<
  Partial<Record<PayloadCase, Readonly<Record<number, EventUpcaster>>>>
> = {};

export function isReportTypeName(typeName: string): typeName is ReportTypeName {
  return Object.prototype.hasOwnProperty.call(SCHEMA_VERSIONS, typeName);
}

/** The version table and upcasters `upcast` reads; a parameter only so the chaining itself can be tested. */
export interface ReportUpcastTables {
  readonly versions: Readonly<Record<string, number>>;
  readonly upcasters: Readonly<Record<string, Readonly<Record<number, ReportUpcaster>>>>;
}

const reportTables: ReportUpcastTables = { versions: SCHEMA_VERSIONS, upcasters: REPORT_UPCASTERS };

/**
 * Brings a report's JSON up to the current schema version of its type. Throws when the version is missing, newer
 * than this build, or has no upcaster chain. Types without a schema version pass through unchanged.
 */
export function upcast(
  typeName: string,
  json: JsonObject,
  tables: ReportUpcastTables = reportTables,
): JsonObject {
  const current = tables.versions[typeName];
  if (current === undefined) return json;
  const declared = readableSchemaVersion(typeName, json, tables);
  let out = json;
  for (let v = declared; v < current; v++) {
    const step = tables.upcasters[typeName]?.[v];
    if (!step) throw new Error(`${typeName}: no upcaster from schemaVersion ${v} to ${v + 1}`);
    out = { ...step(out), schemaVersion: v + 1 };
  }
  return out;
}

/** The schemaVersion a report's JSON declares, if this build can read it; throws naming the problem otherwise. */
export function readableSchemaVersion(
  typeName: string,
  json: JsonObject,
  tables: ReportUpcastTables = reportTables,
): number {
  const current = tables.versions[typeName];
  if (current === undefined) throw new Error(`${typeName} is not a published report type`);
  const declared = json['schemaVersion'];
  if (typeof declared !== 'number' || !Number.isInteger(declared) || declared < 1) {
    throw new Error(
      `${typeName}: schemaVersion must be a positive integer, got ${JSON.stringify(declared ?? null)}`,
    );
  }
  if (declared > current) {
    throw new Error(`${typeName}: schemaVersion ${declared} is newer than this build reads (${current})`);
  }
  return declared;
}

/** Brings a decoded event up to the current version of its payload type (same rules as upcast). */
export function upcastEvent(envelope: EventEnvelope): EventEnvelope {
  const kind = envelope.payload.case;
  if (kind === undefined) return envelope;
  const current = EVENT_SCHEMA_VERSIONS[kind];
  if (envelope.schemaVersion > current) {
    throw new Error(
      `event ${envelope.eventId}: ${envelope.eventType} schema version ${envelope.schemaVersion} is newer than this build reads (${current})`,
    );
  }
  let out = envelope;
  for (let v = envelope.schemaVersion; v < current; v++) {
    const step = EVENT_UPCASTERS[kind]?.[v];
    if (!step)
      throw new Error(
        `event ${envelope.eventId}: no upcaster for ${envelope.eventType} from version ${v} to ${v + 1}`,
      );
    out = step(out);
    out.schemaVersion = v + 1;
  }
  return out;
}
