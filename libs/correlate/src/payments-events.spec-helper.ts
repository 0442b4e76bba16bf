// Test support: the events the real producers publish for examples/payments, built by running the real engines
// (config-audit over the manifests, image-scan over the built image with the example advisories, runtime-rules over
// the Falco alerts), wrapped in envelopes the way the services wrap them.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type EventEnvelope,
  type Finding,
  type InventoryItem,
  ScanStatus,
  ScannerKind,
  newEnvelope,
} from '@vigil/contracts';
import { auditManifests } from '@vigil/config-audit';
import {
  MemoryAdvisoryStore,
  ROOTFS_SKIP,
  openImage,
  readDirectory,
  scanFiles,
  scanImage,
  type ScanOptions,
  type ScanReport,
} from '@vigil/image-scan';
import { ingestEvents } from '@vigil/runtime-rules';
import { assessHost, materializeFixture } from '@vigil/host-assess';

export const CLUSTER = 'payments-prod';
export const IMAGE_REF = 'registry.example.com/acme/payment-api:1.4.2';
export const MANIFEST_KEY = 'examples/payments/k8s';

/** One scan's events as a service publishes them: findings, inventory, then the completion. */
export function scanEvents(input: {
  scanId: string;
  scanner: ScannerKind;
  targetKey: string;
  at: string;
  findings: Finding[];
  inventory?: InventoryItem[];
  producer: string;
}): EventEnvelope[] {
  let n = 0;
  const clock = () => new Date(input.at);
  const base = {
    scope: { cluster: CLUSTER },
    producer: { service: input.producer },
    clock,
    newId: () => `${input.scanId}-${++n}`,
  };
  return [
    ...input.findings.map((finding) =>
      newEnvelope({
        ...base,
        subjectKey: finding.id,
        payload: { case: 'findingReported', value: { scanId: input.scanId, finding } },
      }),
    ),
    ...(input.inventory
      ? [
          newEnvelope({
            ...base,
            subjectKey: input.targetKey,
            payload: {
              case: 'inventoryObserved',
              value: { scanId: input.scanId, scope: { cluster: CLUSTER }, items: input.inventory },
            },
          }),
        ]
      : []),
    newEnvelope({
      ...base,
      subjectKey: input.scanId,
      payload: {
        case: 'scanCompleted',
        value: {
          scanId: input.scanId,
          scanner: input.scanner,
          scope: { cluster: CLUSTER },
          targetKey: input.targetKey,
          status: ScanStatus.OK,
          findingIds: input.findings.map((f) => f.id),
        },
      },
    }),
  ];
}

export async function configAuditEvents(
  root: string,
  scanId: string,
  at: string,
  extraPaths: string[] = [],
  manifests = join(root, MANIFEST_KEY),
): Promise<{ events: EventEnvelope[]; findings: Finding[] }> {
  const audit = await auditManifests({
    paths: [manifests, ...extraPaths],
    cluster: CLUSTER,
    clock: () => new Date(at),
  });
  if (audit.errors.length)
    throw new Error(`examples/payments/k8s: ${audit.errors.map((e) => e.message).join('; ')}`);
  return {
    findings: audit.findings,
    events: scanEvents({
      scanId,
      scanner: ScannerKind.CONFIG,
      targetKey: MANIFEST_KEY,
      at,
      findings: audit.findings,
      inventory: audit.inventory,
      producer: 'config-auditor',
    }),
  };
}

async function advisories(root: string): Promise<MemoryAdvisoryStore> {
  const store = new MemoryAdvisoryStore(() => new Date('2026-11-01T00:00:00Z'));
  await store.loadDump(join(root, 'examples/payments/advisories'));
  return store;
}

function imageEvents(report: ScanReport, scanId: string, at: string): EventEnvelope[] {
  return scanEvents({
    scanId,
    scanner: ScannerKind.IMAGE,
    targetKey: IMAGE_REF,
    at,
    findings: report.findings,
    inventory: [
      {
        $typeName: 'vigil.v1.InventoryItem',
        item: {
          case: 'image',
          value: {
            $typeName: 'vigil.v1.Image',
            ref: report.target.reference,
            digest: report.target.digest,
            os: 'linux',
            architecture: report.target.architecture ?? '',
            distro: report.target.distro ?? '',
          },
        },
      },
    ],
    producer: 'image-scanner',
  });
}

