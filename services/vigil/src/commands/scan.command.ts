import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { create, fromBinary, fromJson, type JsonValue } from '@vigil/contracts';
import {
  FindingSchema,
  InstalledPackageSchema,
  InventoryItemSchema,
  ScanReportSchema,
  Severity,
  ScanRequestedSchema,
  ScanStatus,
  ScopeSchema,
  SCHEMA_VERSIONS,
  decodeEnvelope,
  encodeEnvelope,
  newEnvelope,
  scanRequestTopic,
  toReportJson,
  type Finding,
  type ScanCompleted,
  type ScanReport,
} from '@vigil/contracts';
import {
  CheckStatus,
  HostCheckResultSchema,
  HostPackageScanSchema,
  ScannerKind,
  type HostCheckResult,
  type HostPackageScan,
} from '@vigil/contracts';
import { digestFromContent, findingCounts, toSarif } from '@vigil/report';
import type { Pipeline } from '../pipeline.js';
import { VIGIL_VERSION } from '../pipeline.js';
import type { Deployment } from '../deployment.js';
import { table, type Output } from '../output.js';
import { findingRows, policyOutcome, type PolicyInput } from './findings-view.js';
import type { ScanTarget } from './scan-target.js';
import { UsageError, usageError } from '../usage-error.js';

export interface ScanCommandInput {
  deployment: Deployment;
  pipeline: Pipeline;
  target: ScanTarget;
  cluster: string;
  /** The subcommand (image, rootfs, fs, k8s, host), for messages; default: the scanner's name. */
  kind?: string;
  /** The command that ran the scan, for messages, when it is not `vigil scan` (`vigil ci`). */
  command?: string;
  format: 'table' | 'json' | 'sarif' | 'cyclonedx';
  /** Severities to show; empty shows all. */
  severity: readonly string[];
  /** Leave out vulnerabilities without a fixed version, from the output and the gate. */
  ignoreUnfixed: boolean;
  timeoutMs: number;
  policy: PolicyInput;
  out: Output;
}

/**
 * `vigil scan ...`: publishes the scan request, lets the pipeline run, waits for the scan's snapshot and prints
 * that scan's own result. Exit code 1 only when a --fail-on threshold is given and a finding meets it; a scan
 * that failed (unreadable or hostile input) is a UsageError: exit 2, one line.
 */
