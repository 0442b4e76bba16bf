import {
  type ContainerRef,
  type KprobeArg,
  type KprobeCall,
  type NetworkPeer,
  type ProcessRef,
  type RuntimeDetection,
  type RuntimeEvent,
} from '../detection.model.js';
import { isOutsideAllowed } from '../policies/egress.js';
import {
  derivedProcessPolicies,
  isPackageManager,
  isShell,
  policyDetection,
} from '../policies/process-policies.js';
import { sensitivePathReason } from '../policies/sensitive-paths.js';
import { bareContainerId, isObject, num, obj, str, strings, workloadFromPodName } from './field-access.js';
import {
  type DetectContext,
  type JsonObject,
  type NormalizeContext,
  type NormalizeOutcome,
  type RuntimeNormalizer,
} from './normalizer.model.js';

const ID = 'tetragon-export';
const VERSION = 1;

// Open-source Tetragon's GetEventsResponse types, plus the connect/close/listen types of older and enterprise
// exports, which are kept rather than failing the batch.
const EVENT_TYPES = [
  'process_exec',
  'process_exit',
  'process_kprobe',
  'process_tracepoint',
  'process_uprobe',
  'process_lsm',
  'process_loader',
  'process_throttle',
  'process_connect',
  'process_close',
  'process_listen',
] as const;

function eventTypeOf(v: JsonObject): string | undefined {
  return EVENT_TYPES.find((t) => isObject(v[t]));
}

function processOf(p: JsonObject | undefined): ProcessRef | null {
  if (!p) return null;
  const binary = str(p['binary']);
  const args = str(p['arguments']);
  return {
    name: binary ? (binary.split('/').pop() ?? binary) : null,
    executable: binary,
    cmdline: binary ? (args ? `${binary} ${args}` : binary) : null,
    pid: num(p['pid']),
    user: null,
    uid: num(p['uid']),
    execId: str(p['exec_id']),
  };
}

function containerOf(p: JsonObject | undefined): ContainerRef | null {
  const c = obj(obj(p?.['pod'])?.['container']);
  if (!c) return null;
  const image = obj(c['image']);
  const imageId = str(image?.['id']);
  const digest = imageId && /@(sha256:[0-9a-f]{64})$/.exec(imageId)?.[1];
  return {
    id: bareContainerId(str(c['id'])),
    name: str(c['name']),
    image: str(image?.['name']),
    imageDigest: digest || null,
  };
}

function argsOf(raw: unknown): KprobeArg[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter(isObject).map((a) => {
    const kind = Object.keys(a)[0] ?? 'unknown';
    const val = a[kind];
    const out: KprobeArg = { kind };
    if (isObject(val)) {
      const path = str(val['path']);
      if (path !== null) out.path = path.startsWith('/') ? path : `/${path}`;
      const name = str(val['name']);
      if (name !== null) out.name = name;
      const value = val['value'];
      if (typeof value === 'number' || typeof value === 'string') out.value = value;
    } else if (typeof val === 'number' || typeof val === 'string') out.value = val;
    return out;
  });
}

function peerOf(body: JsonObject, kprobe: KprobeCall | null, raw: unknown): NetworkPeer | null {
  if (str(body['destination_ip']) !== null) {
    return {
      ip: str(body['destination_ip']),
      port: num(body['destination_port']),
      name: null,
      protocol: str(body['protocol']),
      localIp: str(body['source_ip']),
      localPort: num(body['source_port']),
    };
  }
  if (str(body['ip']) !== null && body['port'] !== undefined) {
    return {
      ip: null,
      port: null,
      name: null,
      protocol: str(body['protocol']),
      localIp: str(body['ip']),
      localPort: num(body['port']),
    };
  }
  // Current Tetragon reports connections as kprobes on tcp_connect with a sock_arg.
  if (kprobe && Array.isArray(raw)) {
    const sock = raw
      .filter(isObject)
      .map((a) => obj(a['sock_arg']))
      .find((s) => s !== undefined);
    if (sock) {
      return {
        ip: str(sock['daddr']),
        port: num(sock['dport']),
        name: null,
        protocol: str(sock['protocol']),
        localIp: str(sock['saddr']),
        localPort: num(sock['sport']),
      };
    }
  }
  return null;
}

