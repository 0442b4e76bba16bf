import { isLegacyTag } from '@vigil/pci';
import {
  type ContainerRef,
  type NetworkPeer,
  type ProcessRef,
  type RuntimeDetection,
  type RuntimeEvent,
  type SensorPriority,
} from '../detection.model.js';
import { falcoRuleKind } from '../meaning/falco-rule-kinds.data.js';
import { derivedProcessPolicies, detectionOf } from '../policies/process-policies.js';
import {
  bareContainerId,
  isObject,
  num,
  obj,
  parseConnection,
  str,
  strings,
  workloadFromPodName,
} from './field-access.js';
import {
  type JsonObject,
  type NormalizeContext,
  type NormalizeOutcome,
  type RuntimeNormalizer,
} from './normalizer.model.js';

const PRIORITIES: Readonly<Record<string, SensorPriority>> = {
  emergency: 'emergency',
  alert: 'alert',
  critical: 'critical',
  error: 'error',
  warning: 'warning',
  notice: 'notice',
  informational: 'informational',
  info: 'informational',
  debug: 'debug',
};

const MITRE = /^T[A]?\d{4}(?:\.\d{3})?$/;
const ID = 'falco-alert';
const VERSION = 1;

/** Falco's internal events (metrics snapshots, heartbeats): the sensor talking about itself. */
function isTelemetry(v: JsonObject): boolean {
  const rule = typeof v['rule'] === 'string' ? v['rule'] : '';
  return v['source'] === 'internal' || rule.startsWith('Falco internal:');
}

function containerOf(f: JsonObject): ContainerRef | null {
  const id = bareContainerId(str(f['container.id']));
  // Falco reports `host` for processes outside any container.
  if (id === null || id === 'host') return null;
  const repo = str(f['container.image.repository']);
  const tag = str(f['container.image.tag']);
  const digest = str(f['container.image.digest']);
  const image = repo
    ? tag
      ? `${repo}:${tag}`
      : digest
        ? `${repo}@${digest}`
        : repo
    : str(f['container.image']);
  return { id, name: str(f['container.name']), image, imageDigest: digest };
}

function processOf(f: JsonObject): ProcessRef | null {
  const p: ProcessRef = {
    name: str(f['proc.name']),
    executable: str(f['proc.exepath']) ?? str(f['proc.exe']),
    cmdline: str(f['proc.cmdline']),
    pid: num(f['proc.pid']),
    user: str(f['user.name']),
    uid: num(f['user.uid']),
    execId: null,
  };
  return (p.name ?? p.executable ?? p.cmdline ?? p.user ?? p.uid ?? null) ? p : null;
}

function parentOf(f: JsonObject): ProcessRef | null {
  const name = str(f['proc.pname']);
  const cmdline = str(f['proc.pcmdline']);
  const executable = str(f['proc.pexepath']) ?? str(f['proc.pexe']);
  if (name === null && cmdline === null && executable === null) return null;
  return { name, executable, cmdline, pid: num(f['proc.ppid']), user: null, uid: null, execId: null };
}

function ancestorsOf(f: JsonObject): string[] {
  const out: string[] = [];
  for (let i = 2; i <= 7; i++) {
    const a = str(f[`proc.aname[${i}]`]);
    if (a === null) break;
    out.push(a);
  }
  return out;
}

/** The file an alert is about: fd.name for file descriptors, else the path arguments of the syscall. */
function fileOf(f: JsonObject): string | null {
  const fdName = str(f['fd.name']);
  const fdType = str(f['fd.type']);
  if (
    fdName !== null &&
    fdName.startsWith('/') &&
    (fdType === null || fdType === 'file' || fdType === 'directory')
  )
    return fdName;
  return (
    str(f['fs.path.name']) ??
    str(f['fs.path.target']) ??
    str(f['evt.arg.pathname']) ??
    str(f['evt.arg.name']) ??
    str(f['evt.arg.path']) ??
    null
  );
}

function peerOf(f: JsonObject): NetworkPeer | null {
  const conn = parseConnection(str(f['fd.name']));
  const rip = str(f['fd.rip']) ?? str(f['fd.sip']) ?? conn?.peerIp ?? null;
  if (conn) {
    // fd.name is the socket's own client->server tuple; when the remote address is its client side (an accepted
    // connection), the peer is the client. The tuple wins over fd.lport/fd.rport, which some captures label the
    // other way round.
    const inbound = rip !== null && rip === conn.localIp && rip !== conn.peerIp;
    return {
      ip: inbound ? conn.localIp : conn.peerIp,
      port: inbound ? conn.localPort : conn.peerPort,
      name: str(f['fd.rip.name']) ?? str(f['fd.sip.name']),
      protocol: str(f['fd.l4proto']),
      localIp: inbound ? conn.peerIp : conn.localIp,
      localPort: inbound ? conn.peerPort : conn.localPort,
    };
  }
  const rport = num(f['fd.rport']) ?? num(f['fd.sport']);
  if (rip === null && rport === null) return null;
  return {
    ip: rip,
    port: rport,
    name: str(f['fd.rip.name']) ?? str(f['fd.sip.name']),
    protocol: str(f['fd.l4proto']),
    localIp: str(f['fd.lip']) ?? str(f['fd.cip']),
    localPort: num(f['fd.lport']) ?? num(f['fd.cport']),
  };
}

