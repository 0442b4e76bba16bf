import { accessSync, constants, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  ScanReportSchema,
  ScanStatus,
  fromReportJson,
  type ComplianceReport,
  type Finding,
  type ScanReport,
} from '@vigil/contracts';
import { describeLoadErrors, loadManifests } from '@vigil/config-audit';
import { isRequirementId } from '@vigil/pci';
import { reportFromContent, toJunit, toSarif } from '@vigil/report';
import type { Deployment } from '../deployment.js';
import type { Output } from '../output.js';
import type { Pipeline } from '../pipeline.js';
import { UsageError } from '../usage-error.js';
import {
  baselineOf,
  evaluateGate,
  exceptedIds,
  findingsSummary,
  readBaselineFile,
  type Baseline,
} from './ci-gate.js';
import type { PolicyInput } from './findings-view.js';
import { scanCommand } from './scan.command.js';
import { scanTarget, type ScanTarget } from './scan-target.js';

export interface CiArgs {
  image: string;
  manifests: readonly string[];
  failOnRequirements: readonly string[];
  /** A snapshot version of this scope, or a report.json path. */
  baseline?: string;
  sarifPath?: string;
  junitPath?: string;
  cdeLabel?: string;
  platform?: string;
}

export interface CiCommandInput extends CiArgs {
  deployment: Deployment;
  pipeline: Pipeline;
  cluster: string;
  ignoreUnfixed: boolean;
  timeoutMs: number;
  policy: PolicyInput;
  toolVersion: string;
  out: Output;
  /** The baseline file, read by ciPrepare before the deployment opened. */
  baselineFile?: Baseline;
  /**
   * The deployment's evidence key fingerprint, written into the SARIF and JUnit as `vigil report` writes it
   * (evidenceKeyFingerprint), so a gate's reports can be matched to the deployment's signed evidence.
   */
  keyFingerprint?: () => Promise<string>;
}

/**
 * Everything that can be checked without the deployment: the arguments, and a baseline file (a snapshot version
 * needs the store). A wrong one exits 2 at once instead of after the embedded Postgres has started.
 */
export async function ciPrepare(a: CiArgs, policy: PolicyInput): Promise<Baseline | undefined> {
  ciTargets(a, policy);
  // An output that cannot be written must stop the run before its scans add a snapshot version.
  if (a.sarifPath) checkWritable(a.sarifPath, '--sarif');
  if (a.junitPath) checkWritable(a.junitPath, '--junit');
  return a.baseline !== undefined && !isSnapshotVersion(a.baseline)
    ? readBaselineFile(a.baseline)
    : undefined;
}

// The scan targets say `vigil scan image:`; the user ran `vigil ci` and gave the flag.
function asCi<T>(fn: () => T, flag: string): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof UsageError)
      throw new UsageError(err.message.replace(/^vigil scan \S+: /, `vigil ci: ${flag}: `));
    throw err;
  }
}

// Digits are a snapshot version; a file called "3" is given as ./3.
function isSnapshotVersion(spec: string): boolean {
  return /^\d+$/.test(spec);
}

/** The scan targets of a `vigil ci` run; usage errors come before the deployment opens. */
export function ciTargets(a: CiArgs, policy: PolicyInput): ScanTarget[] {
  if (!a.image) throw new UsageError('vigil ci: --image <ref|archive> names the built image to gate');
  if (!policy.threshold && a.failOnRequirements.length === 0)
    throw new UsageError(
      'vigil ci: a gate needs a policy: give --fail-on SEVERITY and/or --fail-on-requirement ID',
    );
  for (const id of a.failOnRequirements)
    if (!isRequirementId(id))
      throw new UsageError(
        `vigil ci: --fail-on-requirement "${id.slice(0, 40)}" is not a PCI DSS v4.0.1 requirement id (e.g. 6.3 or 6.3.1)`,
      );
  const image = asCi(() => scanTarget('image', [a.image], {}), '--image');
  if (a.platform) image.options = { ...image.options, platform: a.platform };
  const targets = [image];
  if (a.manifests.length > 0) {
    const k8s = asCi(() => scanTarget('k8s', [...a.manifests], {}), '--manifests');
    if (a.cdeLabel) k8s.options = { ...k8s.options, 'cde-label': a.cdeLabel };
    targets.push(k8s);
  }
  return targets;
}