function normalize(v: JsonObject, ctx: NormalizeContext): NormalizeOutcome {
  const type = eventTypeOf(v) ?? 'unknown';
  const body = obj(v[type]) ?? {};
  const p = obj(body['process']);
  const pod = obj(p?.['pod']);
  const container = containerOf(p);
  const namespace = str(pod?.['namespace']);
  const podName = str(pod?.['name']);
  const node = str(v['node_name']);
  const looked = ctx.inventory?.workloadOf({
    node,
    containerId: container?.id ?? null,
    namespace,
    pod: podName,
  });
  const kprobe: KprobeCall | null =
    type === 'process_kprobe' ||
    type === 'process_tracepoint' ||
    type === 'process_uprobe' ||
    type === 'process_lsm'
      ? {
          functionName: str(body['function_name']) ?? str(body['event']) ?? '',
          policyName: str(body['policy_name']),
          action: str(body['action']),
          args: argsOf(body['args']),
        }
      : null;
  const caps = obj(p?.['cap']);
  const time = str(v['time']);
  const file = kprobe?.args.find((a) => a.path !== undefined)?.path ?? null;
  return {
    event: {
      sensor: 'tetragon',
      normalizer: { id: ID, version: VERSION },
      eventType: type,
      source: null,
      priority: null,
      time: time ?? ctx.clock().toISOString(),
      timeFromClock: time === null,
      node,
      line: ctx.line,
      container,
      // The event's own fields win; the inventory fills what the event lacks and knows the controller.
      namespace: namespace ?? looked?.namespace ?? null,
      pod: podName ?? looked?.pod ?? null,
      workload: looked?.workload ?? workloadFromPodName(podName ?? looked?.pod ?? null),
      process: processOf(p),
      parent:
        processOf(obj(body['parent'])) ??
        (str(p?.['parent_exec_id']) !== null
          ? {
              name: null,
              executable: null,
              cmdline: null,
              pid: null,
              user: null,
              uid: null,
              execId: str(p?.['parent_exec_id']),
            }
          : null),
      ancestors: [],
      file,
      peer: peerOf(body, kprobe, body['args']),
      k8s: null,
      denied: false,
      tags: [],
      mitre: [],
      legacyPciTags: [],
      message: null,
      kprobe,
      execSyscall: type === 'process_exec',
      capSysAdmin: caps ? strings(caps['effective']).includes('CAP_SYS_ADMIN') : null,
    },
  };
}

const READ_FUNCS = /(?:^|_)(?:read|pread64|readv|openat2?|open)$|^security_file_open$|^fd_install$/;
const WRITE_FUNCS = /(?:^|_)(?:write|pwrite64|writev)$/;
const MAY_WRITE = 2;
const MAY_READ = 4;
const PRIV_FUNCS = new Set([
  'commit_creds',
  '__x64_sys_setns',
  '__arm64_sys_setns',
  'do_init_module',
  'security_kernel_module_request',
]);

function fileAccess(k: KprobeCall): 'read' | 'write' | null {
  if (WRITE_FUNCS.test(k.functionName)) return 'write';
  if (k.functionName === 'security_file_permission') {
    const mask = k.args.find((a) => a.kind === 'int_arg')?.value;
    if (typeof mask === 'number') return mask & MAY_WRITE ? 'write' : mask & MAY_READ ? 'read' : null;
  }
  if (READ_FUNCS.test(k.functionName)) return 'read';
  return null;
}

function detect(e: RuntimeEvent, ctx: DetectContext): RuntimeDetection[] {
  const out: RuntimeDetection[] = [];
  const inPod = e.container !== null;
  const exe = e.process?.executable ?? null;
  if (e.eventType === 'process_exec' && inPod) {
    if (isShell(exe))
      out.push(
        policyDetection(
          e,
          'runtime/shell-in-container',
          'shell-in-container',
          'Shell started in a container',
          `${exe} was executed in container ${e.container?.name ?? e.container?.id ?? ''}`,
        ),
      );
    if (isPackageManager(exe))
      out.push(
        policyDetection(
          e,
          'runtime/package-manager',
          'package-manager',
          'Package manager run in a container',
          `${e.process?.cmdline ?? exe} ran inside a running container`,
        ),
      );
    out.push(...derivedProcessPolicies(e, null, ctx));
  }
  const k = e.kprobe;
  if (k && e.file) {
    const access = fileAccess(k);
    const why = sensitivePathReason(e.file);
    if (access === 'read' && why)
      out.push(
        policyDetection(
          e,
          'runtime/sensitive-file-read',
          'sensitive-file-read',
          'Sensitive file read',
          `${exe ?? 'a process'} read ${e.file} (${why}) via ${k.functionName}`,
        ),
      );
    if (access === 'write' && (why || /^\/(?:etc|bin|sbin|usr\/bin|usr\/sbin|lib|usr\/lib)\//.test(e.file)))
      out.push(
        policyDetection(
          e,
          'runtime/critical-file-write',
          'critical-file-write',
          'Critical file written',
          `${exe ?? 'a process'} wrote ${e.file} via ${k.functionName}`,
        ),
      );
  }
  if (k && PRIV_FUNCS.has(k.functionName)) {
    out.push(
      policyDetection(
        e,
        'runtime/privilege-escalation',
        'privilege-escalation',
        'Privilege change or kernel module load',
        `${exe ?? 'a process'} called ${k.functionName}${k.policyName ? ` (policy ${k.policyName})` : ''}`,
      ),
    );
  }
  const connects =
    e.eventType === 'process_connect' ||
    (k !== null && /tcp_connect|udp_sendmsg|connect$/.test(k.functionName));
  if (connects && inPod && e.peer?.ip) {
    const outside = isOutsideAllowed(e.peer.ip, e.peer.name, ctx.policy.egressAllowList);
    if (outside)
      out.push(
        policyDetection(
          e,
          'runtime/unexpected-egress',
          'unexpected-egress',
          'Egress to a destination outside the allow-list',
          `${exe ?? 'a process'} connected to ${e.peer.ip}:${e.peer.port ?? '?'}, ${outside}`,
        ),
      );
  }
  return out;
}

/** Tetragon's JSON export (`tetra getevents -o json`, export files): one object keyed by its event type. */
export const tetragonNormalizer: RuntimeNormalizer = {
  id: ID,
  sensor: 'tetragon',
  version: VERSION,
  concerns: (v) =>
    eventTypeOf(v) !== undefined && (typeof v['node_name'] === 'string' || typeof v['time'] === 'string'),
  normalize,
  detect,
};
