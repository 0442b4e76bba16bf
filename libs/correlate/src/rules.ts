import {
  AssetKind,
  type AssetSchema,
  type Container,
  type Finding,
  FindingSchema,
  FindingSource,
  MatchType,
  NetworkIsolation,
  Severity,
  type ServiceAccount,
  type Workload,
  create,
  findingId,
  type MessageInitShape,
} from '@vigil/contracts';

type AssetInit = MessageInitShape<typeof AssetSchema>;
import { mappingKeys, requirementsFor } from '@vigil/pci';
import { type FindingRecord } from './asset-graph.js';
import {
  type Priority,
  type PriorityContext,
  isKnownExploited,
  priorityOf,
  renderPriority,
} from './priority.js';

/** What the graph knows around one container of one workload: the unit every rule reads. */
export interface ContainerContext {
  key: string;
  container: Container;
  imageDigest: string;
  /** Open vulnerability findings on the container's image (package matches, not image checks). */
  vulnerabilities: FindingRecord[];
  /** Open runtime detections in this container. */
  runtime: FindingRecord[];
  pods: string[];
  priorityContexts?: Map<string, PriorityContext>;
  asset?: AssetInit;
}

export interface WorkloadContext {
  key: string;
  cluster: string;
  workload: Workload;
  cde: boolean;
  serviceAccount?: ServiceAccount;
  /** CDE namespaces the service account can read Secrets of or exec into, with the capability that grants it. */
  cdeReach: string[];
  externalExposures: string[];
  egress: NetworkIsolation;
  /** The open config findings on the workload (their patches are the remediation for network factors). */
  config: FindingRecord[];
  containers: ContainerContext[];
  /** Nodes the pods were seen on, each with its open host findings. */
  nodes: Array<{ node: string; host: FindingRecord[] }>;
  /** Correlated finding ids already hashed, by their identity (the correlator keeps it across updates). */
  ids?: Map<string, string>;
  /** When set, per-vulnerability rules look only at these image findings (an incremental update). */
  onlyVulnerabilities?: ReadonlySet<string>;
}

/**
 * One correlated finding. Its id, priority and what it joins are computed with it; the Finding message itself is
 * built when first read, since most correlations of a large cluster are compared, not published.
 */
export interface CorrelatedFinding {
  readonly id: string;
  readonly ruleId: string;
  readonly cluster: string;
  readonly priority: Priority;
  /** The ids of the findings it joins, sorted. */
  readonly relatedFindingIds: readonly string[];
  /** The image finding it is about, for the rules that go per vulnerability. */
  readonly vulnerabilityId?: string;
  readonly finding: Finding;
}

class LazyCorrelatedFinding implements CorrelatedFinding {
  private built: Finding | undefined;
  constructor(
    readonly id: string,
    readonly ruleId: string,
    readonly cluster: string,
    readonly priority: Priority,
    readonly relatedFindingIds: readonly string[],
    readonly vulnerabilityId: string | undefined,
    private make: (() => Finding) | undefined,
  ) {}

  get finding(): Finding {
    if (!this.built) {
      this.built = this.make!();
      this.make = undefined;
    }
    return this.built;
  }
}

/** A correlation rule: a stable id (the finding's rule id), a version bumped when its output changes. */
export interface CorrelationRule {
  id: string;
  version: number;
  /** PCI mapping keys of @vigil/pci whose primary requirements the correlated finding carries. */
  pciKeys: readonly string[];
  /** One finding per (container, image vulnerability) at most, located by the vulnerability's id. */
  perVulnerability: boolean;
  /** Cheap: can this workload produce anything for the rule at all? */
  concerns(ctx: WorkloadContext): boolean;
  run(ctx: WorkloadContext): CorrelatedFinding[];
}

const SEVERITY_RANK: Record<Severity, number> = {
  [Severity.CRITICAL]: 4,
  [Severity.HIGH]: 3,
  [Severity.MEDIUM]: 2,
  [Severity.LOW]: 1,
  [Severity.UNKNOWN]: 1,
  [Severity.UNSPECIFIED]: 0,
};
const atLeastHigh = (s: Severity) => SEVERITY_RANK[s] >= 3;
const raise = (s: Severity): Severity => (SEVERITY_RANK[s] >= 3 ? Severity.CRITICAL : Severity.HIGH);

