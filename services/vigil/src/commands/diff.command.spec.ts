// The text both `vigil diff` and `vigil report --diff` print, from a real diff of two reports: statuses as words.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ComplianceReportSchema,
  FindingSchema,
  FindingSource,
  RequirementStatus,
  Severity,
  create,
} from '@vigil/contracts';
import { diffSnapshots } from '@vigil/report';
import { diffText } from './diff.command.js';

const scope = { tenant: '', cluster: 'prod' };
const privileged = create(FindingSchema, {
  id: 'config-5f0e1b7c2a9d4e3f8b6a1c0d2e4f6a8b',
  source: FindingSource.CONFIG,
  ruleId: 'k8s/privileged',
  title: 'Deployment/payments/tokenizer runs a privileged container',
  severity: Severity.HIGH,
  pciRequirements: ['2.2.1'],
});

test('diffText names statuses in words and lists the resolved finding', () => {
  const before = create(ComplianceReportSchema, {
    scope,
    snapshotVersion: 1,
    contentHash: 'sha256:' + 'a'.repeat(64),
    requirements: [
      { id: '2.2.1', status: RequirementStatus.NOT_IN_PLACE, findingIds: [privileged.id] },
      { id: '10.2.1', status: RequirementStatus.NOT_TESTED },
    ],
    findings: [privileged],
  });
  const after = create(ComplianceReportSchema, {
    scope,
    snapshotVersion: 3,
    contentHash: 'sha256:' + 'b'.repeat(64),
    previousHash: 'sha256:' + 'a'.repeat(64),
    requirements: [
      { id: '2.2.1', status: RequirementStatus.IN_PLACE },
      { id: '10.2.1', status: RequirementStatus.NOT_TESTED },
    ],
  });
  const text = diffText(diffSnapshots(before, after), 'prod', 1, 3);
  assert.deepEqual(text.split('\n'), [
    'scope prod, version 1 → 3: 0 added, 1 resolved, 0 changed finding(s); 1 requirement status change(s)',
    `  - ${privileged.id}  k8s/privileged  Deployment/payments/tokenizer runs a privileged container`,
    '  requirement 2.2.1: not_in_place → in_place',
  ]);
});
