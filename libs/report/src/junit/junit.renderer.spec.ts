// JUnit XML of a snapshot. The report below is the example platform's: CVE-2023-5363 in libssl3 of the payment-api
// image (DSA-5532-1, fixed in 3.0.11-1~deb12u2) and a privileged container, with the real v4.0.1 ids and titles.
// The XML is checked by a real validator — the JDK's javax.xml.validation against both JUnit schemas in
// ../shared/schemas/junit (strict Ant, lenient Jenkins xUnit) — and then by value.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  ComplianceReportSchema,
  ExceptionUseSchema,
  RequirementStatus,
  create,
  type ComplianceReport,
} from '@vigil/contracts';
import { requirement } from '@vigil/pci';
import { Severity, misconfig, ts, vuln } from '../events.spec-helper.js';
import { toJunit, xmlAttr, xmlText } from './junit.renderer.js';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'nx.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('no nx.json above the spec');
    dir = up;
  }
  return dir;
}
const schemas = join(repoRoot(), '..', 'shared', 'schemas', 'junit');
const ANT_XSD = join(schemas, 'ant', 'JUnit.xsd');
const JENKINS_XSD = join(schemas, 'jenkins-xunit', 'junit-10.xsd');

const VALIDATOR = `
import javax.xml.XMLConstants;
import javax.xml.transform.stream.StreamSource;
import javax.xml.validation.SchemaFactory;
public class Validate {
  public static void main(String[] a) throws Exception {
    SchemaFactory f = SchemaFactory.newInstance(XMLConstants.W3C_XML_SCHEMA_NS_URI);
    f.newSchema(new StreamSource(new java.io.File(a[0]))).newValidator().validate(new StreamSource(new java.io.File(a[1])));
    System.out.println("valid");
  }
}
`;
const work = mkdtempSync(join(tmpdir(), 'vigil-junit-'));
writeFileSync(join(work, 'Validate.java'), VALIDATOR);
after(() => rmSync(work, { recursive: true, force: true }));