const evidence = (f: Finding, key: string) => f.evidence.find((e) => e.key === key)?.value;

const knownKeys = new Set(mappingKeys());

/** Primary PCI ids of the keys, then the joined findings' own ids, without repeats, in that order. */
function pciIds(keys: readonly string[], joined: Finding[]): string[] {
  const out = new Set<string>();
  for (const k of keys) for (const id of requirementsFor(k).primary) out.add(id);
  for (const f of joined) for (const id of f.pciRequirements) out.add(id);
  return [...out];
}

/** Mapping keys a runtime finding names in its evidence (runtime-rules writes pci_mapping_keys). */
function runtimeKeys(f: Finding): string[] {
  return (evidence(f, 'pci_mapping_keys') ?? '').split(',').filter((k) => knownKeys.has(k));
}

/** The executable a runtime detection ran: its process evidence, else its first location when that is a path. */
function processOf(f: Finding): string | undefined {
  const p = evidence(f, 'process') ?? f.locations[0];
  return p?.startsWith('/') ? p : undefined;
}

/** Paths a runtime detection shows touched: the executable and any file it names. */
function pathsOf(f: Finding): string[] {
  const out = new Set<string>();
  const p = processOf(f);
  if (p) out.add(p);
  for (const l of f.locations) if (l.startsWith('/')) out.add(l);
  const file = evidence(f, 'file');
  if (file?.startsWith('/')) out.add(file);
  return [...out];
}

const isVulnerability = (f: Finding) =>
  f.source === FindingSource.IMAGE &&
  Boolean(f.package?.name) &&
  (f.detection?.matchType === MatchType.DIRECT ||
    f.detection?.matchType === MatchType.SOURCE_PACKAGE ||
    f.detection?.matchType === MatchType.CPE);

export { isVulnerability };

/** The asset of a container's correlated findings: one object per container, shared (and never changed). */
function containerAsset(ctx: WorkloadContext, c: ContainerContext): AssetInit {
  return (c.asset ??= {
    kind: AssetKind.CONTAINER,
    cluster: ctx.cluster,
    namespace: ctx.workload.namespace,
    name: ctx.workload.name,
    container: c.container.name,
    imageRef: c.container.imageRef,
    imageDigest: c.imageDigest,
    node: '',
    resourceKind: ctx.workload.kind,
  });
}

const workloadRef = (w: Workload) => `${w.kind}/${w.namespace}/${w.name}`;
const egressWord = (e: NetworkIsolation) =>
  e === NetworkIsolation.OPEN
    ? 'open'
    : e === NetworkIsolation.RESTRICTED
      ? 'restricted'
      : e === NetworkIsolation.ISOLATED
        ? 'isolated'
        : 'unknown';

/** The priority context of a vulnerability in one container of one workload. */
export function vulnerabilityContext(ctx: WorkloadContext, c: ContainerContext, v: Finding): PriorityContext {
  // Several rules ask for the same vulnerability in the same container.
  const memo = (c.priorityContexts ??= new Map());
  // Without runtime detections in the container no file can be in use: every vulnerability shares one context.
  const key = c.runtime.length ? v.id : '';
  const had = memo.get(key);
  if (had) return had;
  const made = computeVulnerabilityContext(ctx, c, v);
  memo.set(key, made);
  return made;
}

function computeVulnerabilityContext(ctx: WorkloadContext, c: ContainerContext, v: Finding): PriorityContext {
  const files = new Set(v.locations);
  const inUse = new Set<string>();
  for (const r of c.runtime) for (const p of pathsOf(r.value)) if (files.has(p)) inUse.add(p);
  return {
    cde: ctx.cde,
    exposedBy: ctx.externalExposures,
    egress: ctx.egress,
    runtimeRules: [...new Set(c.runtime.map((r) => r.value.ruleId))].sort(),
    inUseFiles: [...inUse].sort(),
  };
}

interface Build {
  rule: CorrelationRule;
  ctx: WorkloadContext;
  asset: AssetInit;
  location: string;
  severity: Severity;
  joined: FindingRecord[];
  base: Finding;
  priority: PriorityContext;
  /** The text of the finding, only built when the finding is read. */
  lazy: () => {
    title: string;
    description: string;
    remediation: { summary: string; patch: string };
    extraEvidence: Array<[string, string]>;
    extraPciKeys?: string[];
  };
}

