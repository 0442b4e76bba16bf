// Builders for the unit tests: real envelopes made with the contracts' own newEnvelope/create, with ids and times
// fixed so every run folds the same bytes. The packages, CVEs and checks are realistic examples, not scan output.
import {
  AssetKind,
  FindingSchema,
  FindingSource,
  MatchType,
  ScannerKind,
  ScanStatus,
  Severity,
  create,
  findingId,
  newEnvelope,
  type EventEnvelope,
  type EnvelopePayloadInit,
  type Finding,
  type MessageInitShape,
  type PassingResultSchema,
  type InventoryItemSchema,
  type AssetSchema,
  type FindingSelectorSchema,
} from '@vigil/contracts';
import { pciCatalog } from './pci-catalog.adapter.js';
import type { RequirementCatalog } from './catalog.port.js';

const T0 = Date.parse('2026-11-02T09:00:00.000Z');

export function at(minute: number): Date {
  return new Date(T0 + minute * 60_000);
}

export const PRODUCER = { service: 'vigil', version: '0.1.0', instance: 'test:1' };

export interface CompletedInit {
  scanId: string;
  scanner: ScannerKind;
  targetKey: string;
  minute: number;
  startedMinute?: number;
  status?: ScanStatus;
  error?: string;
  findingIds: readonly string[];
  digest?: string;
  units?: { id: string; version: number }[];
  assets?: MessageInitShape<typeof AssetSchema>[];
  passing?: MessageInitShape<typeof PassingResultSchema>[];
}

// One factory per test: event ids are a counter, so two factories fed the same calls make identical events.
export class Events {
  private n: number;
  // idBase keeps the ids of a second factory in one test apart from the first one's.
  constructor(
    readonly cluster = 'prod',
    idBase = 0,
  ) {
    this.n = idBase;
  }

  private envelope(payload: EnvelopePayloadInit, subjectKey: string, minute: number): EventEnvelope {
    this.n += 1;
    const id = `00000000-0000-4000-8000-${String(this.n).padStart(12, '0')}`;
    return newEnvelope({
      payload,
      scope: { cluster: this.cluster },
      subjectKey,
      producer: PRODUCER,
      clock: () => at(minute),
      newId: () => id,
    });
  }

  started(scanId: string, scanner: ScannerKind, targetKey: string, minute: number): EventEnvelope {
    return this.envelope(
      {
        case: 'scanStarted',
        value: { scanId, scanner, scope: { cluster: this.cluster }, targetKey, startedAt: ts(at(minute)) },
      },
      scanId,
      minute,
    );
  }

  completed(c: CompletedInit): EventEnvelope {
    const target =
      c.scanner === ScannerKind.IMAGE
        ? {
            kind: 1,
            key: c.targetKey,
            ref: { case: 'image' as const, value: { ref: c.targetKey, digest: c.digest ?? '' } },
          }
        : c.scanner === ScannerKind.HOST
          ? {
              kind: 4,
              key: c.targetKey,
              ref: { case: 'node' as const, value: { node: c.targetKey, rootPath: '/host' } },
            }
          : {
              kind: 3,
              key: c.targetKey,
              ref: { case: 'liveCluster' as const, value: { context: `${this.cluster}-admin` } },
            };
    return this.envelope(
      {
        case: 'scanCompleted',
        value: {
          scanId: c.scanId,
          scanner: c.scanner,
          scope: { cluster: this.cluster },
          targetKey: c.targetKey,
          target,
          status: c.status ?? ScanStatus.OK,
          error: c.error ?? '',
          units: c.units ?? [],
          assets: c.assets ?? [],
          passing: c.passing ?? [],
          findingIds: [...c.findingIds],
          startedAt: ts(at(c.startedMinute ?? c.minute - 1)),
          completedAt: ts(at(c.minute)),
        },
      },
      c.scanId,
      c.minute,
    );
  }

  reported(scanId: string, finding: Finding, minute: number): EventEnvelope {
    return this.envelope(
      { case: 'findingReported', value: { scanId, finding } },
      finding.asset?.imageRef || finding.id,
      minute,
    );
  }

  inventory(
    items: MessageInitShape<typeof InventoryItemSchema>[],
    minute: number,
    scanId = '',
  ): EventEnvelope {
    return this.envelope(
      { case: 'inventoryObserved', value: { scanId, scope: { cluster: this.cluster }, items } },
      `inventory:${this.cluster}`,
      minute,
    );
  }