export async function scanCommand(i: ScanCommandInput): Promise<number> {
  const scanId = randomUUID();
  const scope = create(ScopeSchema, { tenant: '', cluster: i.cluster });
  const request = newEnvelope({
    payload: {
      case: 'scanRequested',
      value: create(ScanRequestedSchema, {
        scanId,
        scanner: i.target.scanner,
        scope,
        target: i.target.target,
        requestedBy: `vigil-cli@${hostname()}`,
        options: i.target.options ?? {},
      }),
    },
    scope,
    subjectKey: i.target.target.key,
    producer: { service: 'vigil-cli', version: VIGIL_VERSION, instance: `${hostname()}-${process.pid}` },
  });
  await i.deployment.eventLog.publish([
    { topic: scanRequestTopic(i.target.scanner), key: i.target.target.key, value: encodeEnvelope(request) },
  ]);
  i.out.progress(`scan ${scanId} requested: ${i.target.target.key}`);

  await i.pipeline.waitUntilCaughtUp(i.timeoutMs);
  const stored = await i.pipeline.store.scanById(scanId);
  if (!stored?.payload) {
    throw new Error(
      `scan ${scanId}: the pipeline caught up but no scanner completed the scan (is a consumer for it running?)`,
    );
  }
  const completedEnvelope = decodeEnvelope(stored.payload);
  if (completedEnvelope.payload.case !== 'scanCompleted')
    throw new Error(`scan ${scanId}: stored result is not a completed scan`);
  const completed = completedEnvelope.payload.value;
  // A scan that failed could not read or analyse what it was pointed at: an input error, not a result. The failure
  // is on the log (the next version lists it), but it makes no version of its own.
  if (completed.status === ScanStatus.FAILED) {
    const key = i.target.target.key;
    const error = completed.error || 'the scan failed';
    // Most engines name their input in the error already: the target is said once.
    const problem = error.startsWith(`${key}: `) ? error : `${key}: ${error}`;
    if (i.command !== undefined) throw new UsageError(`${i.command}: ${problem}`);
    throw usageError('scan', i.kind ?? ScannerKind[i.target.scanner].toLowerCase(), problem);
  }

  const all: Finding[] = [];
  for (const id of completed.findingIds) {
    const f = await i.pipeline.store.getFinding(i.cluster, id);
    if (f) all.push(fromBinary(FindingSchema, f.payload));
  }
  // An unfixed vulnerability has a package and no fixed version; checks have no package and always stay.
  const gated = i.ignoreUnfixed ? all.filter((f) => !f.package || f.package.fixedVersion !== '') : all;
  const shown = new Set(i.severity.map((w) => w.toUpperCase()));
  const outcome = policyOutcome(gated, i.policy);
  // What the ignore file accepts is left out of what the scan prints, as Trivy's ignore files do; the snapshot still
  // has it (the ignore file is local to this run) and the result names what was left out.
  const findings = (shown.size ? gated.filter((f) => shown.has(Severity[f.severity])) : gated).filter(
    (f) => !outcome.ignoredIds.has(f.id),
  );
  const blob = async (role: string) => {
    const ref = completed.blobs.find((b) => b.role === role);
    return ref ? i.pipeline.store.getBlob(ref.digest) : undefined;
  };
  const packageList = await blob('package-list');
  const packages = packageList
    ? (JSON.parse(new TextDecoder().decode(packageList.content)) as JsonValue[]).map((p) =>
        fromJson(InstalledPackageSchema, p),
      )
    : [];
  const inventoryBlob = await blob('inventory');
  const inventory = inventoryBlob
    ? (JSON.parse(new TextDecoder().decode(inventoryBlob.content)) as JsonValue[]).map((item) =>
        fromJson(InventoryItemSchema, item),
      )
    : [];
  const report: ScanReport = create(ScanReportSchema, {
    schemaVersion: SCHEMA_VERSIONS['vigil.v1.ScanReport'],
    scanId,
    scanner: completed.scanner,
    scope,
    ...(completed.target ? { target: completed.target } : { target: i.target.target }),
    status: completed.status,
    error: completed.error,
    ...(completed.startedAt ? { startedAt: completed.startedAt } : {}),
    ...(completed.completedAt ? { completedAt: completed.completedAt } : {}),
    units: completed.units,
    assets: completed.assets,
    findings,
    passing: completed.passing,
    counts: findingCounts(findings),
    blobs: completed.blobs,
    packages,
    inventory,
    ...(await hostReportParts(completed, blob)),
  });
  // This scan's own version: with other scans running at once, the latest may be someone else's.
  const mine = (await i.pipeline.store.listSnapshots(i.cluster)).find((s) => s.scanId === scanId);
  const snapshot = mine ? await i.pipeline.store.getSnapshot(i.cluster, mine.version) : undefined;
  // A gate must not pass on a scan that checked nothing.
  if (i.policy.threshold && completed.status !== ScanStatus.OK) {
    outcome.exitCode = 1;
    outcome.notes.push(
      `policy failed: the scan did not complete (${ScanStatus[completed.status].toLowerCase()}), so nothing was checked`,
    );
  }

  if (i.format === 'json') {
    i.out.result(JSON.stringify(toReportJson(ScanReportSchema, report), null, 2));
  } else if (i.format === 'sarif') {
    // The acceptances of this scan's version, read through its digest (its findings are not decoded again).
    const exceptions = snapshot ? digestFromContent(snapshot.content, snapshot.contentHash).exceptions : [];
    i.out.result(JSON.stringify(toSarif(findings, { toolVersion: VIGIL_VERSION, exceptions }), null, 2));
  } else if (i.format === 'cyclonedx') {
    const sbom = await blob('sbom');
    if (!sbom)
      throw new Error(
        `scan ${scanId}: no CycloneDX SBOM was stored (status ${ScanStatus[completed.status].toLowerCase()}${completed.error ? `: ${completed.error}` : ''})`,
      );
    i.out.result(new TextDecoder().decode(sbom.content));
  } else {
    const lines = [
      `scan ${scanId}  ${i.target.target.key}`,
      `status: ${ScanStatus[completed.status].toLowerCase()}${completed.error ? ` — ${completed.error}` : ''}`,
    ];
    if (packages.length > 0) {
      lines.push(`${packages.length} packages`);
    }
    if (inventory.length > 0) lines.push(inventorySummary(inventory));
    lines.push(...hostCheckLines(report.checks, report.packageScan));
    if (findings.length > 0)
      lines.push(
        '',
        table(['severity', 'rule', 'asset', 'package', 'fixed in', 'pci dss'], findingRows(findings)),
      );
    else if (completed.status === ScanStatus.OK) lines.push('no findings');
    if (snapshot) {
      // The digest only: decoding every finding of a large scope for five counts took seconds.
      const s = digestFromContent(snapshot.content, snapshot.contentHash).summary;
      const attested = s.manuallyAttested ? `, ${s.manuallyAttested} manually attested` : '';
      lines.push(
        '',
        `snapshot v${snapshot.version} of ${i.cluster}: ${s.inPlace} in place, ${s.notInPlace} not in place, ` +
          `${s.notTested} not tested, ${s.notApplicable} not applicable${attested} (${snapshot.contentHash.slice(0, 19)}…)`,
      );
    }
    for (const line of outcome.notes) lines.push(line);
    i.out.result(lines.join('\n'));
  }
  for (const w of outcome.warnings) i.out.warn(w);
  return outcome.exitCode;
}

