import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FindingSchema, FindingSource, Severity, create } from '@vigil/contracts';
import { compareFindings, findingFromMessage, principalOf } from './api-data.js';
import { FindingStatusWord } from './models.js';

const finding = (id: string, severity: Severity, priority?: string) =>
  findingFromMessage(
    create(FindingSchema, {
      id,
      source: priority ? FindingSource.CORRELATED : FindingSource.IMAGE,
      ruleId: 'CVE-2024-0727',
      severity,
      evidence: priority ? [{ key: 'priority', value: priority }] : [],
    }),
    FindingStatusWord.open,
  );

describe('finding order', () => {
  it('puts scored findings first by score, then the rest by severity, then by id', () => {
    const list = [
      finding('f-low', Severity.LOW),
      finding('f-crit-b', Severity.CRITICAL),
      finding('c-20', Severity.MEDIUM, '20'),
      finding('f-crit-a', Severity.CRITICAL),
      finding('c-85', Severity.HIGH, '85'),
      finding('f-unset', Severity.UNSPECIFIED),
    ];
    assert.deepEqual(
      list.sort(compareFindings).map((f) => [f.id, f.priority, f.severity]),
      [
        ['c-85', 85, 'HIGH'],
        ['c-20', 20, 'MEDIUM'],
        ['f-crit-a', null, 'CRITICAL'],
        ['f-crit-b', null, 'CRITICAL'],
        ['f-low', null, 'LOW'],
        ['f-unset', null, 'UNKNOWN'],
      ],
    );
  });

  it('ignores a priority entry that is not a number', () => {
    assert.equal(finding('c-x', Severity.HIGH, 'high').priority, null);
  });

  it('files requirements under their principal requirement or appendix', () => {
    assert.deepEqual(['6.3.1', '12.10.1', 'A1.1.1', 'A3.2.5.1'].map(principalOf), ['6', '12', 'A1', 'A3']);
  });
});
