import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findingFromOsv } from './corpus.spec-helper.js';
import { exceedsThreshold, parseSeverityThreshold, severityRank } from './index.js';

const at = {
  cluster: 'prod',
  namespace: 'payments',
  workload: 'payment-api',
  location: 'app/node_modules/qs/package.json',
};
const qs = findingFromOsv('GHSA-hrpp-h998-j3pp', { ...at, version: '6.10.1' }); // HIGH
const jquery = findingFromOsv('GHSA-gxr4-xjj5-5px2', { ...at, version: '3.4.1' }); // MODERATE → MEDIUM
const removeDirAll = findingFromOsv('GHSA-mc8h-8q98-g5hr', { ...at, version: '0.7.0' }); // LOW

describe('severity threshold', () => {
  it('parses --fail-on values case-insensitively', () => {
    assert.equal(parseSeverityThreshold('high'), 'HIGH');
    assert.equal(parseSeverityThreshold(' Critical '), 'CRITICAL');
    assert.equal(parseSeverityThreshold('UNKNOWN'), 'UNKNOWN');
  });

  it('rejects other words naming the value and the allowed ones', () => {
    assert.throws(() => parseSeverityThreshold('severe'), {
      message: 'invalid severity threshold "severe" (allowed: critical, high, medium, low, unknown)',
    });
    assert.throws(() => parseSeverityThreshold(''), /invalid severity threshold ""/);
  });

  it('fails at or above the threshold only', () => {
    assert.equal(qs.severity, 'HIGH');
    assert.equal(jquery.severity, 'MEDIUM');
    assert.equal(removeDirAll.severity, 'LOW');
    const all = [qs, jquery, removeDirAll];
    assert.equal(exceedsThreshold(all, 'CRITICAL'), false);
    assert.equal(exceedsThreshold(all, 'HIGH'), true);
    assert.equal(exceedsThreshold([jquery, removeDirAll], 'HIGH'), false);
    assert.equal(exceedsThreshold([jquery, removeDirAll], 'MEDIUM'), true);
    assert.equal(exceedsThreshold([], 'UNKNOWN'), false);
    const unknown = { ...removeDirAll, severity: 'UNKNOWN' };
    assert.equal(exceedsThreshold([unknown], 'LOW'), false);
    assert.equal(exceedsThreshold([unknown], 'UNKNOWN'), true);
  });

  it('names the finding whose severity is not a severity', () => {
    assert.throws(() => severityRank({ id: 'f-1', severity: 'MODERATE' }), {
      message: 'finding f-1: unknown severity "MODERATE" (expected CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN)',
    });
    assert.equal(severityRank({ id: 'f-2', severity: 'high' }), 4);
  });
});
