// Test events built from the corpus's real OSV records (../shared/corpus/image/advisories/records): one image
// finding per (record, affected package), with the record's id, aliases, ecosystem and package name.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  FindingReportedSchema,
  FindingSchema,
  FindingSource,
  ScanCompletedSchema,
  ScannerKind,
  ScanStatus,
  Severity,
  create,
  encodeEnvelope,
  newEnvelope,
  timestampFromDate,
  topicFor,
  type EventEnvelope,
  type Finding,
} from '@vigil/contracts';
import type { EventLog } from '@vigil/event-log';

// Tests run from the package directory; the corpus sits beside the checkout.
export const ADVISORY_RECORDS = join(process.cwd(), '../../../shared/corpus/image/advisories/records');

export interface Advisory {
  readonly id: string;
  readonly aliases: readonly string[];
  readonly ecosystem: string;
  readonly name: string;
}

/** Every (record, affected package name) of the corpus's OSV records, in record file order. */
export function corpusAdvisories(): Advisory[] {
  const out: Advisory[] = [];
  for (const file of readdirSync(ADVISORY_RECORDS)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const r = JSON.parse(readFileSync(join(ADVISORY_RECORDS, file), 'utf8')) as {
      id: string;
      aliases?: string[];
      affected?: { package?: { ecosystem?: string; name?: string } }[];
    };
    for (const a of r.affected ?? []) {
      if (!a.package?.name || !a.package.ecosystem) continue;
      // One finding per package: a record lists a package once per distro release it affects.
      if (out.some((o) => o.id === r.id && o.name === a.package?.name)) continue;
      out.push({ id: r.id, aliases: r.aliases ?? [], ecosystem: a.package.ecosystem, name: a.package.name });
    }
  }
  return out;
}

export interface EventFactory {
  readonly scope: { tenant: string; cluster: string };
  reported(scanId: string, finding: Finding): EventEnvelope;
  completed(scanId: string, targetKey: string, findingIds: string[], status?: ScanStatus): EventEnvelope;
  finding(advisory: Advisory, imageRef: string, copy?: number): Finding;
}

/** Events with a deterministic clock (one second per event from `start`), so occurred-at never ties. */
export function eventFactory(
  scope: { tenant: string; cluster: string },
  start = Date.parse('2026-11-30T10:00:00Z'),
): EventFactory {
  const producer = { service: 'test', version: '0', instance: 'spec' };
  let t = start;
  const clock = () => new Date((t += 1000));
  return {
    scope,
    finding(advisory, imageRef, copy = 0) {
      const ruleId = advisory.aliases.find((a) => a.startsWith('CVE-')) ?? advisory.id;
      return create(FindingSchema, {
        id: `image-${advisory.id}-${advisory.name}-${copy}`.replace(/[^A-Za-z0-9._-]/g, '_'),
        source: FindingSource.IMAGE,
        ruleId,
        title: `${ruleId} in ${advisory.name}`,
        severity: Severity.HIGH,
        pciRequirements: ['6.3.1', '11.3.1'],
        asset: { cluster: scope.cluster, imageRef },
        package: { ecosystem: advisory.ecosystem, name: advisory.name, version: '0.0.1' },
      });
    },
    reported(scanId, finding) {
      return newEnvelope({
        payload: { case: 'findingReported', value: create(FindingReportedSchema, { scanId, finding }) },
        scope,
        subjectKey: finding.id,
        producer,
        clock,
      });
    },
    completed(scanId, targetKey, findingIds, status = ScanStatus.OK) {
      return newEnvelope({
        payload: {
          case: 'scanCompleted',
          value: create(ScanCompletedSchema, {
            scanId,
            scanner: ScannerKind.IMAGE,
            scope,
            targetKey,
            status,
            findingIds,
            startedAt: timestampFromDate(clock()),
            completedAt: timestampFromDate(clock()),
          }),
        },
        scope,
        subjectKey: targetKey,
        producer,
        clock,
      });
    },
  };
}

/** Publishes envelopes on their contract topics, keyed by subject, in chunks. */
export async function publishAll(
  log: EventLog,
  events: readonly EventEnvelope[],
  chunk = 1000,
): Promise<void> {
  for (let i = 0; i < events.length; i += chunk) {
    await log.publish(
      events
        .slice(i, i + chunk)
        .map((e) => ({ topic: topicFor(e), key: e.subjectKey, value: encodeEnvelope(e) })),
    );
  }
}
