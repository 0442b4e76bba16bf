import {
  AssetKind,
  EvidenceSchema,
  RequirementResultSchema,
  RequirementStatus,
  ScannerKind,
  Severity,
  create,
  type Asset,
  type Evidence,
  type Finding,
  type InventoryItem,
  type RequirementResult,
} from '@vigil/contracts';
import {
  isAssessable,
  type CatalogRequirement,
  type EntityType,
  type EvidenceSource,
  type RequirementCatalog,
} from './catalog.port.js';
import type { AttestationView } from './attestation.js';
import { ExceptionMatcher, type ExceptionView } from './exception-match.js';
import type { OpenFinding, Resolution, TargetGroup } from './finding-resolution.js';
import type { ScanRecord, ScopeState } from './scope-state.js';
import { compareNanos, compareStrings, toNanos, type TimestampLike } from './time.js';

// One status per assessable requirement, decided in this order:
//   not_applicable     the catalog says the requirement does not apply to the entity (with the reason);
//   not_in_place       an open finding names it in its PRIMARY mapping and no active acceptance covers it;
//   in_place           strong automated coverage, a passing check naming it in the latest ok scan, and every
//                      in-scope asset of that scanner covered by an ok scan (within the interval, when configured);
//   manually_attested  a valid attestation (not revoked, valid_until not reached) names it;
//   not_tested         everything else, with the exact reason.
// An attestation never outranks a finding: a ROC reports a requirement with an open failure as not in place
// whatever documents say, and a manual attestation does not replace automated evidence that proves it in place
// (both are listed as evidence). It fills the gap automation leaves: manual-only and partially covered requirements.

export interface StatusOptions {
  // An in_place needs its evidence no older than this, measured against the scope's log-derived time.
  readonly maxScanAgeMs?: number;
}

export interface StatusInput {
  readonly scope: ScopeState;
  readonly resolution: Resolution;
  readonly catalog: RequirementCatalog;
  readonly entityType: EntityType;
  readonly exceptions: readonly ExceptionView[];
  // Shared with the exception listing so each finding is matched once; made from `exceptions` when not given.
  readonly matcher?: ExceptionMatcher;
  readonly attestations?: readonly AttestationView[];
  readonly asOf: TimestampLike | undefined;
  readonly options: StatusOptions;
}

const scannerOf: Record<Exclude<EvidenceSource, 'manual'>, ScannerKind> = {
  image: ScannerKind.IMAGE,
  config: ScannerKind.CONFIG,
  runtime: ScannerKind.RUNTIME,
  host: ScannerKind.HOST,
};

const severityWords: Record<number, string> = {
  [Severity.CRITICAL]: 'CRITICAL',
  [Severity.HIGH]: 'HIGH',
  [Severity.MEDIUM]: 'MEDIUM',
  [Severity.LOW]: 'LOW',
  [Severity.UNKNOWN]: 'UNKNOWN',
  [Severity.UNSPECIFIED]: 'UNKNOWN',
};

