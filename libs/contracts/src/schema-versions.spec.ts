import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type JsonObject } from '@bufbuild/protobuf';
import { SCHEMA_VERSIONS, upcast, type ReportUpcastTables } from './schema-versions.js';

test('every published report type is at version 1 and v1 documents pass through unchanged', () => {
  assert.deepEqual(Object.keys(SCHEMA_VERSIONS).sort(), [
    'vigil.v1.ComplianceReport',
    'vigil.v1.HostReport',
    'vigil.v1.ScanReport',
    'vigil.v1.SnapshotDiff',
    'vigil.v1.SnapshotList',
  ]);
  const doc = { schemaVersion: 1, scanId: 's' };
  assert.equal(upcast('vigil.v1.ScanReport', doc), doc);
  // Messages that are not published reports have no version to check.
  assert.equal(upcast('vigil.v1.Finding', { id: 'x' }).id, 'x');
});

test('upcast chains one step per version and stamps each step', () => {
  // A hypothetical history: v2 renamed "hostName" to "node", v3 split "when" into startedAt/completedAt.
  const tables: ReportUpcastTables = {
    versions: { 'vigil.v1.HostReport': 3 },
    upcasters: {
      'vigil.v1.HostReport': {
        1: ({ hostName, ...rest }: JsonObject) => ({ ...rest, node: hostName ?? '' }),
        2: ({ when, ...rest }: JsonObject) => ({
          ...rest,
          startedAt: when ?? null,
          completedAt: when ?? null,
        }),
      },
    },
  };
  assert.deepEqual(
    upcast(
      'vigil.v1.HostReport',
      { schemaVersion: 1, hostName: 'worker-1', when: '2026-03-01T10:00:00Z' },
      tables,
    ),
    {
      schemaVersion: 3,
      node: 'worker-1',
      startedAt: '2026-03-01T10:00:00Z',
      completedAt: '2026-03-01T10:00:00Z',
    },
  );
  assert.deepEqual(upcast('vigil.v1.HostReport', { schemaVersion: 2, node: 'n', when: 'w' }, tables), {
    schemaVersion: 3,
    node: 'n',
    startedAt: 'w',
    completedAt: 'w',
  });
  const gap: ReportUpcastTables = { versions: { 'vigil.v1.HostReport': 2 }, upcasters: {} };
  assert.throws(
    () => upcast('vigil.v1.HostReport', { schemaVersion: 1 }, gap),
    /no upcaster from schemaVersion 1 to 2/,
  );
  assert.throws(
    () => upcast('vigil.v1.HostReport', { schemaVersion: 4 }, tables),
    /schemaVersion 4 is newer than this build reads \(3\)/,
  );
  assert.throws(
    () => upcast('vigil.v1.HostReport', { schemaVersion: '1' }, tables),
    /schemaVersion must be a positive integer, got "1"/,
  );
});