/** The joined findings' ids, sorted, without repeats; most correlations join one or two findings. */
function relatedIds(joined: readonly FindingRecord[]): string[] {
  if (joined.length === 1) return [joined[0]!.value.id];
  if (joined.length === 2) {
    const a = joined[0]!.value.id;
    const b = joined[1]!.value.id;
    return a === b ? [a] : a < b ? [a, b] : [b, a];
  }
  return [...new Set(joined.map((r) => r.value.id))].sort();
}

function build(b: Build): CorrelatedFinding {
  const { ctx } = b;
  const priority = priorityOf(b.base, b.priority);
  const idKey = `${b.rule.id}\u0000${ctx.key}\u0000${b.asset.container ?? ''}\u0000${b.asset.node ?? ''}\u0000${b.location}`;
  let id = ctx.ids?.get(idKey);
  if (!id) {
    id = findingId({
      source: FindingSource.CORRELATED,
      ruleId: b.rule.id,
      asset: b.asset,
      location: b.location,
    });
    ctx.ids?.set(idKey, id);
  }
  const related = relatedIds(b.joined);
  const findingIdValue = id;
  return new LazyCorrelatedFinding(
    id,
    b.rule.id,
    ctx.cluster,
    priority,
    related,
    b.rule.perVulnerability ? b.base.id : undefined,
    () => {
      const text = b.lazy();
      const joined = b.joined.map((r) => r.value);
      const lastSeen = b.joined.reduce<Finding['lastSeen']>((acc, r) => {
        const t = r.value.lastSeen;
        if (!t) return acc;
        if (!acc || t.seconds > acc.seconds || (t.seconds === acc.seconds && t.nanos > acc.nanos)) return t;
        return acc;
      }, undefined);
      const ev: Array<[string, string]> = [
        ['workload', workloadRef(ctx.workload)],
        ['namespace', `${ctx.workload.namespace}${ctx.cde ? ' (CDE)' : ''}`],
        ['service-account', ctx.serviceAccount?.name ?? ctx.workload.serviceAccount],
        ['egress', egressWord(ctx.egress)],
        ...ctx.externalExposures.map((e): [string, string] => ['exposed-by', e]),
        ...text.extraEvidence,
        ...b.joined.map((r): [string, string] => [
          `joined:${sourceWord(r.value.source)}`,
          `${r.value.id} ${r.value.ruleId}`,
        ]),
        ['priority', String(priority.score)],
        ['priority-factors', renderPriority(priority)],
        ['correlation-rule', `${b.rule.id}@${b.rule.version}`],
      ];
      return create(FindingSchema, {
        id: findingIdValue,
        source: FindingSource.CORRELATED,
        ruleId: b.rule.id,
        aliases: [...new Set([b.base.ruleId, ...b.base.aliases])],
        title: text.title,
        description: text.description,
        severity: b.severity,
        ...(b.base.cvss ? { cvss: b.base.cvss } : {}),
        pciRequirements: pciIds([...b.rule.pciKeys, ...(text.extraPciKeys ?? [])], []),
        asset: b.asset,
        ...(b.base.package ? { package: b.base.package } : {}),
        locations: [b.location, workloadRef(ctx.workload), ...joined.flatMap((f) => f.locations.slice(0, 1))],
        remediation: text.remediation,
        evidence: ev.filter(([, v]) => v !== '').map(([key, value]) => ({ key, value })),
        ...(lastSeen ? { firstSeen: lastSeen, lastSeen } : {}),
        detection: { matchType: MatchType.CORRELATION, unit: { id: b.rule.id, version: b.rule.version } },
        relatedFindingIds: related,
        references: b.base.references.slice(0, 5),
      });
    },
  );
}

function sourceWord(s: FindingSource): string {
  return s === FindingSource.IMAGE
    ? 'image'
    : s === FindingSource.CONFIG
      ? 'config'
      : s === FindingSource.RUNTIME
        ? 'runtime'
        : s === FindingSource.HOST
          ? 'host'
          : 'other';
}