export function requirementResults(input: StatusInput): RequirementResult[] {
  const { catalog, resolution } = input;
  const primaryIndex = new Map<string, OpenFinding[]>();
  // Open findings that name a requirement as supporting evidence only: they never fail it, and its reason says so
  // (a "no scanner tests it" beside findings that name it read as a contradiction).
  const supporting = new Map<string, number>();
  for (const open of resolution.open) {
    const mapping = catalog.mappingOf(open.finding);
    const primary = new Set(mapping.primary);
    for (const id of primary) {
      const list = primaryIndex.get(id) ?? [];
      list.push(open);
      primaryIndex.set(id, list);
    }
    for (const id of new Set(mapping.secondary))
      if (!primary.has(id)) supporting.set(id, (supporting.get(id) ?? 0) + 1);
  }
  const matcher = input.matcher ?? new ExceptionMatcher(input.exceptions);
  const attested = new Map<string, AttestationView[]>();
  for (const a of input.attestations ?? []) {
    const list = attested.get(a.requirementId) ?? [];
    list.push(a);
    attested.set(a.requirementId, list);
  }
  const scans = scansByScanner(input);
  const coverage = new Map<ScannerKind, AssetCoverage>();
  const coverageOf = (k: ScannerKind): AssetCoverage => {
    let c = coverage.get(k);
    if (!c) {
      c = assetCoverage(input.scope, k, scans.get(k) ?? emptyScans());
      coverage.set(k, c);
    }
    return c;
  };

  const results: RequirementResult[] = [];
  for (const req of catalog.requirements) {
    if (!isAssessable(req)) continue;
    const na = catalog.notApplicableReason(req, input.entityType);
    if (na !== undefined) {
      results.push(result(req, RequirementStatus.NOT_APPLICABLE, na));
      continue;
    }
    const failing: OpenFinding[] = [];
    const excepted: string[] = [];
    const usedExceptions = new Set<string>();
    for (const open of primaryIndex.get(req.id) ?? []) {
      const covering = matcher
        .matching(open.finding)
        .filter(
          (x) =>
            x.standing === 'active' && (x.requirementIds.length === 0 || x.requirementIds.includes(req.id)),
        );
      if (covering.length === 0) failing.push(open);
      else {
        excepted.push(open.finding.id);
        for (const x of covering) usedExceptions.add(x.id);
      }
    }
    const extra = {
      exceptedFindingIds: excepted.sort(compareStrings),
      exceptionIds: [...usedExceptions].sort(compareStrings),
    };
    const attestations = attested.get(req.id) ?? [];
    const valid = attestations.filter((a) => a.standing === 'valid');
    if (failing.length > 0) {
      const ids = failing.map((f) => f.finding.id).sort(compareStrings);
      results.push(
        result(req, RequirementStatus.NOT_IN_PLACE, failingReason(failing.map((f) => f.finding)), {
          ...extra,
          findingIds: ids,
          // Shown so the assessor sees the attestation was weighed and why it did not count.
          evidence: valid.map((a) => ev('attestation-outweighed', attestationLine(a))),
        }),
      );
      continue;
    }
    const verdict = withSupporting(automatedVerdict(req, input, scans, coverageOf), supporting.get(req.id));
    if (verdict.status === RequirementStatus.NOT_TESTED && valid.length > 0) {
      const who = [...new Set(valid.map((a) => a.attestation.attested.attestedBy))].sort(compareStrings);
      results.push(
        result(
          req,
          RequirementStatus.MANUALLY_ATTESTED,
          `Manually attested by ${who.join(', ')} (${valid.length} attestation${valid.length === 1 ? '' : 's'}); automated: ${lowerFirst(verdict.reason)}`,
          { ...extra, evidence: [...valid.flatMap(attestationEvidence), ...verdict.evidence] },
        ),
      );
      continue;
    }
    const lapsed = attestations.filter((a) => a.standing === 'expired');
    const reason =
      verdict.status === RequirementStatus.NOT_TESTED && lapsed.length > 0
        ? `${verdict.reason}; attestation ${lapsed.map((a) => a.id).join(', ')} expired (renew it)`
        : verdict.reason;
    const evidence =
      verdict.status === RequirementStatus.IN_PLACE
        ? [...verdict.evidence, ...valid.flatMap(attestationEvidence)]
        : verdict.evidence;
    results.push(result(req, verdict.status, reason, { ...extra, evidence }));
  }
  return results;
}

function result(
  req: CatalogRequirement,
  status: RequirementStatus,
  reason: string,
  more: {
    findingIds?: string[];
    exceptedFindingIds?: string[];
    exceptionIds?: string[];
    evidence?: Evidence[];
  } = {},
): RequirementResult {
  return create(RequirementResultSchema, {
    id: req.id,
    title: req.title,
    status,
    reason,
    findingIds: more.findingIds ?? [],
    exceptedFindingIds: more.exceptedFindingIds ?? [],
    exceptionIds: more.exceptionIds ?? [],
    evidence: more.evidence ?? [],
  });
}