/**
 * `vigil ci`: scans the image (and the manifests) through the scan command on this deployment, gates the
 * findings (see ci-gate.ts), prints a short summary, writes SARIF and JUnit. 0 pass, 1 policy failed; usage and
 * input errors (a bad baseline among them) throw UsageError, which the CLI turns into 2.
 */
export async function ciCommand(i: CiCommandInput): Promise<number> {
  const targets = ciTargets(i, i.policy);
  // The baseline is read before anything is scanned: a wrong one must stop the run, not follow it.
  const baseline =
    i.baselineFile ?? (i.baseline === undefined ? undefined : await loadBaseline(i, i.baseline));
  // Manifests that cannot be audited would fail their scan after the image scan had made a snapshot version:
  // reading them first (cheap, and the same loader the config auditor uses) fails the run before anything is stored.
  for (const t of targets)
    if (t.target.ref.case === 'manifests') await checkManifests(t.target.ref.value.sources);

  // Each scan runs through the scan command itself and is read back from its published JSON, so `vigil ci` sees
  // exactly what `vigil scan ... --format json` prints (same filters, same snapshot wait), without a second copy.
  const scans: ScanReport[] = [];
  for (const target of targets) {
    let json = '';
    const capture: Output = { result: (t) => (json += t), progress: i.out.progress, warn: i.out.warn };
    await scanCommand({
      deployment: i.deployment,
      pipeline: i.pipeline,
      target,
      command: 'vigil ci',
      cluster: i.cluster,
      format: 'json',
      severity: [],
      ignoreUnfixed: i.ignoreUnfixed,
      timeoutMs: i.timeoutMs,
      // The gate is decided here over both scans; the scan itself only reports.
      policy: { ignores: [], now: i.policy.now },
      out: capture,
    });
    scans.push(fromReportJson(ScanReportSchema, JSON.parse(json)));
  }
  const report = await snapshotOf(i, scans[scans.length - 1]!.scanId);
  const findings = scans.flatMap((s) => s.findings);
  const gate = evaluateGate({
    findings,
    report,
    policy: i.policy,
    failOnRequirements: i.failOnRequirements,
    ...(baseline ? { baseline } : {}),
  });
  const incomplete = scans.filter((s) => s.status !== ScanStatus.OK);
  const reasons = [
    ...gate.reasons,
    // A gate must not pass on a scan that checked nothing.
    ...incomplete.map(
      (s) =>
        `the ${s.target?.key ?? 'scan'} scan did not complete (${ScanStatus[s.status].toLowerCase()}${s.error ? `: ${s.error}` : ''})`,
    ),
  ];
  const exitCode = gate.exitCode === 1 || incomplete.length > 0 ? 1 : 0;

  const failingIds = new Set(gate.failing.map((f) => f.id));
  const written: string[] = [];
  const fingerprint = (i.sarifPath || i.junitPath) && i.keyFingerprint ? await i.keyFingerprint() : '';
  const files = ciReports({
    findings,
    report,
    failingIds,
    waived: gate.waived,
    toolVersion: i.toolVersion,
    keyFingerprint: fingerprint,
  });
  if (i.sarifPath) {
    await writeOutput(i.sarifPath, files.sarif(), '--sarif');
    written.push(`SARIF ${i.sarifPath}`);
  }
  if (i.junitPath) {
    await writeOutput(i.junitPath, files.junit(), '--junit');
    written.push(`JUnit ${i.junitPath}`);
  }

  const lines = [
    ...scans.map(
      (s) => `${s.target?.key ?? ''}: ${ScanStatus[s.status].toLowerCase()}, ${s.findings.length} finding(s)`,
    ),
    `findings: ${findingsSummary(findings, exceptedIds(report))}` +
      (baseline ? `; ${gate.newCount} new against the baseline (${baseline.source})` : ''),
  ];
  const waivedWhy = countBy([...gate.waived.values()].filter((w) => w !== 'below the gate'));
  if (waivedWhy.size > 0)
    lines.push(`not failing: ${[...waivedWhy].map(([why, n]) => `${n} ${why}`).join('; ')}`);
  if (gate.failingRequirements.length > 0)
    lines.push(`failing requirements: ${gate.failingRequirements.join(', ')}`);
  lines.push(`snapshot v${report.snapshotVersion} of ${i.cluster} (${report.contentHash.slice(0, 19)}…)`);
  if (written.length > 0) lines.push(`wrote ${written.join(', ')}`);
  lines.push(exitCode === 1 ? `policy failed: ${reasons.join('; ')}` : 'policy passed');
  i.out.result(lines.join('\n'));
  for (const w of gate.warnings) i.out.warn(w);
  return exitCode;
}