// Asked once per vulnerability by several rules: looked up once per workload context.
const networkFindings = new WeakMap<
  WorkloadContext,
  { egress: FindingRecord | undefined; exposure: FindingRecord | undefined }
>();
function networkFindingsOf(ctx: WorkloadContext) {
  let found = networkFindings.get(ctx);
  if (!found) {
    found = {
      egress: ctx.config.find((r) => r.value.ruleId === 'net/no-egress-networkpolicy'),
      exposure: ctx.config.find(
        (r) => r.value.ruleId === 'net/service-exposed' || r.value.ruleId === 'net/ingress-no-tls',
      ),
    };
    networkFindings.set(ctx, found);
  }
  return found;
}
const egressFinding = (ctx: WorkloadContext) => networkFindingsOf(ctx).egress;
const exposureFinding = (ctx: WorkloadContext) => networkFindingsOf(ctx).exposure;

function vulnRemediation(v: Finding, extra?: FindingRecord): { summary: string; patch: string } {
  const fix = v.package?.fixedVersion
    ? `Upgrade ${v.package.name} to ${v.package.fixedVersion} and rebuild the image`
    : `No fixed version of ${v.package?.name ?? 'the package'} is known: limit what the workload can reach until one is`;
  const parts = [v.remediation?.summary || fix];
  if (extra?.value.remediation?.summary) parts.push(extra.value.remediation.summary);
  return { summary: parts.join('; '), patch: extra?.value.remediation?.patch || v.remediation?.patch || '' };
}

function imageEvidence(c: ContainerContext, v: Finding): Array<[string, string]> {
  return [
    ['image', c.container.imageRef],
    ['image-digest', c.imageDigest],
    ['container', c.container.name],
    ...c.pods.map((p): [string, string] => ['pod', p]),
    ['vulnerability', v.ruleId],
    ['package', v.package ? `${v.package.name} ${v.package.version}` : ''],
    ['fixed-version', v.package?.fixedVersion ?? ''],
  ];
}

const forEachVuln = (
  ctx: WorkloadContext,
  pick: (c: ContainerContext, v: FindingRecord) => CorrelatedFinding | undefined,
): CorrelatedFinding[] => {
  const out: CorrelatedFinding[] = [];
  const only = ctx.onlyVulnerabilities;
  for (const c of ctx.containers) {
    if (!only) {
      for (const v of c.vulnerabilities) {
        const r = pick(c, v);
        if (r) out.push(r);
      }
      continue;
    }
    // An incremental update names one or two findings: look them up instead of walking the image's hundreds.
    const index = vulnerabilityIndex(c.vulnerabilities);
    for (const id of only) {
      const v = index.get(id);
      const r = v && pick(c, v);
      if (r) out.push(r);
    }
  }
  return out;
};

/** A container's vulnerabilities by finding id, kept per list: the graph hands out one list per image state. */
const vulnerabilityIndexes = new WeakMap<readonly FindingRecord[], Map<string, FindingRecord>>();
function vulnerabilityIndex(list: readonly FindingRecord[]): Map<string, FindingRecord> {
  let index = vulnerabilityIndexes.get(list);
  if (!index) vulnerabilityIndexes.set(list, (index = new Map(list.map((v) => [v.value.id, v]))));
  return index;
}

const VULNERABLE_IN_CDE: CorrelationRule = {
  id: 'correlated/vulnerable-in-cde',
  version: 1,
  perVulnerability: true,
  pciKeys: ['image.vulnerable_package'],
  concerns: (ctx) => ctx.cde && ctx.containers.some((c) => c.vulnerabilities.length > 0),
  run: (ctx) =>
    forEachVuln(ctx, (c, v) =>
      build({
        rule: VULNERABLE_IN_CDE,
        ctx,
        asset: containerAsset(ctx, c),
        location: v.value.id,
        severity: v.value.severity,
        joined: [v, ...(egressFinding(ctx) ? [egressFinding(ctx)!] : [])],
        base: v.value,
        priority: vulnerabilityContext(ctx, c, v.value),
        lazy: () => ({
          // A critical left unpatched past 30 days keeps its 6.3.3 in the correlated finding.
          extraPciKeys: v.value.pciRequirements.includes('6.3.3')
            ? ['image.unpatched_critical_over_30_days']
            : [],
          title: `${v.value.ruleId} in ${v.value.package?.name ?? 'a package'} runs in CDE workload ${workloadRef(ctx.workload)}`,
          description: `Image ${c.container.imageRef} (container ${c.container.name}) has ${v.value.ruleId} in ${v.value.package?.name} ${v.value.package?.version}; it runs in ${workloadRef(ctx.workload)}, in the cardholder data environment, with egress ${egressWord(ctx.egress)}${ctx.externalExposures.length ? ` and exposed via ${ctx.externalExposures.join(', ')}` : ''}.`,
          remediation: vulnRemediation(
            v.value,
            ctx.egress === NetworkIsolation.OPEN ? egressFinding(ctx) : undefined,
          ),
          extraEvidence: imageEvidence(c, v.value),
        }),
      }),
    ),
};