function validate(xsd: string, xml: string): { ok: boolean; output: string } {
  const file = join(work, `out-${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(file, xml);
  const r = spawnSync('java', [join(work, 'Validate.java'), xsd, file], { encoding: 'utf8' });
  if (r.error)
    throw new Error(`java (needed to validate JUnit XML against its XSD) did not run: ${r.error.message}`);
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

const ssl = vuln({
  cve: 'CVE-2023-5363',
  pkg: 'libssl3',
  installed: '3.0.11-1~deb12u1',
  fixed: '3.0.11-1~deb12u2',
  imageRef: 'payments/payment-api:1.4.2',
  digest: 'sha256:' + 'a'.repeat(64),
  severity: Severity.HIGH,
  cluster: 'default',
});
// A title carrying characters XML must escape, and ones it cannot carry at all (from package metadata).
ssl.title = 'libssl3: <incorrect cipher key & IV length> "processing" \u0001\u0008 bell\u0007 ok\ttab';
const privileged = misconfig({
  check: 'workload/privileged',
  namespace: 'payments',
  workload: 'tokenizer',
  field: 'spec.template.spec.containers[0].securityContext.privileged',
  severity: Severity.CRITICAL,
  pci: ['2.2.5'],
  cluster: 'default',
});

function title(id: string): string {
  return requirement(id)!.title;
}

function report(): ComplianceReport {
  return create(ComplianceReportSchema, {
    schemaVersion: 1,
    scope: { tenant: '', cluster: 'default' },
    frameworkVersion: '4.0.1',
    snapshotVersion: 3,
    contentHash: 'sha256:' + 'b'.repeat(64),
    generatedAt: ts(new Date('2026-11-02T09:30:00.500Z')),
    requirements: [
      {
        id: '6.3.1',
        title: title('6.3.1'),
        status: RequirementStatus.NOT_IN_PLACE,
        findingIds: [ssl.id],
        reason: '1 HIGH finding',
      },
      {
        id: '2.2.5',
        title: title('2.2.5'),
        status: RequirementStatus.NOT_IN_PLACE,
        findingIds: [privileged.id],
        reason: '1 CRITICAL finding',
      },
      {
        id: '2.2.1',
        title: title('2.2.1'),
        status: RequirementStatus.IN_PLACE,
        reason: 'every workload passes',
      },
      {
        id: '12.5.2',
        title: title('12.5.2'),
        status: RequirementStatus.NOT_TESTED,
        reason: 'needs the documented scope review',
      },
    ],
    findings: [ssl, privileged],
  });
}

describe('toJunit', () => {
  it('writes XML both JUnit schemas accept, with control characters in the input', () => {
    const xml = toJunit(report());
    for (const xsd of [ANT_XSD, JENKINS_XSD]) {
      const v = validate(xsd, xml);
      assert.ok(v.ok, `${xsd}:\n${v.output}\n${xml}`);
      assert.match(v.output, /valid/);
    }
  });

  it('has a suite per principal requirement and a case per requirement, in catalog order', () => {
    const xml = toJunit(report());
    const suites = [
      ...xml.matchAll(/<testsuite name="([^"]*)" tests="(\d+)" failures="(\d+)" errors="0" skipped="(\d+)"/g),
    ];
    assert.deepEqual(
      suites.map((m) => [m[1], Number(m[2]), Number(m[3]), Number(m[4])]),
      [
        [`PCI DSS 2: ${requirement('2')!.title}`, 2, 1, 0],
        [`PCI DSS 6: ${requirement('6')!.title}`, 1, 1, 0],
        [`PCI DSS 12: ${requirement('12')!.title}`, 1, 0, 1],
      ],
    );
    const cases = [...xml.matchAll(/<testcase classname="([^"]*)" name="([^"]*)"/g)].map(
      (m) => `${m[1]} ${m[2]}`,
    );
    assert.deepEqual(cases, [
      `pci-dss.2 2.2.1 ${title('2.2.1')}`,
      `pci-dss.2 2.2.5 ${title('2.2.5')}`,
      `pci-dss.6 6.3.1 ${title('6.3.1')}`,
      `pci-dss.12 12.5.2 ${title('12.5.2')}`,
    ]);
    assert.match(xml, /timestamp="2026-11-02T09:30:00" hostname="default" package="pci-dss" id="0"/);
    assert.match(xml, /<property name="vigil.snapshot.version" value="3"\/>/);
    assert.match(xml, /<skipped message="not tested: needs the documented scope review"\/>/);
  });

  it('names each failing finding with its package, fix and asset, escaped', () => {
    const xml = toJunit(report());
    assert.match(xml, /<failure message="1 open finding\(s\): 1 high" type="not_in_place">/);
    assert.ok(
      xml.includes(
        `HIGH CVE-2023-5363 libssl3@3.0.11-1~deb12u1 on payments/payment-api:1.4.2 (${ssl.id})\n` +
          '  libssl3: &lt;incorrect cipher key &amp; IV length&gt; "processing" \\u0001\\u0008 bell\\u0007 ok\ttab\n' +
          '  fixed in 3.0.11-1~deb12u2\n',
      ),
      xml,
    );
    assert.match(xml, /CRITICAL workload\/privileged on payments\/tokenizer/);
  });

  it('passes a requirement whose findings the gate waives, and says why in system-out', () => {
    const xml = toJunit(report(), {
      fails: (f) => f.severity === Severity.CRITICAL,
      waivedBecause: (f) => (f.id === ssl.id ? 'in the baseline' : undefined),
    });
    assert.match(xml, /<testcase classname="pci-dss.6" name="6.3.1 [^"]*" time="0"\/>/);
    assert.match(xml, new RegExp(`6\\.3\\.1: HIGH CVE-2023-5363 .*\\(${ssl.id}\\) — in the baseline`));
    assert.equal([...xml.matchAll(/<failure /g)].length, 1);
    assert.ok(validate(ANT_XSD, xml).ok);
  });

  it('puts a failing finding no assessed requirement lists in a suite of its own', () => {
    const r = report();
    r.requirements = r.requirements.filter((x) => x.id !== '2.2.5');
    const xml = toJunit(r);
    assert.ok(validate(ANT_XSD, xml).ok, xml);
    assert.match(
      xml,
      /<testsuite name="Findings outside the assessed requirements" tests="1" failures="1" errors="0" skipped="0"/,
    );
    assert.ok(
      xml.includes(
        `<testcase classname="vigil.findings" name="workload/privileged ${privileged.id}" time="0">`,
      ),
    );
  });

  it('fails no accepted finding there: its acceptance is named in the suite output instead', () => {
    // The privileged container is accepted; its requirement is not assessed, and the CVE's is not either.
    const r = report();
    r.requirements = r.requirements.filter((x) => x.id !== '2.2.5' && x.id !== '6.3.1');
    r.exceptions = [
      create(ExceptionUseSchema, { exceptionId: 'exc-tokenizer', coveredFindingIds: [privileged.id] }),
    ];
    const xml = toJunit(r);
    assert.ok(validate(ANT_XSD, xml).ok, xml);
    assert.match(
      xml,
      /<testsuite name="Findings outside the assessed requirements" tests="1" failures="1" errors="0" skipped="0"/,
    );
    assert.ok(xml.includes(`name="CVE-2023-5363 ${ssl.id}"`));
    assert.ok(!xml.includes(`name="workload/privileged ${privileged.id}"`));
    assert.match(xml, /CRITICAL workload\/privileged [^\n]* — accepted risk \(exc-tokenizer\)/);
  });

  it('is deterministic', () => {
    assert.equal(toJunit(report()), toJunit(report()));
  });

  it("names the deployment's evidence key fingerprint in every suite's properties, still schema-valid", () => {
    const fingerprint = 'sha256:' + 'cd'.repeat(32);
    const xml = toJunit(report(), { evidenceKeyFingerprint: fingerprint });
    const suites = xml.match(/<testsuite /g)?.length ?? 0;
    assert.ok(suites > 1);
    const props = xml.match(/<property name="vigil\.evidence-key\.fingerprint" value="([^"]*)"\/>/g) ?? [];
    assert.equal(props.length, suites);
    assert.ok(props.every((p) => p.includes(`value="${fingerprint}"`)));
    assert.ok(validate(ANT_XSD, xml).ok);
    assert.doesNotMatch(toJunit(report()), /evidence-key/);
  });
});

describe('XML escaping', () => {
  it('escapes markup and keeps tabs and newlines in attributes as references', () => {
    assert.equal(xmlText('a<b>&c'), 'a&lt;b&gt;&amp;c');
    assert.equal(xmlAttr('say "x"\n\tand\r'), 'say &quot;x&quot;&#10;&#9;and&#13;');
  });
  it('writes characters XML 1.0 forbids as visible escapes, and keeps astral characters whole', () => {
    assert.equal(xmlText('\u0000\u001f\ufffe\uffff'), '\\u0000\\u001f\\ufffe\\uffff');
    assert.equal(xmlText('lone \ud800 high'), 'lone \\ud800 high');
    assert.equal(xmlText('emoji \u{1F512} ok'), 'emoji \u{1F512} ok');
  });
});