/**
 * The SARIF (this run's findings) and JUnit (the run's snapshot, failing what the gate failed) that `vigil ci`
 * writes, each with the evidence key fingerprint under the property `vigil report --format sarif|junit` uses.
 */
export function ciReports(i: {
  findings: readonly Finding[];
  report: ComplianceReport;
  failingIds: ReadonlySet<string>;
  waived: ReadonlyMap<string, string>;
  toolVersion: string;
  keyFingerprint: string;
}): { sarif: () => string; junit: () => string } {
  const key = i.keyFingerprint ? { evidenceKeyFingerprint: i.keyFingerprint } : {};
  return {
    sarif: () =>
      JSON.stringify(
        toSarif(i.findings, { toolVersion: i.toolVersion, exceptions: i.report.exceptions, ...key }),
        null,
        2,
      ) + '\n',
    junit: () =>
      toJunit(i.report, {
        ...key,
        fails: (f) => i.failingIds.has(f.id),
        waivedBecause: (f) => i.waived.get(f.id) ?? 'not scanned by this run',
      }),
  };
}

async function loadBaseline(i: CiCommandInput, spec: string): Promise<Baseline> {
  if (isSnapshotVersion(spec)) {
    const stored = await i.pipeline.store.getSnapshot(i.cluster, Number(spec));
    if (!stored)
      throw new UsageError(
        `vigil ci: --baseline ${spec}: scope ${i.cluster} has no snapshot version ${spec}`,
      );
    return baselineOf(`snapshot ${spec}`, reportFromContent(stored.content, stored.contentHash).findings);
  }
  return readBaselineFile(spec);
}

async function snapshotOf(i: CiCommandInput, scanId: string): Promise<ComplianceReport> {
  // This run's own version: with other scans running at once, the latest may be someone else's.
  const mine = (await i.pipeline.store.listSnapshots(i.cluster)).find((s) => s.scanId === scanId);
  const stored = mine ? await i.pipeline.store.getSnapshot(i.cluster, mine.version) : undefined;
  if (!stored) throw new Error(`vigil ci: the pipeline made no snapshot for scan ${scanId}`);
  const report = reportFromContent(stored.content, stored.contentHash);
  report.contentHash = stored.contentHash;
  return report;
}

async function checkManifests(sources: readonly string[]): Promise<void> {
  let loaded: Awaited<ReturnType<typeof loadManifests>>;
  try {
    loaded = await loadManifests(sources);
  } catch (err) {
    throw new UsageError(`vigil ci: --manifests: ${(err as Error).message}`);
  }
  if (loaded.errors.length > 0)
    throw new UsageError(
      `vigil ci: --manifests: ${loaded.errors.length} input(s) cannot be audited, so nothing was scanned: ${describeLoadErrors(loaded.errors)}`,
    );
  if (loaded.objects.length === 0)
    throw new UsageError(`vigil ci: --manifests: no Kubernetes objects in ${sources.join(', ')}`);
}

function checkWritable(path: string, flag: string): void {
  const problem = (() => {
    try {
      if (statSync(path).isDirectory()) return 'it is a directory';
      accessSync(path, constants.W_OK);
      return undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return (err as NodeJS.ErrnoException).code;
    }
    try {
      accessSync(dirname(resolve(path)), constants.W_OK);
      return undefined;
    } catch (err) {
      return `its directory: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    }
  })();
  if (problem) throw new UsageError(`vigil ci: ${flag} ${path}: cannot write it (${problem})`);
}

async function writeOutput(path: string, content: string, flag: string): Promise<void> {
  try {
    await writeFile(path, content);
  } catch (err) {
    throw new UsageError(
      `vigil ci: ${flag} ${path}: cannot write it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
}

function countBy(values: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}