const EXPOSED_VULNERABLE_CDE: CorrelationRule = {
  id: 'correlated/exposed-vulnerable-cde',
  version: 1,
  perVulnerability: true,
  pciKeys: ['image.vulnerable_package', 'k8s.service_exposed_lb_nodeport'],
  concerns: (ctx) => ctx.cde && ctx.externalExposures.length > 0,
  run: (ctx) =>
    forEachVuln(ctx, (c, v) =>
      !atLeastHigh(v.value.severity)
        ? undefined
        : build({
            rule: EXPOSED_VULNERABLE_CDE,
            ctx,
            asset: containerAsset(ctx, c),
            location: v.value.id,
            severity: raise(v.value.severity),
            joined: [v, ...(exposureFinding(ctx) ? [exposureFinding(ctx)!] : [])],
            base: v.value,
            priority: vulnerabilityContext(ctx, c, v.value),
            lazy: () => ({
              title: `${v.value.ruleId} in ${v.value.package?.name ?? 'a package'} reachable from outside the cluster in CDE workload ${workloadRef(ctx.workload)}`,
              description: `${workloadRef(ctx.workload)} is in the CDE and exposed via ${ctx.externalExposures.join(', ')}; its image ${c.container.imageRef} has ${v.value.ruleId} (${v.value.package?.name} ${v.value.package?.version}).`,
              remediation: vulnRemediation(v.value, exposureFinding(ctx)),
              extraEvidence: imageEvidence(c, v.value),
            }),
          }),
    ),
};

const EXFILTRATION_PATH: CorrelationRule = {
  id: 'correlated/exfiltration-path',
  version: 1,
  perVulnerability: true,
  pciKeys: ['image.vulnerable_package', 'k8s.netpol_no_default_deny_egress'],
  concerns: (ctx) => ctx.cde && ctx.egress === NetworkIsolation.OPEN,
  run: (ctx) =>
    forEachVuln(ctx, (c, v) =>
      !atLeastHigh(v.value.severity)
        ? undefined
        : build({
            rule: EXFILTRATION_PATH,
            ctx,
            asset: containerAsset(ctx, c),
            location: v.value.id,
            severity: raise(v.value.severity),
            joined: [v, ...(egressFinding(ctx) ? [egressFinding(ctx)!] : [])],
            base: v.value,
            priority: vulnerabilityContext(ctx, c, v.value),
            lazy: () => ({
              title: `Exfiltration path: ${v.value.ruleId} in ${v.value.package?.name ?? 'a package'} in CDE workload ${workloadRef(ctx.workload)} with open egress`,
              description: `A compromise through ${v.value.ruleId} (${v.value.package?.name} ${v.value.package?.version}) in ${c.container.imageRef} lands in ${workloadRef(ctx.workload)}, a CDE workload whose pods may connect anywhere: no NetworkPolicy restricts its egress.`,
              remediation: vulnRemediation(v.value, egressFinding(ctx)),
              extraEvidence: imageEvidence(c, v.value),
            }),
          }),
    ),
};