  exception(
    x: {
      id: string;
      selector: MessageInitShape<typeof FindingSelectorSchema>;
      expiresMinute?: number;
      pci?: string[];
      expireOnFix?: boolean;
    },
    minute: number,
  ): EventEnvelope {
    return this.envelope(
      {
        case: 'exceptionRecorded',
        value: {
          exceptionId: x.id,
          scope: { cluster: this.cluster },
          selector: x.selector,
          owner: 'payments-platform',
          justification: 'vendor fix scheduled; service not reachable from outside the cluster',
          approvers: [{ name: 'ciso@example.com', approvedAt: ts(at(minute)) }],
          expiresAt: x.expiresMinute === undefined ? undefined : ts(at(x.expiresMinute)),
          expireOnFix: x.expireOnFix ?? false,
          pciRequirements: x.pci ?? [],
        },
      },
      x.id,
      minute,
    );
  }

  revoked(id: string, minute: number): EventEnvelope {
    return this.envelope(
      {
        case: 'exceptionRevoked',
        value: {
          exceptionId: id,
          scope: { cluster: this.cluster },
          revokedBy: 'ciso@example.com',
          reason: 'fix shipped',
        },
      },
      id,
      minute,
    );
  }
}

export function ts(d: Date): { seconds: bigint; nanos: number } {
  const ms = d.getTime();
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

export interface VulnInit {
  cve: string;
  pkg: string;
  installed: string;
  fixed?: string;
  imageRef: string;
  digest: string;
  severity: Severity;
  cluster?: string;
  pci?: string[];
}

export function vuln(v: VulnInit): Finding {
  const asset = {
    kind: AssetKind.IMAGE,
    cluster: v.cluster ?? 'prod',
    imageRef: v.imageRef,
    imageDigest: v.digest,
  };
  const purl = `pkg:deb/debian/${v.pkg}`;
  return create(FindingSchema, {
    id: findingId({ source: FindingSource.IMAGE, ruleId: v.cve, asset, location: purl }),
    source: FindingSource.IMAGE,
    ruleId: v.cve,
    title: `${v.pkg}: ${v.cve}`,
    severity: v.severity,
    pciRequirements: v.pci ?? ['6.3.1', '11.3.1'],
    asset,
    package: {
      ecosystem: 'deb',
      name: v.pkg,
      version: v.installed,
      purl: `${purl}@${v.installed}?distro=debian-12`,
      fixedVersion: v.fixed ?? '',
    },
    locations: [purl],
    remediation: { summary: v.fixed ? `upgrade ${v.pkg} to ${v.fixed}` : 'no fix available yet' },
    detection: {
      matchType: MatchType.DIRECT,
      unit: { id: 'dpkg-matcher', version: 1 },
      record: `debian:${v.cve}`,
    },
  });
}

export interface CheckInit {
  check: string;
  namespace: string;
  workload: string;
  field: string;
  severity: Severity;
  pci: string[];
  cluster?: string;
}

export function misconfig(c: CheckInit): Finding {
  const asset = {
    kind: AssetKind.WORKLOAD,
    cluster: c.cluster ?? 'prod',
    namespace: c.namespace,
    name: c.workload,
    resourceKind: 'Deployment',
  };
  return create(FindingSchema, {
    id: findingId({ source: FindingSource.CONFIG, ruleId: c.check, asset, location: c.field }),
    source: FindingSource.CONFIG,
    ruleId: c.check,
    title: `${c.check} on Deployment/${c.namespace}/${c.workload}`,
    severity: c.severity,
    pciRequirements: c.pci,
    asset,
    locations: [c.field],
    detection: {
      matchType: MatchType.CHECK,
      unit: { id: c.check, version: 1 },
      field: c.field,
      expected: 'false',
      actual: 'true',
    },
  });
}

export function runtimeAlert(rule: string, node: string, pci: string[]): Finding {
  const asset = { kind: AssetKind.NODE, cluster: 'prod', node };
  return create(FindingSchema, {
    id: findingId({ source: FindingSource.RUNTIME, ruleId: rule, asset }),
    source: FindingSource.RUNTIME,
    ruleId: rule,
    title: rule,
    severity: Severity.HIGH,
    pciRequirements: pci,
    asset,
    detection: { matchType: MatchType.RUNTIME_RULE, unit: { id: 'falco-normalizer', version: 1 } },
  });
}

// The real v4.0.1 catalog narrowed to a few ids, for tests whose expectations list every requirement.
export function subsetCatalog(
  ids: readonly string[],
  base: RequirementCatalog = pciCatalog(),
): RequirementCatalog {
  const keep = new Set(ids);
  return {
    frameworkVersion: base.frameworkVersion,
    requirements: base.requirements.filter((r) => keep.has(r.id)),
    notApplicableReason: (r, e) => base.notApplicableReason(r, e),
    mappingOf: (f) => base.mappingOf(f),
  };
}

export { AssetKind, FindingSource, ScannerKind, ScanStatus, Severity };
