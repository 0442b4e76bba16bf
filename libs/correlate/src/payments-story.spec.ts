// examples/payments end to end through the real producers: the story an assessor expects from the correlator.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type EventEnvelope, FindingSource, NetworkIsolation, Severity } from '@vigil/contracts';
import { assertKnownRequirementIds } from '@vigil/pci';
import { repoRoot } from '@vigil/testing';
import { Correlator, diffCorrelations, type CorrelatedFinding } from './index.js';
import {
  IMAGE_REF,
  configAuditEvents,
  generatedEgressPolicy,
  imageScanEvents,
  rebuiltImageScanEvents,
  runtimeEvents,
} from './payments-events.spec-helper.js';

const root = repoRoot();
let config: Awaited<ReturnType<typeof configAuditEvents>>;
let image: Awaited<ReturnType<typeof imageScanEvents>>;
let patched: Awaited<ReturnType<typeof configAuditEvents>>;
let rebuilt: Awaited<ReturnType<typeof rebuiltImageScanEvents>>;
let runtime: ReturnType<typeof runtimeEvents>;

before(async () => {
  config = await configAuditEvents(root, 'cfg-1', '2026-11-20T10:00:00Z');
  image = await imageScanEvents(root, 'img-1', '2026-11-20T10:05:00Z');
  patched = await configAuditEvents(root, 'cfg-2', '2026-11-20T12:00:00Z', [
    generatedEgressPolicy(config.findings),
  ]);
  rebuilt = await rebuiltImageScanEvents(root, 'img-2', '2026-11-20T13:00:00Z');
  runtime = runtimeEvents(root, 'rt-1', '2026-11-20T14:10:00Z');
});

const ev = (c: CorrelatedFinding, key: string) =>
  c.finding.evidence.filter((e) => e.key === key).map((e) => e.value);

function run(...batches: EventEnvelope[][]): CorrelatedFinding[] {
  const c = new Correlator();
  for (const e of batches.flat()) c.apply(e);
  return c.correlate();
}

const opensslInCde = (list: CorrelatedFinding[]) =>
  list.filter(
    (c) => c.finding.ruleId === 'correlated/vulnerable-in-cde' && c.finding.aliases.includes('CVE-2023-5363'),
  );