const ACTIVE_EXPLOITATION: CorrelationRule = {
  id: 'correlated/active-exploitation',
  version: 1,
  perVulnerability: true,
  pciKeys: ['image.vulnerable_package'],
  concerns: (ctx) => ctx.containers.some((c) => c.runtime.length > 0 && c.vulnerabilities.length > 0),
  run: (ctx) =>
    forEachVuln(ctx, (c, v) => {
      const files = new Set(v.value.locations);
      const hits = c.runtime.filter((r) => {
        const p = processOf(r.value);
        return p !== undefined && files.has(p) && SEVERITY_RANK[r.value.severity] >= 2;
      });
      if (!hits.length) return undefined;
      return build({
        rule: ACTIVE_EXPLOITATION,
        ctx,
        asset: containerAsset(ctx, c),
        location: v.value.id,
        severity: Severity.CRITICAL,
        joined: [v, ...hits],
        base: v.value,
        priority: vulnerabilityContext(ctx, c, v.value),
        lazy: () => ({
          title: `Possible active exploitation of ${v.value.ruleId} in ${workloadRef(ctx.workload)}`,
          description: `Runtime detections (${hits.map((h) => h.value.ruleId).join(', ')}) fired on a process of ${v.value.package?.name}, the package ${v.value.ruleId} affects, in container ${c.container.name} of ${workloadRef(ctx.workload)}.`,
          remediation: {
            summary: `Investigate the container now (isolate the pod, keep its state); then ${vulnRemediation(v.value).summary}`,
            patch: '',
          },
          extraEvidence: [
            ...imageEvidence(c, v.value),
            ...hits.map((h): [string, string] => ['process', processOf(h.value) ?? '']),
          ],
          extraPciKeys: hits.flatMap((h) => runtimeKeys(h.value)),
        }),
      });
    }),
};

const VULNERABLE_IN_USE: CorrelationRule = {
  id: 'correlated/vulnerable-in-use',
  version: 1,
  perVulnerability: true,
  pciKeys: ['image.vulnerable_package'],
  concerns: (ctx) => ctx.containers.some((c) => c.runtime.length > 0 && c.vulnerabilities.length > 0),
  run: (ctx) =>
    forEachVuln(ctx, (c, v) => {
      const pc = vulnerabilityContext(ctx, c, v.value);
      const inUse = pc.inUseFiles ?? [];
      if (!inUse.length) return undefined;
      const users = c.runtime.filter((r) => pathsOf(r.value).some((p) => inUse.includes(p)));
      return build({
        rule: VULNERABLE_IN_USE,
        ctx,
        asset: containerAsset(ctx, c),
        location: v.value.id,
        severity: v.value.severity,
        joined: [v, ...users],
        base: v.value,
        priority: pc,
        lazy: () => ({
          title: `${v.value.ruleId}: the vulnerable ${v.value.package?.name} is in use in ${workloadRef(ctx.workload)}`,
          description: `Runtime events show ${inUse.join(', ')} of ${v.value.package?.name} executed or opened in container ${c.container.name}: the vulnerable code is loaded, not just installed.`,
          remediation: vulnRemediation(v.value),
          extraEvidence: [...imageEvidence(c, v.value), ...inUse.map((f): [string, string] => ['in-use', f])],
        }),
      });
    }),
};

