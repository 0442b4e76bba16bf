import { FindingSource } from './gen/vigil/v1/finding_pb.js';
import { ScannerKind } from './gen/vigil/v1/scan_pb.js';
import { type EventEnvelope } from './gen/vigil/v1/envelope_pb.js';

// One topic per fact family (ARCHITECTURE.md "Events"). Names are lowercase and dotted and never change once
// published; adding a topic is fine, renaming one is a migration.
export const TOPICS = {
  scanRequests: {
    image: 'scan.requests.image',
    config: 'scan.requests.config',
    runtime: 'scan.requests.runtime',
    host: 'scan.requests.host',
  },
  findings: {
    image: 'findings.image',
    config: 'findings.config',
    runtime: 'findings.runtime',
    host: 'findings.host',
    correlated: 'findings.correlated',
  },
  inventory: 'inventory',
  sensors: 'sensors',
  scans: 'scans',
  exceptions: 'exceptions',
  snapshots: 'snapshots',
  deadLetter: 'dead-letter',
} as const;

export type TopicName =
  | (typeof TOPICS.scanRequests)[keyof typeof TOPICS.scanRequests]
  | (typeof TOPICS.findings)[keyof typeof TOPICS.findings]
  | typeof TOPICS.inventory
  | typeof TOPICS.sensors
  | typeof TOPICS.scans
  | typeof TOPICS.exceptions
  | typeof TOPICS.snapshots
  | typeof TOPICS.deadLetter;

// Scanners scale as consumer groups over the scan-request partitions; findings and inventory are keyed by asset and
// spread the same way. Exceptions and snapshots are low volume and keep one global order on a single partition.
// The scans topic carries the completions a snapshot waits for; three partitions keep order per scan id.
const PARTITIONS = {
  'scan.requests.image': 6,
  'scan.requests.config': 6,
  'scan.requests.runtime': 6,
  'scan.requests.host': 6,
  'findings.image': 6,
  'findings.config': 6,
  'findings.runtime': 6,
  'findings.host': 6,
  'findings.correlated': 6,
  inventory: 6,
  sensors: 6,
  scans: 3,
  exceptions: 1,
  snapshots: 1,
  'dead-letter': 1,
} as const satisfies Record<TopicName, number>;

export const TOPIC_PARTITIONS: Readonly<Record<string, number>> = PARTITIONS;

export interface TopicSpec {
  readonly name: TopicName;
  readonly partitions: number;
}

export const ALL_TOPICS: readonly TopicSpec[] = (Object.keys(PARTITIONS) as TopicName[]).map((name) => ({
  name,
  partitions: PARTITIONS[name],
}));

export function scanRequestTopic(scanner: ScannerKind): TopicName {
  switch (scanner) {
    case ScannerKind.IMAGE:
      return TOPICS.scanRequests.image;
    case ScannerKind.CONFIG:
      return TOPICS.scanRequests.config;
    case ScannerKind.RUNTIME:
      return TOPICS.scanRequests.runtime;
    case ScannerKind.HOST:
      return TOPICS.scanRequests.host;
    default:
      throw new Error(
        `scanRequestTopic: scanner ${String(scanner)} has no scan-request topic (expected image, config, runtime or host)`,
      );
  }
}

export function findingsTopic(source: FindingSource): TopicName {
  switch (source) {
    case FindingSource.IMAGE:
      return TOPICS.findings.image;
    case FindingSource.CONFIG:
      return TOPICS.findings.config;
    case FindingSource.RUNTIME:
      return TOPICS.findings.runtime;
    case FindingSource.HOST:
      return TOPICS.findings.host;
    case FindingSource.CORRELATED:
      return TOPICS.findings.correlated;
    default:
      throw new Error(
        `findingsTopic: finding source ${String(source)} has no topic (expected image, config, runtime, host or correlated)`,
      );
  }
}

// The topic an event belongs on, from its payload: producers never pick a topic by hand.
export function topicFor(envelope: EventEnvelope): TopicName {
  const p = envelope.payload;
  switch (p.case) {
    case 'scanRequested':
      return scanRequestTopic(p.value.scanner);
    case 'scanStarted':
    case 'scanCompleted':
      return TOPICS.scans;
    case 'findingReported': {
      if (!p.value.finding) throw new Error(`topicFor: event ${envelope.eventId} reports no finding`);
      return findingsTopic(p.value.finding.source);
    }
    // Only runtime detections have a window to close.
    case 'detectionClosed':
      return TOPICS.findings.runtime;
    case 'inventoryObserved':
      return TOPICS.inventory;
    case 'sensorSeen':
      return TOPICS.sensors;
    case 'exceptionRecorded':
    case 'exceptionRevoked':
    case 'requirementAttested':
    case 'attestationRevoked':
      return TOPICS.exceptions;
    case 'snapshotPublished':
    case 'snapshotRequested':
      return TOPICS.snapshots;
    case 'deadLettered':
      return TOPICS.deadLetter;
    default:
      throw new Error(`topicFor: event ${envelope.eventId} has no payload`);
  }
}
