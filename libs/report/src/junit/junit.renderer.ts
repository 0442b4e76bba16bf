import { RequirementStatus, Severity, type ComplianceReport, type Finding } from '@vigil/contracts';
import { isRequirementId, principalOf } from '@vigil/pci';
import { acceptedFindingIds } from '../compliance-table.renderer.js';
import { comparePciIds } from '../sarif/sarif.renderer.js';

// JUnit XML for CI systems (Jenkins, GitLab, GitHub test reporters). A pipeline user reads it as "which PCI DSS
// requirements does this build break", so there is one <testsuite> per principal requirement (1–12, A1–A3) and
// one <testcase> per assessed requirement of the snapshot:
//   not_in_place with a finding that fails the gate  → <failure>, its text naming every such finding;
//   not_in_place whose findings are all waived        → passes; the suite's system-out says why each is waived;
//   not_tested / not_applicable                       → <skipped> with the snapshot's reason;
//   in_place / manually_attested                      → passes.
// Failing findings whose primary mapping is in no assessed requirement get a last suite, one test case per finding,
// so the XML never hides what fails the gate.
//
// The shape is the strict Apache Ant schema (../shared/schemas/junit/ant/JUnit.xsd), which the lenient Jenkins
// xUnit one also accepts: <testsuites> without attributes, every nested suite with package, id, hostname and a
// timestamp, and the properties, system-out and system-err elements. Output is deterministic: the timestamp is
// the snapshot's generatedAt, times are 0 (a snapshot has no per-requirement duration), order is the catalog's.

export interface JunitOptions {
  /**
   * Whether an open finding fails its test case. Default: every open finding does (the snapshot's own verdict).
   * `vigil ci` passes its gate here, so the XML and the exit code agree.
   */
  readonly fails?: (finding: Finding) => boolean;
  /** Why a finding does not fail (accepted in the ignore file, in the baseline, below the threshold). */
  readonly waivedBecause?: (finding: Finding) => string | undefined;
  /** The `hostname` attribute the Ant schema requires; default the report's cluster. */
  readonly hostname?: string;
  /**
   * The deployment's evidence signing key fingerprint (vigil evidence key): a property of every suite, beside the
   * snapshot's content hash, so a reader can compare it with the key the deployment published.
   */
  readonly evidenceKeyFingerprint?: string;
}

interface TestCase {
  readonly classname: string;
  readonly name: string;
  readonly failure?: { message: string; type: string; text: string };
  readonly skipped?: string;
}

interface Suite {
  readonly name: string;
  readonly cases: TestCase[];
  readonly out: string[];
}

export const JUNIT_OTHER_SUITE = 'Findings outside the assessed requirements';

export function toJunit(report: ComplianceReport, options: JunitOptions = {}): string {
  const fails = options.fails ?? (() => true);
  const byId = new Map(report.findings.map((f) => [f.id, f]));
  const suites = new Map<string, Suite>();
  const counted = new Set<string>();
  const requirements = [...report.requirements].sort((a, b) => comparePciIds(a.id, b.id));
  for (const r of requirements) {
    const principal = isRequirementId(r.id) ? principalOf(r.id) : undefined;
    const key = principal?.id ?? r.id.split('.')[0]!;
    let suite = suites.get(key);
    if (!suite) {
      suite = {
        name: `PCI DSS ${key}: ${principal?.title ?? 'requirement'}`,
        cases: [],
        out: [],
      };
      suites.set(key, suite);
    }
    const base = { classname: `pci-dss.${key}`, name: `${r.id} ${r.title}` };
    if (r.status === RequirementStatus.NOT_TESTED || r.status === RequirementStatus.NOT_APPLICABLE) {
      const word = r.status === RequirementStatus.NOT_TESTED ? 'not tested' : 'not applicable';
      suite.cases.push({ ...base, skipped: `${word}: ${r.reason}` });
      continue;
    }
    const findings = r.findingIds.map((id) => byId.get(id)).filter((f): f is Finding => f !== undefined);
    for (const f of findings) counted.add(f.id);
    const failing = findings.filter(fails);
    for (const f of findings) {
      if (failing.includes(f)) continue;
      suite.out.push(
        `${r.id}: ${findingLine(f)} — ${options.waivedBecause?.(f) ?? 'does not fail the gate'}`,
      );
    }
    for (const id of r.exceptedFindingIds)
      suite.out.push(`${r.id}: ${id} — accepted risk (${r.exceptionIds.join(', ')})`);
    if (failing.length === 0) {
      suite.cases.push(base);
      continue;
    }
    suite.cases.push({
      ...base,
      failure: {
        type: 'not_in_place',
        message: `${failing.length} open finding(s): ${severityCounts(failing)}`,
        text: failing.map(findingBlock).join('\n'),
      },
    });
  }
  // An accepted finding fails nothing: its requirement's case says so when the requirement is assessed, and the last
  // suite's output when it is not (a not_tested requirement, or a finding that only supports its requirements).
  const accepted = acceptedFindingIds(report);
  const uncounted = report.findings
    .filter((f) => !counted.has(f.id))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const other = uncounted.filter((f) => !accepted.has(f.id) && fails(f));
  if (other.length > 0) {
    suites.set('other', {
      name: JUNIT_OTHER_SUITE,
      out: uncounted
        .filter((f) => accepted.has(f.id))
        .map((f) => `${findingLine(f)} — accepted risk (${exceptionsCovering(report, f.id).join(', ')})`),
      cases: other.map((f) => ({
        classname: 'vigil.findings',
        name: `${f.ruleId} ${f.id}`,
        failure: { type: 'finding', message: findingLine(f), text: findingBlock(f) },
      })),
    });
  }
  return render(report, [...suites.values()], options);
}

