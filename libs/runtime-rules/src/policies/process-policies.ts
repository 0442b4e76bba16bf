import { type RuntimeDetection, type RuntimeEvent } from '../detection.model.js';
import { basename } from '../normalizers/field-access.js';
import { type DetectContext } from '../normalizers/normalizer.model.js';

// vigil's own runtime policies over process executions, whichever sensor saw them.

// Writable, non-image locations attackers drop binaries into; an executable there never came from a package.
const DROP_DIRS = ['/tmp/', '/var/tmp/', '/dev/shm/', '/run/shm/', '/dev/mqueue/'];
const MINER_NAMES = new Set([
  'xmrig',
  'xmr-stak',
  'minerd',
  'cpuminer',
  'ccminer',
  'ethminer',
  'nbminer',
  'lolminer',
  't-rex',
  'cgminer',
  'bfgminer',
]);
// Ports the common mining pools speak stratum on; only used together with a miner-style `-o host:port` argument,
// because 4444 and friends are also favourite reverse-shell ports.
const POOL_PORTS = new Set([3333, 4444, 5555, 7777, 8888, 9999, 14433, 14444, 45560, 45700]);
const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ash', 'ksh', 'csh', 'tcsh', 'fish', 'busybox']);
const PACKAGE_MANAGERS = new Set([
  'apt',
  'apt-get',
  'aptitude',
  'dpkg',
  'yum',
  'dnf',
  'microdnf',
  'rpm',
  'apk',
  'zypper',
  'pip',
  'pip3',
  'npm',
  'yarn',
  'gem',
  'conda',
]);

export function isShell(executable: string | null): boolean {
  const b = basename(executable);
  return b !== null && SHELLS.has(b);
}

export function isPackageManager(executable: string | null): boolean {
  const b = basename(executable);
  return b !== null && PACKAGE_MANAGERS.has(b);
}

// Drift is about what gets executed; a file open or connect by a process says nothing new about its binary.
function isExec(event: RuntimeEvent): boolean {
  if (event.sensor === 'tetragon') return event.eventType === 'process_exec';
  return event.execSyscall;
}

/** Why this exec is drift, or null. The inventory port (image file lists / SBOM) decides when it knows. */
export function driftReason(event: RuntimeEvent, ctx: DetectContext): string | null {
  const exe = event.process?.executable ?? null;
  if (exe === null || event.container === null || !isExec(event)) return null;
  if (exe.startsWith('memfd:')) return `${exe} runs from an anonymous memory file, not from the image`;
  const image = event.container.image;
  const ships = image && ctx.inventory?.imageShipsFile ? ctx.inventory.imageShipsFile(image, exe) : undefined;
  if (ships === true) return null;
  if (ships === false) return `${exe} is in none of the package file lists or the SBOM of ${image}`;
  const dir = DROP_DIRS.find((d) => exe.startsWith(d));
  return dir ? `${exe} runs from ${dir}, a writable location no image package installs into` : null;
}

export function miningReason(event: RuntimeEvent): string | null {
  const name = basename(event.process?.executable ?? null) ?? event.process?.name ?? null;
  if (name !== null && MINER_NAMES.has(name.toLowerCase())) return `${name} is a known crypto-miner`;
  const cmd = event.process?.cmdline ?? '';
  if (/stratum\+(?:tcp|ssl|tls):\/\//i.test(cmd))
    return `the command line names a stratum mining pool: ${cmd}`;
  const pool = /(?:^|\s)(?:-o|--url)[ =](?:[a-z+]+:\/\/)?([\w.-]+):(\d{2,5})(?:\s|$)/.exec(cmd);
  if (pool?.[2] && POOL_PORTS.has(Number(pool[2])))
    return `miner-style pool argument -o ${pool[1]}:${pool[2]} (a common mining-pool port)`;
  return null;
}

function derived(
  event: RuntimeEvent,
  ruleId: string,
  kind: RuntimeDetection['kind'],
  title: string,
  reason: string,
  from: string | null,
): RuntimeDetection {
  // The sensor rule's legacy PCI tags belong to that rule, not to vigil's policy derived from the same event.
  return detectionOf(event, ruleId, kind, title, reason, from, from ? [] : event.legacyPciTags);
}

/**
 * A detection over an event: the event's fields, each named, then the rule's. Named, not spread: V8 copies a
 * spread of this many fields followed by more through its slow path, tens of µs per detection; a literal of fixed
 * shape is one allocation. The nested parts (process, container, k8s ...) are the event's own, shared, not copied.
 */
export function detectionOf(
  e: RuntimeEvent,
  ruleId: string,
  kind: RuntimeDetection['kind'],
  title: string,
  reason: string,
  derivedFrom: string | null,
  legacyPciTags: string[],
): RuntimeDetection {
  return {
    sensor: e.sensor,
    normalizer: e.normalizer,
    eventType: e.eventType,
    source: e.source,
    priority: e.priority,
    time: e.time,
    timeFromClock: e.timeFromClock,
    node: e.node,
    line: e.line,
    container: e.container,
    namespace: e.namespace,
    pod: e.pod,
    workload: e.workload,
    process: e.process,
    parent: e.parent,
    ancestors: e.ancestors,
    file: e.file,
    peer: e.peer,
    k8s: e.k8s,
    denied: e.denied,
    tags: e.tags,
    mitre: e.mitre,
    legacyPciTags,
    message: e.message,
    kprobe: e.kprobe,
    execSyscall: e.execSyscall,
    capSysAdmin: e.capSysAdmin,
    ruleId,
    sensorRule: e.eventType,
    title,
    kind,
    reason,
    derivedFrom,
  };
}

/** Drift and mining indicators on any exec a sensor alerted on or reported. */
export function derivedProcessPolicies(
  event: RuntimeEvent,
  from: string | null,
  ctx: DetectContext,
): RuntimeDetection[] {
  const out: RuntimeDetection[] = [];
  const drift = driftReason(event, ctx);
  if (drift)
    out.push(derived(event, 'runtime/drift', 'drift', 'Executable not in the image (drift)', drift, from));
  const mining = miningReason(event);
  if (mining)
    out.push(
      derived(event, 'runtime/crypto-mining', 'crypto-mining', 'Crypto-mining indicator', mining, from),
    );
  return out;
}

export function policyDetection(
  event: RuntimeEvent,
  ruleId: string,
  kind: RuntimeDetection['kind'],
  title: string,
  reason: string,
): RuntimeDetection {
  return derived(event, ruleId, kind, title, reason, null);
}
