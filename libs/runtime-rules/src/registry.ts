import { falcoNormalizer } from './normalizers/falco.normalizer.js';
import { k8sAuditNormalizer } from './normalizers/k8s-audit.normalizer.js';
import { type JsonObject, type RuntimeNormalizer } from './normalizers/normalizer.model.js';
import { tetragonNormalizer } from './normalizers/tetragon.normalizer.js';

export type RuntimeFormat = 'falco' | 'tetragon' | 'k8s-audit';

/** Every runtime normalizer, in the order their predicates are tried. Adding one means adding it here. */
export const RUNTIME_NORMALIZERS: readonly RuntimeNormalizer[] = [
  falcoNormalizer,
  tetragonNormalizer,
  k8sAuditNormalizer,
];

export const RUNTIME_FORMATS: readonly RuntimeFormat[] = ['falco', 'tetragon', 'k8s-audit'];

export function isRuntimeFormat(v: string): v is RuntimeFormat {
  return (RUNTIME_FORMATS as readonly string[]).includes(v);
}

/** The normalizer whose predicate claims `value`, or undefined. */
export function normalizerFor(value: JsonObject): RuntimeNormalizer | undefined {
  return RUNTIME_NORMALIZERS.find((n) => n.concerns(value));
}

/** vigil's own runtime policies, each a unit with a version bumped when its decisions change. */
export const RUNTIME_POLICIES: Readonly<Record<string, { id: string; version: number; summary: string }>> = {
  'runtime/drift': {
    id: 'runtime-drift',
    version: 1,
    summary:
      'exec of a binary no image package or SBOM ships (inventory port), else one run from /tmp, /dev/shm or memfd',
  },
  'runtime/crypto-mining': {
    id: 'runtime-crypto-mining',
    version: 1,
    summary: 'known miner binaries, stratum URLs, miner-style -o host:pool-port arguments',
  },
  'runtime/shell-in-container': {
    id: 'runtime-shell-in-container',
    version: 1,
    summary: 'Tetragon exec of a shell inside a pod',
  },
  'runtime/package-manager': {
    id: 'runtime-package-manager',
    version: 1,
    summary: 'Tetragon exec of a package manager inside a pod',
  },
  'runtime/sensitive-file-read': {
    id: 'runtime-sensitive-file-read',
    version: 1,
    summary: 'Tetragon kprobe read of credentials, keys, tokens',
  },
  'runtime/critical-file-write': {
    id: 'runtime-critical-file-write',
    version: 1,
    summary: 'Tetragon kprobe write below /etc, binary and library dirs or to sensitive files',
  },
  'runtime/privilege-escalation': {
    id: 'runtime-privilege-escalation',
    version: 1,
    summary: 'Tetragon commit_creds, setns, kernel module loads',
  },
  'runtime/unexpected-egress': {
    id: 'runtime-unexpected-egress',
    version: 1,
    summary: 'Tetragon connect from a pod to a public address not on the allow-list',
  },
  'runtime/exec-into-pod': {
    id: 'runtime-exec-into-pod',
    version: 1,
    summary: 'audit: pods/exec or pods/attach',
  },
  'runtime/secret-read': {
    id: 'runtime-secret-read',
    version: 1,
    summary: 'audit: get/list/watch secrets by anyone but the control plane',
  },
  'runtime/rbac-change': {
    id: 'runtime-rbac-change',
    version: 1,
    summary: 'audit: writes to Roles, ClusterRoles and their bindings',
  },
  'runtime/anonymous-request': {
    id: 'runtime-anonymous-request',
    version: 1,
    summary: 'audit: requests by system:anonymous / system:unauthenticated',
  },
  'runtime/sensor-events-dropped': {
    id: 'runtime-sensor-events-dropped',
    version: 1,
    summary: "Falco drop alerts and metrics snapshots' dropped-event counters, per node",
  },
  'runtime/sensor-silent': {
    id: 'runtime-sensor-silent',
    version: 1,
    summary: 'a node that sends heartbeats going quiet for longer than the silence interval',
  },
};