function exceptionsCovering(report: ComplianceReport, findingId: string): string[] {
  return report.exceptions.filter((x) => x.coveredFindingIds.includes(findingId)).map((x) => x.exceptionId);
}

function render(report: ComplianceReport, suites: readonly Suite[], options: JunitOptions): string {
  const hostname = options.hostname;
  const timestamp = report.generatedAt
    ? new Date(Number(report.generatedAt.seconds) * 1000).toISOString().slice(0, 19)
    : '1970-01-01T00:00:00';
  const host = token(hostname || report.scope?.cluster || 'vigil');
  const properties: [string, string][] = [
    ['pci-dss.version', report.frameworkVersion],
    ['vigil.cluster', report.scope?.cluster ?? ''],
    ['vigil.snapshot.version', String(report.snapshotVersion)],
    ['vigil.snapshot.content-hash', report.contentHash],
  ];
  if (options.evidenceKeyFingerprint)
    properties.push(['vigil.evidence-key.fingerprint', options.evidenceKeyFingerprint]);
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<testsuites>'];
  suites.forEach((s, index) => {
    const failures = s.cases.filter((c) => c.failure).length;
    const skipped = s.cases.filter((c) => c.skipped !== undefined).length;
    lines.push(
      `  <testsuite name="${attr(token(s.name))}" tests="${s.cases.length}" failures="${failures}" errors="0" ` +
        `skipped="${skipped}" time="0" timestamp="${timestamp}" hostname="${attr(host)}" ` +
        `package="pci-dss" id="${index}">`,
      '    <properties>',
      ...properties.map(([n, v]) => `      <property name="${attr(n)}" value="${attr(v)}"/>`),
      '    </properties>',
    );
    for (const c of s.cases) {
      const open = `    <testcase classname="${attr(token(c.classname))}" name="${attr(token(c.name))}" time="0"`;
      if (c.failure) {
        lines.push(
          `${open}>`,
          `      <failure message="${attr(c.failure.message)}" type="${attr(c.failure.type)}">${text(c.failure.text)}</failure>`,
          '    </testcase>',
        );
      } else if (c.skipped !== undefined) {
        lines.push(`${open}>`, `      <skipped message="${attr(c.skipped)}"/>`, '    </testcase>');
      } else lines.push(`${open}/>`);
    }
    lines.push(
      `    <system-out>${text(s.out.join('\n'))}</system-out>`,
      '    <system-err></system-err>',
      '  </testsuite>',
    );
  });
  lines.push('</testsuites>', '');
  return lines.join('\n');
}

const SEVERITY_WORDS = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] as const;

function severityWord(s: Severity): (typeof SEVERITY_WORDS)[number] {
  return s === Severity.UNSPECIFIED ? 'UNKNOWN' : (Severity[s] as (typeof SEVERITY_WORDS)[number]);
}

function severityCounts(findings: readonly Finding[]): string {
  return SEVERITY_WORDS.map(
    (w) => [w, findings.filter((f) => severityWord(f.severity) === w).length] as const,
  )
    .filter(([, n]) => n > 0)
    .map(([w, n]) => `${n} ${w.toLowerCase()}`)
    .join(', ');
}

function findingLine(f: Finding): string {
  const a = f.asset;
  const asset = a ? [a.namespace, a.name, a.container].filter(Boolean).join('/') || a.imageRef || a.node : '';
  const pkg = f.package ? ` ${f.package.name}@${f.package.version}` : '';
  return `${severityWord(f.severity)} ${f.ruleId}${pkg}${asset ? ` on ${asset}` : ''} (${f.id})`;
}

function findingBlock(f: Finding): string {
  const lines = [findingLine(f)];
  if (f.title) lines.push(`  ${f.title}`);
  if (f.package?.fixedVersion) lines.push(`  fixed in ${f.package.fixedVersion}`);
  if (f.locations.length > 0) lines.push(`  at ${f.locations[0]}`);
  if (f.remediation?.summary) lines.push(`  fix: ${f.remediation.summary}`);
  return lines.join('\n');
}

// XML 1.0 allows only tab, newline, carriage return and U+0020 upwards, minus lone surrogates and U+FFFE/U+FFFF.
// Anything else cannot appear even as a character reference, so it is written as visible text (\u0001) instead of
// being dropped: a finding's text may carry it from a package's metadata and the reader should see it was there.
// The u flag makes the class see code points, so a valid surrogate pair stays whole.
const ILLEGAL_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|\p{Cs}/gu;

function legal(s: string): string {
  return s.replace(ILLEGAL_XML, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Element text: markup characters escaped, illegal characters made visible. */
export function xmlText(s: string): string {
  return legal(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Attribute value in double quotes. Tab, newline and carriage return become character references: a parser
 * normalizes literal ones to spaces, so only references keep them.
 */
export function xmlAttr(s: string): string {
  return xmlText(s)
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

const text = xmlText;
const attr = xmlAttr;

// xs:token attributes (names, classnames) must not carry line breaks, tabs or runs of spaces.
function token(s: string): string {
  return s.replace(/[\t\n\r ]+/g, ' ').trim();
}
