// correlated/exposed-vulnerable-cde through the real producers: config-audit over examples/payments/k8s with one
// change an operator makes (payment-api's Service switched to a LoadBalancer, the way a team exposes an API to an
// acquirer), and image-scan over the example image.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { FindingSource, MatchType, Severity } from '@vigil/contracts';
import { assertKnownRequirementIds } from '@vigil/pci';
import { repoRoot } from '@vigil/testing';
import { Correlator, type CorrelatedFinding } from './index.js';
import { IMAGE_REF, configAuditEvents, imageScanEvents } from './payments-events.spec-helper.js';

const root = repoRoot();

/** examples/payments/k8s/30-payments.yaml with payment-api's Service as a LoadBalancer, in a directory of its own. */
function exposedPaymentsManifest(): string {
  const original = readFileSync(join(root, 'examples/payments/k8s/30-payments.yaml'), 'utf8');
  const service =
    /kind: Service\nmetadata:\n {2}name: payment-api\n {2}namespace: payments\nspec:\n {2}type: ClusterIP/;
  assert.match(original, service, "30-payments.yaml still has payment-api's ClusterIP Service");
  const exposed = original.replace(service, (m) => m.replace('type: ClusterIP', 'type: LoadBalancer'));
  const file = join(mkdtempSync(join(tmpdir(), 'correlate-exposed-')), '30-payments.yaml');
  writeFileSync(file, exposed);
  return file;
}

describe('correlated/exposed-vulnerable-cde on examples/payments', () => {
  let list: CorrelatedFinding[];
  let imageFindings: Awaited<ReturnType<typeof imageScanEvents>>['report']['findings'];
  let exposureFinding: string;

  before(async () => {
    // The other manifests as shipped; 30-payments.yaml replaced by the exposed copy.
    const dir = mkdtempSync(join(tmpdir(), 'correlate-exposed-k8s-'));
    for (const f of [
      '00-namespaces.yaml',
      '10-rbac.yaml',
      '20-config.yaml',
      '40-storefront.yaml',
      '50-monitoring.yaml',
      '60-network-policies.yaml',
    ])
      writeFileSync(join(dir, f), readFileSync(join(root, 'examples/payments/k8s', f)));
    writeFileSync(join(dir, '30-payments.yaml'), readFileSync(exposedPaymentsManifest()));
    const config = await configAuditEvents(root, 'cfg-x', '2026-11-20T10:00:00Z', [], dir);
    const image = await imageScanEvents(root, 'img-x', '2026-11-20T10:05:00Z');
    imageFindings = image.report.findings;
    const exposure = config.findings.find(
      (f) => f.ruleId === 'net/service-exposed' && f.asset?.name === 'payment-api',
    );
    assert.ok(exposure, 'config-audit reports the LoadBalancer Service of payment-api');
    exposureFinding = exposure.id;
    const c = new Correlator();
    for (const e of [...config.events, ...image.events]) c.apply(e);
    list = c.correlate();
  });

  it('joins every high or critical vulnerability of the image with the exposure', () => {
    const exposed = list.filter((c) => c.ruleId === 'correlated/exposed-vulnerable-cde');
    // What the rule joins: package matches (not image checks) of high or critical severity.
    const expected = imageFindings.filter(
      (f) =>
        f.package?.name &&
        f.source === FindingSource.IMAGE &&
        (f.detection?.matchType === MatchType.DIRECT ||
          f.detection?.matchType === MatchType.SOURCE_PACKAGE) &&
        (f.severity === Severity.HIGH || f.severity === Severity.CRITICAL),
    );
    assert.ok(expected.length > 0, 'the example image has high or critical vulnerabilities');
    assert.deepEqual(
      exposed.map((c) => `${c.finding.package?.name} ${c.finding.aliases[0]}`).sort(),
      expected.map((f) => `${f.package?.name} ${f.ruleId}`).sort(),
    );
    const openssl = exposed.find((c) => c.finding.package?.name === 'libssl3')!;
    const f = openssl.finding;
    assert.equal(f.asset?.imageRef, IMAGE_REF);
    assert.equal(f.asset?.name, 'payment-api');
    const ev = (key: string) => f.evidence.filter((e) => e.key === key).map((e) => e.value);
    assert.deepEqual(ev('exposed-by'), ['Service/payments/payment-api (LoadBalancer)']);
    assert.ok(f.relatedFindingIds.includes(exposureFinding));
    assert.ok(
      openssl.priority.factors.some((x) => x.id === 'exposed'),
      'exposure is a priority factor',
    );
    assert.ok(f.pciRequirements.includes('6.3.1'));
    assertKnownRequirementIds(f.pciRequirements, f.id);
  });
});