function failingReason(findings: readonly Finding[]): string {
  const bySeverity = new Map<string, number>();
  for (const f of findings) {
    const w = severityWords[f.severity] ?? 'UNKNOWN';
    bySeverity.set(w, (bySeverity.get(w) ?? 0) + 1);
  }
  const parts = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN']
    .filter((w) => bySeverity.has(w))
    .map((w) => `${bySeverity.get(w)} ${w}`);
  const n = findings.length;
  return `${n} open finding${n === 1 ? '' : 's'} (${parts.join(', ')}) test${n === 1 ? 's' : ''} it directly`;
}

// ---- manual evidence ----

function attestationLine(a: AttestationView): string {
  const x = a.attestation.attested;
  return `${a.id} by ${x.attestedBy} at ${iso(x.attestedAt ?? a.attestation.occurredAt)}: ${x.statement}`;
}

// Who, when and what, then each attachment by hash: the files stay with the assessor, the hashes prove which.
function attestationEvidence(a: AttestationView): Evidence[] {
  const x = a.attestation.attested;
  const out = [ev('attestation', attestationLine(a))];
  if (x.validUntil) out.push(ev('attestation-valid-until', `${a.id} ${iso(x.validUntil)}`));
  for (const f of x.attachments) out.push(ev('attachment', `${f.name} ${f.sha256} ${f.size} bytes`));
  return out;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

// ---- automated evidence ----

interface ScannerScans {
  // Every scan of the scanner in the scope, completed or not.
  readonly all: readonly ScanRecord[];
  // The latest ok scan of each target key.
  readonly latestOk: readonly ScanRecord[];
}

function emptyScans(): ScannerScans {
  return { all: [], latestOk: [] };
}

function scansByScanner(input: StatusInput): Map<ScannerKind, ScannerScans> {
  const out = new Map<ScannerKind, { all: ScanRecord[]; latestOk: ScanRecord[] }>();
  const entry = (k: ScannerKind) => {
    let e = out.get(k);
    if (!e) {
      e = { all: [], latestOk: [] };
      out.set(k, e);
    }
    return e;
  };
  for (const scan of input.scope.scans.values())
    if (scan.scanner !== undefined) entry(scan.scanner).all.push(scan);
  for (const g of input.resolution.groups.values() as Iterable<TargetGroup>)
    if (g.latestOk) entry(g.scanner).latestOk.push(g.latestOk);
  for (const e of out.values()) e.latestOk.sort((a, b) => compareStrings(a.scanId, b.scanId));
  return out;
}

interface Verdict {
  readonly status: RequirementStatus;
  readonly reason: string;
  readonly evidence: Evidence[];
}

const sourceNames: Record<Exclude<EvidenceSource, 'manual'>, string> = {
  image: 'image scanner',
  config: 'configuration auditor',
  runtime: 'runtime ingest',
  host: 'host assessor',
};

function automatedVerdict(
  req: CatalogRequirement,
  input: StatusInput,
  scans: Map<ScannerKind, ScannerScans>,
  coverageOf: (k: ScannerKind) => AssetCoverage,
): Verdict {
  const notTested = (reason: string): Verdict => ({
    status: RequirementStatus.NOT_TESTED,
    reason,
    evidence: [],
  });
  const sources = req.automatable.filter((s): s is Exclude<EvidenceSource, 'manual'> => s !== 'manual');
  if (req.coverage === 'none' || sources.length === 0) {
    return notTested('Manual: no scanner tests it; needs documents, records or interviews');
  }
  const withOk = sources.filter((s) => (scans.get(scannerOf[s])?.latestOk.length ?? 0) > 0);
  if (withOk.length === 0) {
    const tried = sources.filter((s) => (scans.get(scannerOf[s])?.all.length ?? 0) > 0);
    if (tried.length > 0) {
      return notTested(
        `No ok scan: every ${names(tried)} scan failed or was unavailable, so nothing was checked`,
      );
    }
    return notTested(`No scan has produced evidence (needs a completed ${names(sources)} scan)`);
  }
  if (req.coverage === 'partial') {
    return notTested(
      `Partial automated coverage: ${names(withOk)} evidence supports it; the assessor also needs manual evidence`,
    );
  }

  // Strong coverage: the evidence is the passing checks that name the requirement in the latest ok scans.
  const evidence: Evidence[] = [];
  const proving: Exclude<EvidenceSource, 'manual'>[] = [];
  const gaps: string[] = [];
  for (const s of withOk) {
    const k = scannerOf[s];
    const latest = scans.get(k)?.latestOk ?? [];
    const passes = latest.flatMap((scan) =>
      (scan.completed?.passing ?? [])
        .filter((p) => p.pciRequirements.includes(req.id))
        .map((p) => ({ scan, p })),
    );
    if (passes.length === 0) continue;
    const stale =
      input.options.maxScanAgeMs === undefined ? [] : latest.filter((scan) => isStale(scan, input));
    const cov = coverageOf(k);
    if (cov.inScope === 0) {
      gaps.push(
        `no inventory of in-scope ${cov.noun}s has been observed, so full ${sourceNames[s]} coverage cannot be shown`,
      );
      continue;
    }
    if (cov.missing.length > 0) {
      const shown = cov.missing.slice(0, 3).join(', ');
      const more = cov.missing.length > 3 ? ` and ${cov.missing.length - 3} more` : '';
      gaps.push(
        `${cov.missing.length} of ${cov.inScope} in-scope ${cov.noun}s have no ok ${sourceNames[s]} scan (${shown}${more})`,
      );
      continue;
    }
    if (stale.length > 0) {
      gaps.push(
        `${stale.length} ${sourceNames[s]} scan${stale.length === 1 ? ' is' : 's are'} older than the scan interval`,
      );
      continue;
    }
    proving.push(s);
    for (const scan of latest) {
      evidence.push(
        ev(
          'scan',
          `${scan.scanId} ${scan.targetKey ?? ''} completed ${iso(scan.completed?.completedAt)}`.trim(),
        ),
      );
      for (const u of scan.completed?.units ?? []) evidence.push(ev('unit', `${u.id}@${u.version}`));
    }
    evidence.push(ev('assets', `${cov.inScope} in-scope ${cov.noun}s, all scanned`));
    for (const { scan, p } of passes) {
      evidence.push(
        ev(
          'pass',
          `${p.checkId} on ${assetLabel(p.asset)}: ${p.field} expected ${p.expected}, actual ${p.actual} (scan ${scan.scanId})`,
        ),
      );
    }
  }
  if (proving.length === 0) {
    if (gaps.length > 0) return notTested(capitalize(gaps.join('; ')));
    return notTested(`No passing check names it in the latest ok ${names(withOk)} scans`);
  }
  return {
    status: RequirementStatus.IN_PLACE,
    reason: `Passing ${names(proving)} checks over every in-scope asset`,
    evidence: dedupe(evidence),
  };
}

function withSupporting(verdict: Verdict, count: number | undefined): Verdict {
  if (!count || verdict.status !== RequirementStatus.NOT_TESTED) return verdict;
  const these = count === 1 ? '1 open finding names' : `${count} open findings name`;
  return {
    ...verdict,
    reason: `${verdict.reason}; ${these} it as supporting evidence only, which does not decide its status`,
  };
}

function isStale(scan: ScanRecord, input: StatusInput): boolean {
  const done = toNanos(scan.completed?.completedAt);
  const asOf = toNanos(input.asOf);
  const max = input.options.maxScanAgeMs;
  if (max === undefined || asOf === undefined) return false;
  if (done === undefined) return true;
  return compareNanos(asOf - done, BigInt(max) * 1_000_000n) > 0;
}

// ---- in-scope assets ----

interface AssetCoverage {
  readonly noun: string;
  readonly inScope: number;
  readonly missing: readonly string[];
}

// Which inventory items a scanner is expected to have looked at, and whether its latest ok scans did.
function assetCoverage(scope: ScopeState, scanner: ScannerKind, scans: ScannerScans): AssetCoverage {
  const items = [...scope.inventory.values()].map((r) => r.item);
  const assets = scans.latestOk.flatMap((s) => s.completed?.assets ?? []);
  const targetKeys = new Set(scans.latestOk.map((s) => s.targetKey ?? ''));
  switch (scanner) {
    case ScannerKind.IMAGE: {
      const refs = new Set<string>();
      for (const i of items) {
        if (i.item.case === 'image' && i.item.value.ref) refs.add(i.item.value.ref);
        if (i.item.case === 'container' && i.item.value.imageRef) refs.add(i.item.value.imageRef);
      }
      const seen = new Set([
        ...targetKeys,
        ...assets.filter((a) => a.kind === AssetKind.IMAGE).map((a) => a.imageRef),
      ]);
      return tally('image', refs, (ref) => seen.has(ref));
    }
    case ScannerKind.HOST:
    case ScannerKind.RUNTIME: {
      const nodes = new Set(items.flatMap((i) => (i.item.case === 'node' ? [i.item.value.name] : [])));
      const seen = new Set([
        ...targetKeys,
        ...assets.flatMap((a) => [a.node, a.kind === AssetKind.NODE ? a.name : '']),
      ]);
      return tally('node', nodes, (n) => seen.has(n));
    }
    case ScannerKind.CONFIG: {
      const workloads = new Set(items.flatMap(workloadKey));
      // A live-cluster audit reads every object of the cluster.
      const live = targetKeys.has('live');
      const seen = new Set(
        assets
          .filter((a) => a.kind === AssetKind.WORKLOAD)
          .map((a) => `${a.namespace}/${a.resourceKind}/${a.name}`),
      );
      return tally('workload', workloads, (w) => live || seen.has(w));
    }
    default:
      return { noun: 'asset', inScope: 0, missing: [] };
  }
}

function workloadKey(i: InventoryItem): string[] {
  return i.item.case === 'workload'
    ? [`${i.item.value.namespace}/${i.item.value.kind}/${i.item.value.name}`]
    : [];
}

function tally(noun: string, inScope: Set<string>, covered: (k: string) => boolean): AssetCoverage {
  const missing = [...inScope].filter((k) => !covered(k)).sort(compareStrings);
  return { noun, inScope: inScope.size, missing };
}

// ---- small helpers ----

function names(sources: readonly Exclude<EvidenceSource, 'manual'>[]): string {
  const list = sources.map((s) => s);
  if (list.length <= 1) return list.join('');
  return `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}`;
}

function ev(key: string, value: string): Evidence {
  return create(EvidenceSchema, { key, value });
}

function dedupe(evidence: Evidence[]): Evidence[] {
  const seen = new Set<string>();
  return evidence.filter((e) => {
    const k = `${e.key}\u0000${e.value}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function assetLabel(a: Asset | undefined): string {
  if (!a) return 'unknown asset';
  if (a.imageRef) return a.imageRef;
  if (a.node && !a.name) return `node ${a.node}`;
  const ns = a.namespace ? `${a.namespace}/` : '';
  const kind = a.resourceKind ? `${a.resourceKind}/` : '';
  return `${kind}${ns}${a.name || a.node || a.cluster}`;
}

function iso(ts: TimestampLike | undefined): string {
  const n = toNanos(ts);
  if (n === undefined) return 'at an unknown time';
  return new Date(Number(n / 1_000_000n)).toISOString();
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