describe('examples/payments: CVE-2023-5363 in payment-api', () => {
  it('is one correlated finding naming image, workload, container, the open egress and the PCI ids', () => {
    const image5363 = image.report.findings.filter((f) => f.ruleId === 'CVE-2023-5363');
    assert.ok(image5363.length >= 1, 'the image scan reports CVE-2023-5363');
    const list = run(config.events, image.events);
    const found = opensslInCde(list).filter((c) => c.finding.package?.name === 'libssl3');
    assert.equal(found.length, 1);
    const f = found[0]!.finding;
    assert.equal(f.source, FindingSource.CORRELATED);
    assert.match(f.id, /^correlated-[0-9a-f]{32}$/);
    assert.equal(f.asset?.imageRef, IMAGE_REF);
    assert.equal(f.asset?.name, 'payment-api');
    assert.equal(f.asset?.container, 'api');
    assert.equal(f.asset?.imageDigest, image.report.target.digest);
    assert.deepEqual(ev(found[0]!, 'workload'), ['Deployment/payments/payment-api']);
    assert.deepEqual(ev(found[0]!, 'namespace'), ['payments (CDE)']);
    assert.deepEqual(ev(found[0]!, 'egress'), ['open']);
    assert.deepEqual(ev(found[0]!, 'image'), [IMAGE_REF]);
    assert.deepEqual(ev(found[0]!, 'fixed-version'), ['3.0.11-1~deb12u2']);
    // It joins the image finding and the config finding that names the open egress.
    const egress = config.findings.find(
      (x) => x.ruleId === 'net/no-egress-networkpolicy' && x.asset?.name === 'payment-api',
    )!;
    const vuln = image5363.find((x) => x.package?.name === 'libssl3')!;
    assert.deepEqual(f.relatedFindingIds, [egress.id, vuln.id].sort());
    assert.ok(f.pciRequirements.includes('6.3.1') && f.pciRequirements.includes('11.3.1'));
    assertKnownRequirementIds(f.pciRequirements, f.id);
    // The remediation carries the fixed version and the generated NetworkPolicy.
    assert.match(f.remediation?.summary ?? '', /3\.0\.11-1~deb12u2/);
    assert.equal(f.remediation?.patch, egress.remediation?.patch);
    const factors = found[0]!.priority.factors.map((x) => x.id);
    assert.deepEqual(factors, ['base-severity', 'fix-available', 'cde', 'egress']);
    // And the exfiltration path is its own finding on the same pair.
    const exfil = list.filter(
      (c) => c.finding.ruleId === 'correlated/exfiltration-path' && c.finding.package?.name === 'libssl3',
    );
    assert.equal(exfil.length, 1);
    assert.equal(exfil[0]!.finding.severity, Severity.CRITICAL);
    assert.ok(exfil[0]!.finding.pciRequirements.includes('1.3.2'));
    // One vulnerability in two packages of the workload (libssl3 and openssl, one source package): two paths,
    // and their titles say which package each is about.
    const paths = list.filter((c) => c.finding.ruleId === 'correlated/exfiltration-path');
    const titles = paths.map((c) => c.finding.title);
    assert.equal(new Set(titles).size, titles.length, titles.join('\n'));
    assert.match(exfil[0]!.finding.title, /^Exfiltration path: \S+ in libssl3 in CDE workload /);
  });

  it('applying the generated NetworkPolicy lowers its priority and resolves the exfiltration path', () => {
    const c = new Correlator();
    for (const e of [...config.events, ...image.events]) c.apply(e);
    const first = c.correlate();
    for (const e of patched.events) c.apply(e);
    assert.equal(
      c.graph.current(c.graph.workloads, 'payments-prod/Deployment/payments/payment-api')?.egress,
      NetworkIsolation.RESTRICTED,
    );
    const second = c.correlate();
    const a = opensslInCde(first).find((x) => x.finding.package?.name === 'libssl3')!;
    const b = opensslInCde(second).find((x) => x.finding.package?.name === 'libssl3')!;
    assert.equal(a.finding.id, b.finding.id);
    assert.ok(b.priority.score < a.priority.score, `${b.priority.score} < ${a.priority.score}`);
    assert.deepEqual(ev(b, 'egress'), ['restricted']);
    const diff = diffCorrelations(first, second);
    assert.ok(diff.changed.some((x) => x.current.finding.id === a.finding.id));
    assert.ok(
      diff.resolved.some(
        (x) => x.finding.ruleId === 'correlated/exfiltration-path' && x.finding.package?.name === 'libssl3',
      ),
    );
    assert.equal(diff.added.length, 0);
  });

  it('a rescan of the rebuilt image without the vulnerable package resolves it', () => {
    assert.ok(!rebuilt.report.findings.some((f) => f.ruleId === 'CVE-2023-5363'));
    assert.ok(
      rebuilt.report.findings.some((f) => f.ruleId === 'CVE-2023-4911'),
      'glibc is still vulnerable',
    );
    const c = new Correlator();
    for (const e of [...config.events, ...image.events]) c.apply(e);
    const first = c.correlate();
    for (const e of rebuilt.events) c.apply(e);
    const second = c.correlate();
    assert.equal(opensslInCde(second).length, 0);
    const diff = diffCorrelations(first, second);
    const resolved = diff.resolved.filter((x) => x.finding.aliases.includes('CVE-2023-5363'));
    assert.ok(resolved.some((x) => x.finding.ruleId === 'correlated/vulnerable-in-cde'));
    // What is still vulnerable in the rebuilt image stays, now on the new digest.
    const glibc = second.find(
      (x) =>
        x.finding.ruleId === 'correlated/vulnerable-in-cde' && x.finding.aliases.includes('CVE-2023-4911'),
    );
    assert.equal(glibc?.finding.asset?.imageDigest, rebuilt.report.target.digest);
  });

  it('a runtime shell detection in that container raises it and names the pod', () => {
    const shell = runtime.findings.find((f) => f.ruleId === 'falco:Terminal shell in container')!;
    assert.equal(shell.asset?.container, 'api');
    const without = opensslInCde(run(config.events, image.events)).find(
      (x) => x.finding.package?.name === 'libssl3',
    )!;
    const withRuntime = opensslInCde(run(config.events, image.events, runtime.events)).find(
      (x) => x.finding.package?.name === 'libssl3',
    )!;
    assert.ok(withRuntime.priority.score > without.priority.score);
    const factor = withRuntime.priority.factors.find((f) => f.id === 'runtime');
    assert.match(factor?.text ?? '', /falco:Terminal shell in container/);
    assert.deepEqual(ev(withRuntime, 'pod'), ['payment-api-7d4b9c6f5-k2x8p']);
    // The tokenizer's alert is in another workload: it does not touch payment-api's findings.
    assert.doesNotMatch(factor?.text ?? '', /Network Connection outside Local Subnet/);
  });
});