// ---- vigil scan host: every check result and the package scan, from the host-assessor's blobs ----

/** The host-assessor stores every check result (not-applicable and errored ones too) and its package scan. */
const HOST_CHECKS_ROLE = 'host-checks';
const HOST_PACKAGE_SCAN_ROLE = 'host-package-scan';

async function hostReportParts(
  completed: ScanCompleted,
  blob: (role: string) => Promise<{ content: Uint8Array } | undefined>,
): Promise<{ checks: HostCheckResult[]; packageScan?: HostPackageScan }> {
  if (completed.scanner !== ScannerKind.HOST) return { checks: [] };
  const read = async (role: string) => {
    const stored = await blob(role);
    return stored ? (JSON.parse(new TextDecoder().decode(stored.content)) as JsonValue) : undefined;
  };
  const checks = ((await read(HOST_CHECKS_ROLE)) as JsonValue[] | undefined) ?? [];
  const packageScan = await read(HOST_PACKAGE_SCAN_ROLE);
  return {
    checks: checks.map((c) => fromJson(HostCheckResultSchema, c)),
    ...(packageScan !== undefined ? { packageScan: fromJson(HostPackageScanSchema, packageScan) } : {}),
  };
}

/** Table output of a host scan: the verdict counts, whether packages were matched, every errored check. */
function hostCheckLines(
  checks: readonly HostCheckResult[],
  packageScan: HostPackageScan | undefined,
): string[] {
  if (checks.length === 0) return [];
  const count = (s: CheckStatus) => checks.filter((c) => c.status === s).length;
  const lines = [
    `${checks.length} checks: ${count(CheckStatus.PASS)} pass, ${count(CheckStatus.FAIL)} fail, ` +
      `${count(CheckStatus.NOT_APPLICABLE)} not applicable, ${count(CheckStatus.ERROR)} error`,
  ];
  if (packageScan && !packageScan.tested) lines.push(`host packages: not tested — ${packageScan.reason}`);
  else if (packageScan)
    lines.push(
      `host packages: ${packageScan.vulnerablePackages} of ${packageScan.packages} vulnerable ` +
        `(${packageScan.databases.join(', ')}; ${packageScan.advisoryRecords} advisory records)`,
    );
  const errored = checks.filter((c) => c.status === CheckStatus.ERROR);
  if (errored.length > 0)
    lines.push(
      '',
      table(
        ['error', 'inspected', 'reason'],
        errored.map((c) => [c.id, c.field, c.reason]),
      ),
    );
  return lines;
}

function inventorySummary(items: ScanReport['inventory']): string {
  const count = (kind: string, pick?: (v: { cde?: boolean }) => boolean) =>
    items.filter((i) => i.item.case === kind && (!pick || pick(i.item.value as { cde?: boolean }))).length;
  return (
    `inventory: ${count('namespace')} namespaces (${count('namespace', (v) => v.cde === true)} in the CDE), ` +
    `${count('workload')} workloads (${count('workload', (v) => v.cde === true)} in the CDE), ${count('container')} containers, ` +
    `${count('serviceAccount')} service accounts, ${count('serviceExposure')} exposures`
  );
}
