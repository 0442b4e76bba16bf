// The one shape every sensor event is normalized into before vigil gives it PCI meaning.

export type SensorKind = 'falco' | 'tetragon' | 'k8s-audit';

/** Sensor priorities in Falco's order (syslog levels); Tetragon and the audit log have none of their own. */
export type SensorPriority =
  'emergency' | 'alert' | 'critical' | 'error' | 'warning' | 'notice' | 'informational' | 'debug';

export const PRIORITY_RANK: Readonly<Record<SensorPriority, number>> = {
  emergency: 0,
  alert: 1,
  critical: 2,
  error: 3,
  warning: 4,
  notice: 5,
  informational: 6,
  debug: 7,
};

/**
 * What a detection is about, in vigil's words. Each kind maps to one `@vigil/pci` finding type (see
 * meaning/pci-meaning.ts); `other` is a sensor alert vigil has no specific meaning for.
 */
export type DetectionKind =
  | 'shell-in-container'
  | 'exec-into-pod'
  | 'sensitive-file-read'
  | 'drift'
  | 'critical-file-write'
  | 'package-manager'
  | 'unexpected-egress'
  | 'crypto-mining'
  | 'privilege-escalation'
  | 'rbac-change'
  | 'secret-access'
  | 'anonymous-request'
  | 'log-tampering'
  | 'other';

export interface ContainerRef {
  /** Runtime container id without the `docker://` / `containerd://` scheme, as short as the sensor gave it. */
  id: string | null;
  name: string | null;
  /** `repository:tag` or `repository@digest` as referenced. */
  image: string | null;
  imageDigest: string | null;
}

export interface WorkloadRef {
  /** Kubernetes kind of the controller, or `Pod` when it cannot be told from the event. */
  kind: string;
  name: string;
  /** `inventory` when an inventory lookup answered, `pod-name` when derived from the pod name's hash suffixes. */
  from: 'inventory' | 'pod-name' | 'pod';
}

export interface ProcessRef {
  name: string | null;
  executable: string | null;
  cmdline: string | null;
  pid: number | null;
  user: string | null;
  uid: number | null;
  /** Sensor-specific process id linking exec, kprobe and exit events (Tetragon exec_id). */
  execId: string | null;
}

export interface NetworkPeer {
  ip: string | null;
  port: number | null;
  /** DNS name when the sensor resolved one. */
  name: string | null;
  protocol: string | null;
  localIp: string | null;
  localPort: number | null;
}

export interface KubernetesRequest {
  verb: string | null;
  user: string | null;
  /** The identity actually acting when someone impersonates: audit attribution uses this first. */
  impersonatedUser: string | null;
  groups: string[];
  sourceIps: string[];
  userAgent: string | null;
  resource: string | null;
  subresource: string | null;
  namespace: string | null;
  name: string | null;
  apiGroup: string | null;
  requestUri: string | null;
  responseCode: number | null;
  decision: string | null;
  reason: string | null;
  auditId: string | null;
  stage: string | null;
  level: string | null;
}

export interface KprobeArg {
  /** Tetragon's argument key: file_arg, sock_arg, int_arg, module_arg, capability_arg ... */
  kind: string;
  path?: string;
  value?: string | number;
  name?: string;
}

export interface KprobeCall {
  functionName: string;
  policyName: string | null;
  action: string | null;
  args: KprobeArg[];
}

/** One sensor event, normalized; vigil's policies decide which of them are detections. */
export interface RuntimeEvent {
  sensor: SensorKind;
  normalizer: { id: string; version: number };
  /** Falco rule name, Tetragon event type (`process_kprobe`) or audit `verb resource[/subresource]`. */
  eventType: string;
  /** Falco's event source (syscall, k8s_audit, plugin names); null for the other sensors. */
  source: string | null;
  priority: SensorPriority | null;
  /** RFC 3339 as the sensor wrote it (nanoseconds kept); the clock's time when the event had none. */
  time: string;
  timeFromClock: boolean;
  node: string | null;
  /** Line (1-based) where the event started in its input. */
  line: number;
  container: ContainerRef | null;
  namespace: string | null;
  pod: string | null;
  workload: WorkloadRef | null;
  process: ProcessRef | null;
  parent: ProcessRef | null;
  /** Names of further ancestors, nearest first (Falco proc.aname[2..]). */
  ancestors: string[];
  file: string | null;
  peer: NetworkPeer | null;
  k8s: KubernetesRequest | null;
  /** Denied or failed attempts (audit 4xx, Falco evt.failed) are still detections, but weigh less. */
  denied: boolean;
  tags: string[];
  mitre: string[];
  /** Legacy PCI DSS v3.2.1 tags the sensor put on the rule (`PCI_DSS_10.2.5`); remapped, never passed through. */
  legacyPciTags: string[];
  /** The sensor's rendered message when it has one. */
  message: string | null;
  kprobe: KprobeCall | null;
  /** The event is a program execution (Falco evt.type execve/execveat, Tetragon process_exec). */
  execSyscall: boolean;
  /** Tetragon: the process holds CAP_SYS_ADMIN in its effective set (null when the event has no caps). */
  capSysAdmin: boolean | null;
}

export interface RuntimeDetection extends RuntimeEvent {
  /** `falco:<rule>`, `tetragon:<policy>` or vigil's own `runtime/<policy>` / `k8s-audit/<policy>`. */
  ruleId: string;
  /** The rule or event name exactly as the sensor wrote it. */
  sensorRule: string;
  title: string;
  kind: DetectionKind;
  /** Why this is a detection, in one sentence (vigil's policies) or the sensor's own message. */
  reason: string;
  /** For vigil's own policies over a sensor alert: which sensor rule it was derived from. */
  derivedFrom: string | null;
}
