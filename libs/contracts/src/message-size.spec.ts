import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { AssetKind } from './gen/vigil/v1/common_pb.js';
import { FindingSchema, FindingSource, MatchType, Severity } from './gen/vigil/v1/finding_pb.js';
import { ScanStatus, ScannerKind } from './gen/vigil/v1/scan_pb.js';
import { encodeEnvelope, newEnvelope } from './envelope.js';
import { findingId } from './finding-id.js';

// Kafka's default max.message.bytes; an event must stay far below it (large artifacts are blobs).
const KAFKA_DEFAULT_MAX_MESSAGE = 1024 * 1024;

// A real advisory (Ubuntu USN-5328-1, OpenSSL CVE-2022-0778), read in place from the shared corpus. Tests run from
// libs/contracts/dist, so the repository root is three levels up and ../shared sits beside it.
const recordPath = fileURLToPath(
  new URL('../../../../shared/corpus/image/advisories/records/USN-5328-1.json', import.meta.url),
);

interface OsvRecord {
  id: string;
  summary: string;
  details: string;
  aliases: string[];
  published: string;
  references: Array<{ url: string }>;
  affected: Array<{
    package: { ecosystem: string; name: string };
    ranges: Array<{ events: Array<{ fixed?: string }> }>;
    database_specific?: {
      cves_map?: { cves: Array<{ id: string; severity: Array<{ type: string; score: string }> }> };
    };
  }>;
}

test('a realistic finding in an envelope, and a scan completion listing 5,000 findings, stay far below 1 MB', (t) => {
  const record = JSON.parse(readFileSync(recordPath, 'utf8')) as OsvRecord;
  const affected = record.affected.find(
    (a) => a.package.ecosystem === 'Ubuntu:18.04:LTS' && a.package.name === 'openssl',
  );
  assert.ok(affected, 'USN-5328-1 lists openssl on Ubuntu 18.04');
  const cve = affected.database_specific?.cves_map?.cves[0];
  assert.equal(cve?.id, 'CVE-2022-0778');
  const vector = cve.severity.find((s) => s.type === 'CVSS_V3')?.score ?? '';
  const fixed = affected.ranges.flatMap((r) => r.events).find((e) => e.fixed)?.fixed ?? '';
  assert.equal(fixed, '1.1.1-1ubuntu2.1~18.04.15');

  // The image is a test fixture of ours; the package version is the last affected one the record lists.
  const asset = {
    kind: AssetKind.IMAGE,
    cluster: 'default',
    imageRef: 'registry.example/payments/api:1.4.2',
    imageDigest: 'sha256:' + '4'.repeat(64),
  };
  const location = 'pkg:deb/ubuntu/libssl1.1?arch=amd64&distro=bionic';
  const seen = timestampFromDate(new Date(record.published));
  const finding = create(FindingSchema, {
    id: findingId({ source: FindingSource.IMAGE, ruleId: cve.id, asset, location }),
    source: FindingSource.IMAGE,
    ruleId: cve.id,
    aliases: [record.id, ...record.aliases],
    title: record.summary,
    description: record.details,
    severity: Severity.HIGH,
    // 7.5 is the CVSS 3.1 base score of that vector (AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H), by the spec's formula.
    cvss: { version: '3.1', vector, score: 7.5, source: 'ubuntu' },
    pciRequirements: ['6.3.3', '11.3.1'],
    asset,
    package: {
      ecosystem: 'deb',
      name: 'libssl1.1',
      version: '1.1.1-1ubuntu2.1~18.04.14',
      purl: 'pkg:deb/ubuntu/libssl1.1@1.1.1-1ubuntu2.1~18.04.14?arch=amd64&distro=bionic',
      sourceName: 'openssl',
      sourceVersion: '1.1.1-1ubuntu2.1~18.04.14',
      fixedVersion: fixed,
    },
    locations: [location, '/var/lib/dpkg/status'],
    remediation: {
      summary: `Upgrade openssl (libssl1.1) to ${fixed} or later`,
      patch: `apt-get install --only-upgrade libssl1.1=${fixed}`,
    },
    evidence: [
      { key: 'installed', value: '1.1.1-1ubuntu2.1~18.04.14' },
      { key: 'layer', value: 'sha256:' + '5'.repeat(64) },
    ],
    firstSeen: seen,
    lastSeen: seen,
    detection: {
      matchType: MatchType.SOURCE_PACKAGE,
      unit: { id: 'dpkg-matcher', version: 1 },
      record: `ubuntu:${record.id}`,
      matchedRange: `< ${fixed}`,
    },
    references: record.references.map((r) => r.url),
  });
  const producer = { service: 'image-scanner', version: '0.1.0', instance: 'image-scanner-0' };
  const scope = { cluster: 'default' };
  const reported = encodeEnvelope(
    newEnvelope({
      payload: { case: 'findingReported', value: { scanId: 'scan-1', finding } },
      scope,
      subjectKey: asset.imageRef,
      producer,
    }),
  );
  assert.ok(reported.byteLength > 1000, `the finding carries its text (${reported.byteLength} bytes)`);
  assert.ok(reported.byteLength < 8 * 1024, `a finding event is ${reported.byteLength} bytes`);

  const findingIds = Array.from({ length: 5000 }, (_, i) =>
    findingId({ source: FindingSource.IMAGE, ruleId: `CVE-2024-${10000 + i}`, asset, location }),
  );
  const completed = encodeEnvelope(
    newEnvelope({
      payload: {
        case: 'scanCompleted',
        value: {
          scanId: 'scan-1',
          scanner: ScannerKind.IMAGE,
          scope,
          targetKey: asset.imageRef,
          status: ScanStatus.OK,
          findingIds,
        },
      },
      scope,
      subjectKey: 'scan-1',
      producer,
    }),
  );
  t.diagnostic(
    `finding event ${reported.byteLength} bytes; scan completed with 5,000 ids ${completed.byteLength} bytes`,
  );
  assert.ok(
    completed.byteLength < KAFKA_DEFAULT_MAX_MESSAGE / 4,
    `5,000 finding ids take ${completed.byteLength} bytes`,
  );
});
