// The findings table of `vigil scan` and `vigil ingest` over the real config audit of the example environment
// (examples/payments/k8s, the manifests the README's quick start scans).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { auditManifests } from '@vigil/config-audit';
import { FindingSchema, create, type Finding } from '@vigil/contracts';
import { repoRoot } from '@vigil/testing';
import { findingRows, pciLabel } from './findings-view.js';

const MANIFESTS = join(repoRoot(), 'examples/payments/k8s');

describe('findingRows over the example manifests', () => {
  let findings: Finding[];
  let rows: string[][];
  before(async () => {
    findings = (await auditManifests({ paths: [MANIFESTS], cluster: 'default' })).findings;
    rows = findingRows(findings);
  });

  it('names requirements on every line; ids a check only supports in parentheses', () => {
    assert.equal(rows.length, findings.length);
    assert.deepEqual(
      rows.filter((r) => !r[5]),
      [],
    );
    const supportingOnly = rows.filter((r) => r[5]!.startsWith('('));
    // The nine findings of checks mapped as "secondary": no tested id, their supporting ids from the evidence.
    assert.equal(supportingOnly.length, 9);
    assert.deepEqual(supportingOnly.map((r) => `${r[1]} ${r[2]} ${r[5]}`).sort(), [
      'k8s/no-resource-limits payments/payment-api/log-shipper (resources.limits.cpu) (2.2.1)',
      'k8s/no-resource-limits payments/payment-api/log-shipper (resources.limits.memory) (2.2.1)',
      'net/no-egress-networkpolicy monitoring/node-agent (1.2.1,11.5.1.1)',
      'net/no-egress-networkpolicy storefront/checkout-web (1.2.1,11.5.1.1)',
      'net/no-ingress-networkpolicy monitoring/node-agent (1.2.1,1.4.1,11.4.5)',
      'net/no-ingress-networkpolicy storefront/checkout-web (1.2.1,1.4.1,11.4.5)',
      'rbac/escalate-bind-impersonate storefront/storefront-ops (7.3.2,7.2.4,7.2.5.1)',
      'rbac/pods-exec storefront/storefront-ops (7.3.2,7.2.4,7.2.5.1)',
      'rbac/secrets-access storefront/storefront-ops (7.2.2,3.6.1,3.6.1.3)',
    ]);
  });

  it('tells apart findings of one rule on one workload: by container, then by the field', () => {
    const lines = rows.map((r) => r.slice(0, 4).join(' | '));
    assert.deepEqual(
      lines.filter((l, i) => lines.indexOf(l) !== i),
      [],
    );
    const of = (rule: string) => rows.filter((r) => r[1] === rule).map((r) => r[2]);
    // Two containers of the payment-api Deployment, one of the node-agent DaemonSet.
    assert.deepEqual(of('k8s/run-as-root'), [
      'monitoring/node-agent/agent',
      'payments/payment-api/api',
      'payments/payment-api/log-shipper',
    ]);
    // One pod sharing two host namespaces: the same rule and asset, two fields.
    assert.deepEqual(of('k8s/host-namespaces'), [
      'monitoring/node-agent (hostNetwork)',
      'monitoring/node-agent (hostPID)',
    ]);
  });
});

describe('pciLabel', () => {
  it('lists tested ids, then supporting ones not already listed', () => {
    const finding = (pciRequirements: string[], supporting?: string) =>
      create(FindingSchema, {
        pciRequirements,
        supportingPciRequirements: supporting ? supporting.split(',') : [],
      });
    assert.equal(pciLabel(finding(['6.3.1', '11.3.1'])), '6.3.1,11.3.1');
    assert.equal(pciLabel(finding([], '2.2.1')), '(2.2.1)');
    assert.equal(pciLabel(finding(['7.2.1'], '7.2.1,7.3.2')), '7.2.1 (7.3.2)');
    assert.equal(pciLabel(finding([])), '');
  });
});
