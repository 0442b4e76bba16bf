import {
  AssetKind,
  create,
  type Finding,
  FindingSchema,
  FindingSource,
  findingId,
  MatchType,
  type Timestamp,
  TimestampSchema,
} from '@vigil/contracts';
import { type DetectionKind, type RuntimeDetection } from '../detection.model.js';
import { actorOf } from '../normalizers/k8s-audit.normalizer.js';
import { RUNTIME_POLICIES } from '../registry.js';
import { pciMeaning, severityOf } from './pci-meaning.js';

type AssetInit = NonNullable<Parameters<typeof findingId>[0]['asset']>;

const RBAC_KINDS: Readonly<Record<string, string>> = {
  roles: 'Role',
  clusterroles: 'ClusterRole',
  rolebindings: 'RoleBinding',
  clusterrolebindings: 'ClusterRoleBinding',
  secrets: 'Secret',
  serviceaccounts: 'ServiceAccount',
};

const REMEDIATION: Readonly<Record<DetectionKind, string>> = {
  'shell-in-container':
    'Confirm who opened the shell and why; remove shells from production images and deny pods/exec in CDE namespaces except through a break-glass role.',
  'exec-into-pod':
    'Confirm the exec was an approved change or incident action; restrict pods/exec and pods/attach in CDE namespaces to a break-glass role.',
  'sensitive-file-read':
    'Investigate the process that read the file; rotate the credentials it holds if the read was not expected.',
  'secret-access':
    'Confirm the reader needed the secret; narrow get/list on Secrets to the workloads that use them and rotate the secret if the read was not expected.',
  drift:
    'Treat the container as compromised: capture it, then redeploy from the image; make the root filesystem read-only.',
  'critical-file-write':
    'Treat the container as compromised: capture it, then redeploy from the image; make the root filesystem read-only.',
  'package-manager':
    'Install software only in the image build; redeploy the container from its image and remove package managers from production images.',
  'unexpected-egress':
    'Block the destination with an egress NetworkPolicy (default deny) or add it to the declared allow-list if it is a legitimate dependency.',
  'crypto-mining':
    'Isolate the workload, preserve evidence and start incident response; redeploy from a clean image and rotate credentials it could reach.',
  'privilege-escalation':
    'Investigate the escalation; drop privileged mode, host namespaces and capabilities the workload does not need.',
  'rbac-change':
    'Review the RBAC change against the access-approval record; revert grants that were not approved.',
  'anonymous-request':
    'Disable anonymous authentication on the API server (--anonymous-auth=false) or remove every role binding to system:anonymous / system:unauthenticated.',
  'log-tampering':
    'Investigate who cleared the logs; ship logs off the node in real time so local deletion cannot erase them.',
  other:
    'Investigate the sensor alert and decide whether it is expected behaviour (then tune the rule) or an incident.',
};

function assetOf(d: RuntimeDetection, cluster: string): AssetInit {
  const k = d.k8s;
  if (d.sensor === 'k8s-audit' && k) {
    if (d.workload && d.namespace)
      return {
        kind: AssetKind.WORKLOAD,
        cluster,
        namespace: d.namespace,
        name: d.workload.name,
        resourceKind: d.workload.kind,
      };
    const kind = k.resource ? RBAC_KINDS[k.resource] : undefined;
    if (kind && k.name)
      return {
        kind: AssetKind.RESOURCE,
        cluster,
        namespace: k.namespace ?? '',
        name: k.name,
        resourceKind: kind,
      };
    if (k.namespace) return { kind: AssetKind.NAMESPACE, cluster, name: k.namespace, namespace: k.namespace };
    return { kind: AssetKind.CLUSTER, cluster };
  }
  if (d.container) {
    const container = d.container.name ?? d.container.id ?? 'unknown';
    return {
      kind: AssetKind.CONTAINER,
      cluster,
      namespace: d.namespace ?? '',
      // Without Kubernetes metadata (plain Docker) the container itself is the workload.
      name: d.workload?.name ?? container,
      resourceKind: d.workload?.kind ?? 'Container',
      container,
      imageRef: d.container.image ?? '',
      node: d.node ?? '',
    };
  }
  if (d.node) return { kind: AssetKind.NODE, cluster, node: d.node, name: d.node };
  return { kind: AssetKind.CLUSTER, cluster };
}