/** The example image built by examples/payments/image/build.mjs and scanned as the image-scanner scans it. */
export async function imageScanEvents(
  root: string,
  scanId: string,
  at: string,
  enrichment?: ScanOptions['enrichment'],
): Promise<{ events: EventEnvelope[]; report: ScanReport }> {
  const out = mkdtempSync(join(tmpdir(), 'correlate-image-'));
  execFileSync(process.execPath, [join(root, 'examples/payments/image/build.mjs'), out], { stdio: 'ignore' });
  const source = await openImage(join(out, 'payment-api.tar'));
  try {
    const report = await scanImage(source, {
      cluster: CLUSTER,
      advisories: await advisories(root),
      reference: IMAGE_REF,
      clock: () => new Date(at),
      ...(enrichment ? { enrichment } : {}),
    });
    return { events: imageEvents(report, scanId, at), report };
  } finally {
    await source.close();
  }
}

/**
 * The image rebuilt with the fixed OpenSSL (DSA-5532-1: 3.0.11-1~deb12u2): the example root filesystem with its
 * dpkg database upgraded, scanned as a root filesystem under the same reference (a new digest under the same tag).
 */
export async function rebuiltImageScanEvents(
  root: string,
  scanId: string,
  at: string,
): Promise<{ events: EventEnvelope[]; report: ScanReport }> {
  const dir = mkdtempSync(join(tmpdir(), 'correlate-rebuilt-'));
  cpSync(join(root, 'examples/payments/image/rootfs'), dir, { recursive: true });
  const status = join(dir, 'var/lib/dpkg/status');
  const before = readFileSync(status, 'utf8');
  const after = before.replaceAll('Version: 3.0.11-1~deb12u1', 'Version: 3.0.11-1~deb12u2');
  if (after === before) throw new Error(`${status}: no OpenSSL 3.0.11-1~deb12u1 to upgrade`);
  writeFileSync(status, after);
  const files = await readDirectory(dir, { skip: ROOTFS_SKIP });
  const digest = `sha256:${'b'.repeat(64)}`;
  const report = await scanFiles(
    files.files,
    { name: dir, kind: 'rootfs', digest },
    { cluster: CLUSTER, advisories: await advisories(root), reference: IMAGE_REF, clock: () => new Date(at) },
  );
  if (report.target.reference !== IMAGE_REF) throw new Error('rebuilt image: reference not kept');
  return { events: imageEvents(report, scanId, at), report };
}

/** The Falco alerts of examples/payments/runtime through runtime-rules, as runtime-ingest publishes them. */
export function runtimeEvents(
  root: string,
  scanId: string,
  at: string,
): { events: EventEnvelope[]; findings: Finding[] } {
  const file = join(root, 'examples/payments/runtime/falco-alerts.jsonl');
  const result = ingestEvents({
    input: readFileSync(file),
    cluster: CLUSTER,
    name: file,
    clock: () => new Date(at),
  });
  return {
    findings: result.findings,
    events: scanEvents({
      scanId,
      scanner: ScannerKind.RUNTIME,
      targetKey: file,
      at,
      findings: result.findings,
      producer: 'runtime-ingest',
    }),
  };
}

/** The NetworkPolicy the config auditor generated for payment-api's open egress, written as a manifest file. */
export function generatedEgressPolicy(configFindings: Finding[]): string {
  const f = configFindings.find(
    (x) => x.ruleId === 'net/no-egress-networkpolicy' && x.asset?.name === 'payment-api',
  );
  if (!f?.remediation?.patch) throw new Error('config audit: no egress NetworkPolicy patch for payment-api');
  const file = join(mkdtempSync(join(tmpdir(), 'correlate-netpol-')), 'payment-api-egress.json');
  writeFileSync(file, f.remediation.patch);
  return file;
}

/**
 * The example node (examples/payments/node) through the host assessor under the node name the test places pods
 * on, as the host-assessor publishes it: its failed checks, its Node inventory, the completion.
 */
export async function hostEvents(
  root: string,
  scanId: string,
  at: string,
  node: string,
): Promise<{ events: EventEnvelope[]; findings: Finding[] }> {
  const { root: nodeRoot } = materializeFixture(join(root, 'examples/payments/node'));
  const assessment = await assessHost({ root: nodeRoot, node, cluster: CLUSTER, clock: () => new Date(at) });
  return {
    findings: assessment.findings,
    events: scanEvents({
      scanId,
      scanner: ScannerKind.HOST,
      targetKey: node,
      at,
      findings: assessment.findings,
      inventory: [
        {
          $typeName: 'vigil.v1.InventoryItem',
          item: {
            case: 'node',
            value: {
              $typeName: 'vigil.v1.Node',
              name: node,
              uid: '',
              labels: {},
              osImage: '',
              kernelVersion: assessment.kernelVersion ?? '',
              containerRuntime: '',
              kubeletVersion: '',
              addresses: [],
            },
          },
        },
      ],
      producer: 'host-assessor',
    }),
  };
}