function k8sAuditFields(f: JsonObject): RuntimeEvent['k8s'] {
  const user = str(f['ka.user.name']);
  const verb = str(f['ka.verb']);
  if (user === null && verb === null) return null;
  return {
    verb,
    user,
    impersonatedUser: str(f['ka.impuser.name']),
    groups: strings(f['ka.user.groups']),
    sourceIps: strings(f['ka.sourceips']),
    userAgent: str(f['ka.useragent']),
    resource: str(f['ka.target.resource']),
    subresource: str(f['ka.target.subresource']),
    namespace: str(f['ka.target.namespace']),
    name: str(f['ka.target.name']),
    apiGroup: null,
    requestUri: str(f['ka.uri']),
    responseCode: num(f['ka.response.code']),
    decision: str(f['ka.auth.decision']),
    reason: str(f['ka.auth.reason']),
    auditId: str(f['ka.auditid']),
    stage: null,
    level: null,
  };
}

function normalize(v: JsonObject, ctx: NormalizeContext): NormalizeOutcome {
  const rule = str(v['rule']) ?? '';
  const f = obj(v['output_fields']) ?? {};
  if (isTelemetry(v)) {
    // Kept for sensor-health evidence (10.7.x): dropped kernel events and dropped outputs mean blind spots.
    const drops = [f['scap.n_drops'], f['falco.outputs_queue_num_drops'], f['n_drops']]
      .map(num)
      .filter((n): n is number => n !== null);
    return {
      telemetry: `Falco internal event "${rule || str(v['output']) || 'unnamed'}"`,
      node: str(v['hostname']) ?? str(f['evt.hostname']),
      drops: drops.length > 0 ? drops.reduce((a, b) => a + b, 0) : null,
      time: str(v['time']),
      kind: /syscall event drop/i.test(rule) ? 'drop-alert' : /metrics/i.test(rule) ? 'metrics' : 'other',
    };
  }
  const tags = strings(v['tags']);
  const container = containerOf(f);
  const k8s = k8sAuditFields(f);
  const namespace = str(f['k8s.ns.name']) ?? k8s?.namespace ?? null;
  const pod = str(f['k8s.pod.name']) ?? (k8s?.resource === 'pods' ? k8s.name : null);
  const looked = ctx.inventory?.workloadOf({
    node: str(v['hostname']),
    containerId: container?.id ?? null,
    namespace,
    pod,
  });
  const time = str(v['time']);
  const failed = f['evt.failed'] === true || f['evt.failed'] === 'true';
  return {
    event: {
      sensor: 'falco',
      normalizer: { id: ID, version: VERSION },
      eventType: rule,
      source: str(v['source']),
      priority: PRIORITIES[(str(v['priority']) ?? '').toLowerCase()] ?? null,
      time: time ?? ctx.clock().toISOString(),
      timeFromClock: time === null,
      node: str(v['hostname']) ?? str(f['evt.hostname']),
      line: ctx.line,
      container:
        container && looked?.image && !container.image ? { ...container, image: looked.image } : container,
      // The event's own fields win; the inventory fills what the event lacks and knows the controller.
      namespace: namespace ?? looked?.namespace ?? null,
      pod: pod ?? looked?.pod ?? null,
      workload: looked?.workload ?? workloadFromPodName(pod ?? looked?.pod ?? null),
      process: processOf(f),
      parent: parentOf(f),
      ancestors: ancestorsOf(f),
      file: fileOf(f),
      peer: peerOf(f),
      k8s,
      denied: failed || (k8s?.responseCode ?? 0) >= 400,
      tags,
      mitre: tags.filter((t) => MITRE.test(t)),
      legacyPciTags: tags.filter((t) => isLegacyTag(t)),
      message: str(v['output']),
      kprobe: null,
      execSyscall: /^execve(?:at)?$/.test(str(f['evt.type']) ?? ''),
      capSysAdmin: null,
    },
  };
}

function detect(event: RuntimeEvent, ctx: Parameters<RuntimeNormalizer['detect']>[1]): RuntimeDetection[] {
  const kind = falcoRuleKind(event.eventType, event.tags, event.file !== null);
  const own = detectionOf(
    event,
    `falco:${event.eventType}`,
    kind,
    event.eventType,
    `Falco rule "${event.eventType}" fired${event.priority ? ` at priority ${event.priority}` : ''}`,
    null,
    event.legacyPciTags,
  );
  return [own, ...derivedProcessPolicies(event, own.ruleId, ctx)];
}

/** Falco JSON alerts: `json_output`, the http output and falcosidekick's webhook body all have this shape. */
export const falcoNormalizer: RuntimeNormalizer = {
  id: ID,
  sensor: 'falco',
  version: VERSION,
  concerns: (v) =>
    typeof v['rule'] === 'string' &&
    typeof v['priority'] === 'string' &&
    (typeof v['output'] === 'string' || isObject(v['output_fields'])),
  normalize,
  detect,
};