/** The salient detail that tells one problem on an asset from another: the file, the peer, the actor, the binary. */
function locationOf(d: RuntimeDetection): string {
  const k = d.k8s;
  if (d.sensor === 'k8s-audit' && k) {
    if (d.kind === 'anonymous-request') return `source ${k.sourceIps[0] ?? 'unknown'}`;
    return `user ${actorOf(k)}${d.kind === 'rbac-change' ? ` ${k.verb ?? ''}` : ''}`;
  }
  if (d.ruleId === 'runtime/drift' || d.ruleId === 'runtime/crypto-mining')
    return d.process?.executable ?? d.process?.name ?? '';
  if (d.file) return d.file;
  if (d.peer?.ip) return `${d.peer.ip}:${d.peer.port ?? ''}`;
  if (d.peer?.localPort) return `listen :${d.peer.localPort}`;
  return d.process?.executable ?? d.process?.name ?? '';
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/i;

/** A point in time as whole seconds and nanoseconds: plain numbers, cheap to compare, exact to the nanosecond. */
export interface Instant {
  seconds: number;
  nanos: number;
}

/** RFC 3339 with up to nanoseconds into seconds and nanoseconds, keeping the nanoseconds Date would drop. */
export function instantOf(rfc3339: string): Instant {
  const m = RFC3339.exec(rfc3339.trim());
  const zone = m?.[3] && /^[+-]\d{4}$/.test(m[3]) ? `${m[3].slice(0, 3)}:${m[3].slice(3)}` : m?.[3];
  const ms = m ? Date.parse(`${m[1]}${zone ?? ''}`) : Number.NaN;
  if (Number.isNaN(ms)) throw new Error(`runtime event time "${rfc3339}" is not an RFC 3339 timestamp`);
  const nanos = m?.[2] ? Number(m[2].padEnd(9, '0')) : 0;
  return { seconds: Math.floor(ms / 1000), nanos };
}

/** RFC 3339 with up to nanoseconds into a protobuf Timestamp. */
export function timestampOf(rfc3339: string): Timestamp {
  return protoTimestamp(instantOf(rfc3339));
}

function protoTimestamp(i: Instant): Timestamp {
  return create(TimestampSchema, { seconds: BigInt(i.seconds), nanos: i.nanos });
}

/**
 * instantOf remembering what it parsed: one ingest checks every event's time, then windows the findings and judges
 * sensor health from the same strings, and a batch parsed three times over showed in the profile.
 */
export function rememberingInstantOf(): (rfc3339: string) => Instant {
  const seen = new Map<string, Instant>();
  return (rfc3339) => {
    let i = seen.get(rfc3339);
    if (!i) {
      i = instantOf(rfc3339);
      seen.set(rfc3339, i);
    }
    return i;
  };
}

function compareInstants(a: Instant, b: Instant): number {
  return a.seconds !== b.seconds ? a.seconds - b.seconds : a.nanos - b.nanos;
}

// Findings travel as events under Kafka's 1 MB limit: a burst of a million alerts must not list every line.
const MAX_LISTED = 20;
function capped(values: string[]): string {
  return values.length <= MAX_LISTED
    ? values.join(',')
    : `${values.slice(0, MAX_LISTED).join(',')} and ${values.length - MAX_LISTED} more`;
}

function unitOf(d: RuntimeDetection): { id: string; version: number } {
  return RUNTIME_POLICIES[d.ruleId] ?? d.normalizer;
}

function inspected(d: RuntimeDetection): { field: string; expected: string; actual: string } {
  if (d.k8s)
    return {
      field: 'objectRef',
      expected: 'no such request in a PCI scope',
      actual: `${d.k8s.verb ?? '?'} ${d.k8s.resource ?? d.k8s.requestUri ?? '?'}${d.k8s.subresource ? `/${d.k8s.subresource}` : ''}${d.k8s.name ? ` ${d.k8s.name}` : ''} by ${actorOf(d.k8s)}`,
    };
  if (d.ruleId === 'runtime/drift')
    return {
      field: 'process.executable',
      expected: 'a file shipped by the image',
      actual: d.process?.executable ?? '',
    };
  if (d.ruleId === 'runtime/crypto-mining')
    return { field: 'process.cmdline', expected: 'no mining indicator', actual: d.process?.cmdline ?? '' };
  if (d.sensor === 'falco')
    return {
      field: 'rule',
      expected: 'rule does not fire',
      actual: `${d.sensorRule}${d.priority ? ` (${d.priority})` : ''}`,
    };
  if (d.file) return { field: 'file', expected: 'not accessed', actual: d.file };
  if (d.peer?.ip)
    return {
      field: 'destination',
      expected: 'internal or allow-listed',
      actual: `${d.peer.ip}:${d.peer.port ?? ''}`,
    };
  return { field: 'process.executable', expected: 'not executed', actual: d.process?.executable ?? '' };
}

function where(d: RuntimeDetection): string {
  if (d.pod) return `${d.namespace ? `${d.namespace}/` : ''}${d.pod}`;
  if (d.k8s?.name) return `${d.k8s.namespace ? `${d.k8s.namespace}/` : ''}${d.k8s.name}`;
  if (d.container) return `container ${d.container.name ?? d.container.id ?? ''}`;
  if (d.k8s?.namespace) return `namespace ${d.k8s.namespace}`;
  return d.node ? `node ${d.node}` : 'the cluster';
}

/**
 * Detections into findings: one per (rule, asset, salient detail), with the time window of every occurrence and
 * the occurrence count as evidence. Order: first seen, then id, so the output is stable.
 */
export function toFindings(
  detections: readonly RuntimeDetection[],
  cluster: string,
  instant: (rfc3339: string) => Instant = instantOf,
): Finding[] {
  const groups = new Map<string, { asset: AssetInit; location: string; items: RuntimeDetection[] }>();
  // Hashing the id is the costly part of grouping, and a burst repeats the same rule, asset and detail: the id is
  // computed once per distinct (rule, asset fields, detail). Groups stay keyed by the id itself, so detections
  // whose assets differ only in what the id leaves out (a container's node) still share one finding.
  const idOf = new Map<string, string>();
  for (const d of detections) {
    const asset = assetOf(d, cluster);
    const location = locationOf(d);
    // A container's id leaves its node out, so the node stays out of the key too: one hash per container, not per
    // container and node (the key may be finer than the id, never coarser).
    const node = asset.kind === AssetKind.CONTAINER ? '' : (asset.node ?? '');
    const key = `${d.ruleId}\u0000${asset.kind}\u0000${asset.namespace ?? ''}\u0000${asset.name ?? ''}\u0000${asset.resourceKind ?? ''}\u0000${asset.container ?? ''}\u0000${asset.imageRef ?? ''}\u0000${node}\u0000${location}`;
    let id = idOf.get(key);
    if (id === undefined) {
      id = findingId({ source: FindingSource.RUNTIME, ruleId: d.ruleId, asset, location });
      idOf.set(key, id);
    }
    const g = groups.get(id);
    if (g) g.items.push(d);
    else groups.set(id, { asset, location, items: [d] });
  }
  const out: { first: Instant; finding: Finding }[] = [];
  for (const [id, g] of groups) {
    // Earliest and latest in one pass; on equal times the first listed is first and the last listed is last, as a
    // stable sort by time would have it.
    let first: { d: RuntimeDetection; t: Instant } | undefined;
    let last: { d: RuntimeDetection; t: Instant } | undefined;
    for (const d of g.items) {
      const t = instant(d.time);
      if (!first || compareInstants(t, first.t) < 0) first = { d, t };
      if (!last || compareInstants(t, last.t) >= 0) last = { d, t };
    }
    if (!first || !last) continue;
    const d = first.d;
    // The most severe occurrence speaks for the group (a later alert may carry a higher priority).
    let severity = severityOf(d);
    for (const x of g.items) {
      const s = severityOf(x);
      if (s < severity) severity = s;
    }
    const meaning = pciMeaning(d);
    const ev: { key: string; value: string }[] = [
      { key: 'occurrences', value: String(g.items.length) },
      { key: 'first_seen', value: first.d.time },
      { key: 'last_seen', value: last.d.time },
      { key: 'sensor', value: d.sensor },
      { key: 'sensor_rule', value: d.sensorRule },
      { key: 'reason', value: d.reason },
      { key: 'input_lines', value: capped([...new Set(g.items.map((x) => x.line))].map(String)) },
    ];
    const opt = (key: string, value: string | number | null | undefined): void => {
      if (value !== null && value !== undefined && value !== '') ev.push({ key, value: String(value) });
    };
    const pods = [...new Set(g.items.map((x) => x.pod).filter((p): p is string => p !== null))];
    if (pods.length > 1) ev.push({ key: 'pods', value: capped(pods) });
    opt('priority', d.priority);
    opt('node', d.node);
    opt('namespace', d.namespace);
    opt('pod', d.pod);
    opt('workload', d.workload ? `${d.workload.kind}/${d.workload.name} (${d.workload.from})` : null);
    opt('container_id', d.container?.id);
    opt('image', d.container?.image);
    opt('process', d.process?.executable ?? d.process?.name);
    opt('cmdline', d.process?.cmdline);
    opt(
      'user',
      d.process?.user ??
        (d.process?.uid !== null && d.process?.uid !== undefined ? `uid ${d.process.uid}` : null),
    );
    opt('parent', d.parent?.cmdline ?? d.parent?.executable ?? d.parent?.name);
    opt('file', d.file);
    opt('peer', d.peer?.ip ? `${d.peer.ip}:${d.peer.port ?? ''}` : null);
    opt('k8s_user', d.k8s ? actorOf(d.k8s) : null);
    opt('k8s_response_code', d.k8s?.responseCode);
    opt('denied', d.denied ? 'true' : null);
    opt('derived_from', d.derivedFrom);
    opt('mitre', d.mitre.join(','));
    opt('pci_mapping_keys', meaning.mappingKeys.join(','));
    opt('pci_secondary', meaning.secondary.join(','));
    for (const r of meaning.remapped)
      ev.push({
        key: 'legacy_pci_tag',
        value: `${r.tag} → ${r.ids.length ? r.ids.join(', ') : 'no v4.0.1 equivalent (dropped)'}`,
      });
    const start = protoTimestamp(first.t);
    const end = protoTimestamp(last.t);
    const window = { start, end };
    const finding = create(FindingSchema, {
      id,
      source: FindingSource.RUNTIME,
      ruleId: d.ruleId,
      aliases: d.derivedFrom ? [d.derivedFrom] : d.ruleId.startsWith('falco:') ? [d.sensorRule] : [],
      title: `${d.title} (${where(d)})`,
      description: `${d.reason}.${d.message ? ` Sensor message: ${d.message}` : ''}`,
      severity,
      pciRequirements: meaning.ids,
      asset: g.asset,
      locations: g.location ? [g.location] : [],
      remediation: { summary: REMEDIATION[d.kind] },
      evidence: ev,
      firstSeen: start,
      lastSeen: end,
      window,
      detection: { matchType: MatchType.RUNTIME_RULE, unit: unitOf(d), record: d.ruleId, ...inspected(d) },
    });
    out.push({ first: first.t, finding });
  }
  out.sort((a, b) => compareInstants(a.first, b.first) || (a.finding.id < b.finding.id ? -1 : 1));
  return out.map((o) => o.finding);
}