const PRIVILEGED_ON_WEAK_NODE: CorrelationRule = {
  id: 'correlated/privileged-on-weak-node',
  version: 1,
  perVulnerability: false,
  pciKeys: ['k8s.privileged_hostns_hostpath'],
  concerns: (ctx) =>
    ctx.cde &&
    (ctx.workload.hostNetwork ||
      ctx.workload.hostPid ||
      ctx.containers.some((c) => c.container.privileged)) &&
    ctx.nodes.some((n) => n.host.length > 0),
  run: (ctx) => {
    const out: CorrelatedFinding[] = [];
    const how = [
      ...ctx.containers
        .filter((c) => c.container.privileged)
        .map((c) => `privileged container ${c.container.name}`),
      ...(ctx.workload.hostNetwork ? ['hostNetwork'] : []),
      ...(ctx.workload.hostPid ? ['hostPID'] : []),
    ];
    const privConfig = ctx.config.filter((r) =>
      ['k8s/privileged', 'k8s/host-namespaces', 'k8s/host-path-mount'].includes(r.value.ruleId),
    );
    for (const n of ctx.nodes) {
      if (!n.host.length) continue;
      const node = n.node.slice(n.node.indexOf('/') + 1);
      const worst = n.host.reduce(
        (s, r) => (SEVERITY_RANK[r.value.severity] > SEVERITY_RANK[s] ? r.value.severity : s),
        Severity.LOW,
      );
      const base = n.host.find((r) => r.value.severity === worst)!.value;
      const asset: AssetInit = {
        kind: AssetKind.WORKLOAD,
        cluster: ctx.cluster,
        namespace: ctx.workload.namespace,
        name: ctx.workload.name,
        container: '',
        imageRef: '',
        imageDigest: '',
        node,
        resourceKind: ctx.workload.kind,
      };
      out.push(
        build({
          rule: PRIVILEGED_ON_WEAK_NODE,
          ctx,
          asset,
          location: node,
          severity: raise(worst),
          joined: [...privConfig, ...n.host],
          base: { ...base, package: undefined, cvss: undefined } as Finding,
          priority: { cde: ctx.cde, exposedBy: ctx.externalExposures, egress: ctx.egress },
          lazy: () => ({
            title: `CDE workload ${workloadRef(ctx.workload)} runs with host access on weak node ${node}`,
            description: `${workloadRef(ctx.workload)} (${how.join(', ')}) runs on ${node}, where ${n.host.length} host check(s) fail (${n.host.map((r) => r.value.ruleId).join(', ')}): an escape from the pod lands on a weak host that runs CDE pods.`,
            remediation: {
              summary: `Drop ${how.join(', ')} from the CDE workload, or fix the node: ${n.host
                .map((r) => r.value.remediation?.summary)
                .filter(Boolean)
                .slice(0, 3)
                .join('; ')}`,
              patch: privConfig[0]?.value.remediation?.patch ?? '',
            },
            extraEvidence: [['node', node], ...how.map((h): [string, string] => ['host-access', h])],
            extraPciKeys: [],
          }),
        }),
      );
    }
    return out;
  },
};

const SA_SECRETS_WITH_KEV: CorrelationRule = {
  id: 'correlated/sa-secrets-with-kev',
  version: 1,
  perVulnerability: true,
  pciKeys: ['k8s.rbac_secrets_read', 'image.vulnerable_package'],
  concerns: (ctx) =>
    ctx.cdeReach.length > 0 &&
    ctx.containers.some((c) => c.vulnerabilities.some((v) => isKnownExploited(v.value))),
  run: (ctx) =>
    forEachVuln(ctx, (c, v) =>
      !isKnownExploited(v.value)
        ? undefined
        : build({
            rule: SA_SECRETS_WITH_KEV,
            ctx,
            asset: containerAsset(ctx, c),
            location: v.value.id,
            severity: Severity.CRITICAL,
            joined: [v, ...ctx.config.filter((r) => r.value.ruleId === 'k8s/automount-sa-token')],
            base: v.value,
            priority: vulnerabilityContext(ctx, c, v.value),
            lazy: () => ({
              title: `Known-exploited ${v.value.ruleId} in a workload whose service account reaches CDE secrets or pods`,
              description: `${workloadRef(ctx.workload)} runs as service account ${ctx.serviceAccount?.name}, which can ${ctx.cdeReach.join(', ')}; its image ${c.container.imageRef} has ${v.value.ruleId}, listed in CISA KEV. Exploiting it hands the attacker the token.`,
              remediation: {
                summary: `${vulnRemediation(v.value).summary}; narrow the service account's RBAC (${ctx.cdeReach.join(', ')}) or stop mounting its token`,
                patch:
                  ctx.config.find((r) => r.value.ruleId === 'k8s/automount-sa-token')?.value.remediation
                    ?.patch ?? '',
              },
              extraEvidence: [
                ...imageEvidence(c, v.value),
                ...ctx.cdeReach.map((r): [string, string] => ['capability', r]),
                ...(ctx.serviceAccount?.grantedBy ?? []).map((g): [string, string] => ['granted-by', g]),
              ],
            }),
          }),
    ),
};

/** Every correlation rule, in the order their findings are listed. */
export const CORRELATION_RULES: readonly CorrelationRule[] = [
  VULNERABLE_IN_CDE,
  EXPOSED_VULNERABLE_CDE,
  EXFILTRATION_PATH,
  ACTIVE_EXPLOITATION,
  VULNERABLE_IN_USE,
  PRIVILEGED_ON_WEAK_NODE,
  SA_SECRETS_WITH_KEV,
];
