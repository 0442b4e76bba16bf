import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FindingSource } from '@vigil/contracts';
import { inferMapping, pciCatalog } from './pci-catalog.adapter.js';
import { misconfig, Severity, vuln } from './events.spec-helper.js';

describe('pciCatalog mapping', () => {
  it('infers the finding type from the ids a finding lists and keeps secondary ids from failing', () => {
    // image.unpatched_critical_over_30_days: primary 6.3.3, secondary 11.3.1 and 6.3.1
    assert.deepEqual(inferMapping(FindingSource.IMAGE, ['6.3.3', '11.3.1', '6.3.1']), {
      primary: ['6.3.3'],
      secondary: ['11.3.1', '6.3.1'],
    });
    // image.vulnerable_package: both primary
    assert.deepEqual(inferMapping(FindingSource.IMAGE, ['6.3.1', '11.3.1']), {
      primary: ['6.3.1', '11.3.1'],
      secondary: [],
    });
    // k8s.run_as_root (2.2.6 and 7.2.5 primary) explains the ids better than k8s.sa_token_automount (7.2.5 only)
    assert.deepEqual(inferMapping(FindingSource.CONFIG, ['2.2.6', '7.2.5', '2.2.1']), {
      primary: ['2.2.6', '7.2.5'],
      secondary: ['2.2.1'],
    });
    // no mapping type explains these ids: the producer's own choice, all primary
    assert.deepEqual(inferMapping(FindingSource.HOST, ['2.2.5']), { primary: ['2.2.5'], secondary: [] });
  });

  it('uses the finding type when the caller knows it, and canonical ids for aliases', () => {
    const f = vuln({
      cve: 'CVE-2024-2511',
      pkg: 'libssl3',
      installed: '3.0.11-1~deb12u2',
      imageRef: 'r.example.com/a:1',
      digest: 'sha256:' + 'f6'.repeat(32),
      severity: Severity.CRITICAL,
      pci: ['6.3.1', '11.3.1'],
    });
    const byKey = pciCatalog({ mappingKeyOf: () => 'image.unpatched_critical_over_30_days' });
    assert.deepEqual(byKey.mappingOf(f), { primary: [], secondary: ['6.3.1', '11.3.1'] });
    const alias = misconfig({
      check: 'custom-check',
      namespace: 'n',
      workload: 'w',
      field: 'x',
      severity: Severity.LOW,
      pci: ['A3.3.1.2'],
    });
    assert.deepEqual(pciCatalog().mappingOf(alias).primary, ['A3.3.1.1']);
  });

  it('takes the ids a finding only supports as secondary, even those its listed ids would make primary', () => {
    // A host check outside the CDE: 2.2.5 alone would be inferred primary (no mapping type explains it).
    const outside = misconfig({
      check: 'custom-check',
      namespace: 'n',
      workload: 'w',
      field: 'x',
      severity: Severity.LOW,
      pci: [],
    });
    const f = { ...outside, supportingPciRequirements: ['2.2.5', '1.2.1'] };
    assert.deepEqual(pciCatalog().mappingOf(f), { primary: [], secondary: ['2.2.5', '1.2.1'] });
    // Beside tested ids: the tested stay primary, the supported ones are added as secondary once.
    const both = { ...f, pciRequirements: ['2.2.5'], supportingPciRequirements: ['2.2.5', '1.2.1', '1.2.1'] };
    assert.deepEqual(pciCatalog().mappingOf(both), { primary: ['2.2.5'], secondary: ['1.2.1'] });
  });
});
