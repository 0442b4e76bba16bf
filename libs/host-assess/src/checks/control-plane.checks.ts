// CIS Kubernetes Benchmark 1.12 sections 1 (control-plane configuration files, API server, controller manager,
// scheduler) and 2 (etcd), read from the node as kube-bench reads them: the components' command lines and the files
// they use. On a node where the component does not run (a worker, a managed control plane) each check is
// not_applicable with the reason. 1.1.9/1.1.10 (CNI files) are vigil's cni.config-files-protected; 1.2.20 is a
// manual review with nothing on the node to inspect.
import { Severity } from '@vigil/contracts';
import { parse as parseYaml } from 'yaml';
import { type CheckOutcome, type HostCheck } from '../check.model.js';
import { type NodeFacts } from '../node-facts.js';
import { bitmaskOk, describeMode, errorOutcome, pciIds } from './check-support.js';
import {
  notRunning,
  settingCheck,
  type ComponentName,
  type Condition,
  type SettingCheckSpec,
} from './kubernetes.checks.js';

const CIS = 'cis-kubernetes-1.12' as const;

// --- flags ---------------------------------------------------------------------------------------------------------

type FlagRow = [
  cis: string,
  id: string,
  component: ComponentName,
  scored: boolean,
  title: string,
  conditions: Condition[],
  severity: Severity,
  pci: string,
];

const set = (flag: string): Condition => ({ flag, mustBeSet: true });
const unset = (flag: string): Condition => ({ flag, mustBeSet: false });
const eq = (flag: string, value: string): Condition => ({ flag, op: 'eq', value });
const has = (flag: string, value: string): Condition => ({ flag, op: 'has', value });
const nothave = (flag: string, value: string): Condition => ({ flag, op: 'nothave', value });
const gte = (flag: string, value: string): Condition => ({ flag, op: 'gte', value });

const API = 'kube-apiserver';
const KCM = 'kube-controller-manager';
const SCHED = 'kube-scheduler';
const AUTHN = '8.3.1 / 2.2.6';
const AUTHZ = '7.2.1 / 2.2.6';
const TLS = '2.2.7 / 4.2.1';
const HARDEN = '2.2.6';
const { HIGH, MEDIUM, LOW } = Severity;

const TLS13_AND_STRONG_12 =
  'TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384,TLS_CHACHA20_POLY1305_SHA256,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,' +
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,' +
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,' +
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256';

// "and" unless a row lists an alternative with `or:` (the benchmark's "not set, or set to X").
const AND: FlagRow[] = [
  [
    '1.2.1',
    'apiserver.anonymous-auth-disabled',
    API,
    false,
    'Ensure that the --anonymous-auth argument is set to false',
    [eq('--anonymous-auth', 'false')],
    HIGH,
    AUTHN,
  ],
  [
    '1.2.2',
    'apiserver.no-token-auth-file',
    API,
    true,
    'Ensure that the --token-auth-file parameter is not set',
    [unset('--token-auth-file')],
    HIGH,
    AUTHN,
  ],
  [
    '1.2.3',
    'apiserver.deny-service-external-ips',
    API,
    false,
    'Ensure that the DenyServiceExternalIPs is set',
    [has('--enable-admission-plugins', 'DenyServiceExternalIPs')],
    LOW,
    HARDEN,
  ],
  [
    '1.2.4',
    'apiserver.kubelet-client-certificate',
    API,
    true,
    'Ensure that the --kubelet-client-certificate and --kubelet-client-key arguments are set as appropriate',
    [set('--kubelet-client-certificate'), set('--kubelet-client-key')],
    HIGH,
    TLS,
  ],
  [
    '1.2.5',
    'apiserver.kubelet-certificate-authority',
    API,
    true,
    'Ensure that the --kubelet-certificate-authority argument is set as appropriate',
    [set('--kubelet-certificate-authority')],
    HIGH,
    TLS,
  ],
  [
    '1.2.6',
    'apiserver.authorization-not-always-allow',
    API,
    true,
    'Ensure that the --authorization-mode argument is not set to AlwaysAllow',
    [nothave('--authorization-mode', 'AlwaysAllow')],
    HIGH,
    AUTHZ,
  ],
  [
    '1.2.7',
    'apiserver.authorization-node',
    API,
    true,
    'Ensure that the --authorization-mode argument includes Node',
    [has('--authorization-mode', 'Node')],
    HIGH,
    AUTHZ,
  ],
  [
    '1.2.8',
    'apiserver.authorization-rbac',
    API,
    true,
    'Ensure that the --authorization-mode argument includes RBAC',
    [has('--authorization-mode', 'RBAC')],
    HIGH,
    AUTHZ,
  ],
  [
    '1.2.9',
    'apiserver.event-rate-limit',
    API,
    false,
    'Ensure that the admission control plugin EventRateLimit is set',
    [has('--enable-admission-plugins', 'EventRateLimit')],
    LOW,
    HARDEN,
  ],
  [
    '1.2.11',
    'apiserver.always-pull-images',
    API,
    false,
    'Ensure that the admission control plugin AlwaysPullImages is set',
    [has('--enable-admission-plugins', 'AlwaysPullImages')],
    LOW,
    HARDEN,
  ],
  [
    '1.2.14',
    'apiserver.node-restriction',
    API,
    true,
    'Ensure that the admission control plugin NodeRestriction is set',
    [has('--enable-admission-plugins', 'NodeRestriction')],
    MEDIUM,
    AUTHZ,
  ],
  [
    '1.2.15',
    'apiserver.profiling-disabled',
    API,
    true,
    'Ensure that the --profiling argument is set to false',
    [eq('--profiling', 'false')],
    LOW,
    '2.2.4',
  ],
  [
    '1.2.16',
    'apiserver.audit-log-path',
    API,
    true,
    'Ensure that the --audit-log-path argument is set',
    [set('--audit-log-path')],
    HIGH,
    '10.2.1',
  ],
  [
    '1.2.17',
    'apiserver.audit-log-maxage',
    API,
    true,
    'Ensure that the --audit-log-maxage argument is set to 30 or as appropriate',
    [gte('--audit-log-maxage', '30')],
    MEDIUM,
    '10.5.1',
  ],
  [
    '1.2.18',
    'apiserver.audit-log-maxbackup',
    API,
    true,
    'Ensure that the --audit-log-maxbackup argument is set to 10 or as appropriate',
    [gte('--audit-log-maxbackup', '10')],
    MEDIUM,
    '10.5.1',
  ],
  [
    '1.2.19',
    'apiserver.audit-log-maxsize',
    API,
    true,
    'Ensure that the --audit-log-maxsize argument is set to 100 or as appropriate',
    [gte('--audit-log-maxsize', '100')],
    MEDIUM,
    '10.5.1',
  ],
  [
    '1.2.22',
    'apiserver.service-account-key-file',
    API,
    true,
    'Ensure that the --service-account-key-file argument is set as appropriate',
    [set('--service-account-key-file')],
    HIGH,
    AUTHN,
  ],
  [
    '1.2.23',
    'apiserver.etcd-client-certificate',
    API,
    true,
    'Ensure that the --etcd-certfile and --etcd-keyfile arguments are set as appropriate',
    [set('--etcd-certfile'), set('--etcd-keyfile')],
    HIGH,
    TLS,
  ],
  [
    '1.2.24',
    'apiserver.tls-certificate',
    API,
    true,
    'Ensure that the --tls-cert-file and --tls-private-key-file arguments are set as appropriate',
    [set('--tls-cert-file'), set('--tls-private-key-file')],
    HIGH,
    TLS,
  ],
  [
    '1.2.25',
    'apiserver.client-ca-file',
    API,
    true,
    'Ensure that the --client-ca-file argument is set as appropriate',
    [set('--client-ca-file')],
    HIGH,
    AUTHN,
  ],
  [
    '1.2.26',
    'apiserver.etcd-cafile',
    API,
    true,
    'Ensure that the --etcd-cafile argument is set as appropriate',
    [set('--etcd-cafile')],
    HIGH,
    TLS,
  ],
  [
    '1.2.27',
    'apiserver.encryption-provider-config',
    API,
    false,
    'Ensure that the --encryption-provider-config argument is set as appropriate',
    [set('--encryption-provider-config')],
    HIGH,
    '8.3.2 / 3.6.1.2',
  ],
  [
    '1.2.29',
    'apiserver.strong-tls-ciphers',
    API,
    false,
    'Ensure that the API Server only makes use of Strong Cryptographic Ciphers',
    [{ flag: '--tls-cipher-suites', op: 'valid_elements', value: TLS13_AND_STRONG_12 }],
    MEDIUM,
    TLS,
  ],
  [
    '1.2.30',
    'apiserver.no-extended-token-expiration',
    API,
    true,
    'Ensure that the --service-account-extend-token-expiration parameter is set to false',
    [eq('--service-account-extend-token-expiration', 'false')],
    MEDIUM,
    AUTHN,
  ],
  [
    '1.3.1',
    'controller-manager.terminated-pod-gc-threshold',
    KCM,
    false,
    'Ensure that the --terminated-pod-gc-threshold argument is set as appropriate',
    [set('--terminated-pod-gc-threshold')],
    LOW,
    HARDEN,
  ],
  [
    '1.3.2',
    'controller-manager.profiling-disabled',
    KCM,
    true,
    'Ensure that the --profiling argument is set to false',
    [eq('--profiling', 'false')],
    LOW,
    '2.2.4',
  ],
  [
    '1.3.3',
    'controller-manager.service-account-credentials',
    KCM,
    true,
    'Ensure that the --use-service-account-credentials argument is set to true',
    [{ flag: '--use-service-account-credentials', op: 'noteq', value: 'false' }],
    MEDIUM,
    AUTHZ,
  ],
  [
    '1.3.4',
    'controller-manager.service-account-private-key-file',
    KCM,
    true,
    'Ensure that the --service-account-private-key-file argument is set as appropriate',
    [set('--service-account-private-key-file')],
    HIGH,
    AUTHN,
  ],
  [
    '1.3.5',
    'controller-manager.root-ca-file',
    KCM,
    true,
    'Ensure that the --root-ca-file argument is set as appropriate',
    [set('--root-ca-file')],
    MEDIUM,
    TLS,
  ],
  [
    '1.4.1',
    'scheduler.profiling-disabled',
    SCHED,
    true,
    'Ensure that the --profiling argument is set to false',
    [eq('--profiling', 'false')],
    LOW,
    '2.2.4',
  ],
  [
    '2.1',
    'etcd.client-tls',
    'etcd',
    true,
    'Ensure that the --cert-file and --key-file arguments are set as appropriate',
    [set('--cert-file'), set('--key-file')],
    HIGH,
    TLS,
  ],
  [
    '2.2',
    'etcd.client-cert-auth',
    'etcd',
    true,
    'Ensure that the --client-cert-auth argument is set to true',
    [eq('--client-cert-auth', 'true')],
    HIGH,
    AUTHN,
  ],
  [
    '2.4',
    'etcd.peer-tls',
    'etcd',
    true,
    'Ensure that the --peer-cert-file and --peer-key-file arguments are set as appropriate',
    [set('--peer-cert-file'), set('--peer-key-file')],
    HIGH,
    TLS,
  ],
  [
    '2.5',
    'etcd.peer-client-cert-auth',
    'etcd',
    true,
    'Ensure that the --peer-client-cert-auth argument is set to true',
    [eq('--peer-client-cert-auth', 'true')],
    HIGH,
    AUTHN,
  ],
  [
    '2.7',
    'etcd.trusted-ca-file',
    'etcd',
    false,
    'Ensure that a unique Certificate Authority is used for etcd',
    [set('--trusted-ca-file')],
    MEDIUM,
    TLS,
  ],
];

const OR: FlagRow[] = [
  [
    '1.2.10',
    'apiserver.no-always-admit',
    API,
    true,
    'Ensure that the admission control plugin AlwaysAdmit is not set',
    [nothave('--enable-admission-plugins', 'AlwaysAdmit'), unset('--enable-admission-plugins')],
    HIGH,
    AUTHZ,
  ],
  [
    '1.2.12',
    'apiserver.service-account-plugin',
    API,
    true,
    'Ensure that the admission control plugin ServiceAccount is set',
    [nothave('--disable-admission-plugins', 'ServiceAccount'), unset('--disable-admission-plugins')],
    MEDIUM,
    AUTHZ,
  ],
  [
    '1.2.13',
    'apiserver.namespace-lifecycle-plugin',
    API,
    true,
    'Ensure that the admission control plugin NamespaceLifecycle is set',
    [nothave('--disable-admission-plugins', 'NamespaceLifecycle'), unset('--disable-admission-plugins')],
    MEDIUM,
    HARDEN,
  ],
  [
    '1.2.21',
    'apiserver.service-account-lookup',
    API,
    true,
    'Ensure that the --service-account-lookup argument is set to true',
    [unset('--service-account-lookup'), eq('--service-account-lookup', 'true')],
    MEDIUM,
    AUTHN,
  ],
  [
    '1.3.6',
    'controller-manager.rotate-kubelet-server-certificate',
    KCM,
    true,
    'Ensure that the RotateKubeletServerCertificate argument is set to true',
    [nothave('--feature-gates', 'RotateKubeletServerCertificate=false'), unset('--feature-gates')],
    MEDIUM,
    TLS,
  ],
  [
    '1.3.7',
    'controller-manager.bind-localhost',
    KCM,
    true,
    'Ensure that the --bind-address argument is set to 127.0.0.1',
    [eq('--bind-address', '127.0.0.1'), unset('--bind-address')],
    MEDIUM,
    HARDEN,
  ],
  [
    '1.4.2',
    'scheduler.bind-localhost',
    SCHED,
    true,
    'Ensure that the --bind-address argument is set to 127.0.0.1',
    [eq('--bind-address', '127.0.0.1'), unset('--bind-address')],
    MEDIUM,
    HARDEN,
  ],
  [
    '2.3',
    'etcd.no-auto-tls',
    'etcd',
    true,
    'Ensure that the --auto-tls argument is not set to true',
    [unset('--auto-tls'), eq('--auto-tls', 'false')],
    HIGH,
    TLS,
  ],
  [
    '2.6',
    'etcd.no-peer-auto-tls',
    'etcd',
    true,
    'Ensure that the --peer-auto-tls argument is not set to true',
    [unset('--peer-auto-tls'), eq('--peer-auto-tls', 'false')],
    HIGH,
    TLS,
  ],
];

function remediationOf(component: string, conditions: Condition[], combine: 'and' | 'or'): string {
  const first = combine === 'or' ? conditions.slice(0, 1) : conditions;
  const parts = first.map((c) =>
    'mustBeSet' in c
      ? c.mustBeSet
        ? `${c.flag} set to the right value`
        : `without ${c.flag}`
      : c.op === 'eq'
        ? `${c.flag}=${c.value}`
        : c.op === 'has'
          ? `${c.flag} including ${c.value}`
          : c.op === 'gte'
            ? `${c.flag} of ${c.value} or more`
            : c.op === 'nothave'
              ? `${c.flag} not including ${c.value}`
              : `${c.flag} limited to ${c.value}`,
  );
  return `run ${component} with ${parts.join(' and ')} (its static pod manifest or systemd unit), then restart it`;
}

function flagSpec(row: FlagRow, combine: 'and' | 'or'): SettingCheckSpec {
  const [cis, id, component, scored, title, conditions, severity, pci] = row;
  return {
    id,
    cis,
    scored,
    title,
    component,
    conditions,
    combine,
    severity,
    pci,
    remediation: remediationOf(component, conditions, combine),
  };
}

// --- files ---------------------------------------------------------------------------------------------------------

const MANIFESTS = '/etc/kubernetes/manifests';
const API_MANIFESTS = [
  `${MANIFESTS}/kube-apiserver.yaml`,
  `${MANIFESTS}/kube-apiserver.yml`,
  `${MANIFESTS}/kube-apiserver.manifest`,
  '/var/snap/kube-apiserver/current/args',
  '/var/snap/microk8s/current/args/kube-apiserver',
  '/etc/origin/master/master-config.yaml',
  `${MANIFESTS}/talos-kube-apiserver.yaml`,
  '/var/lib/rancher/rke2/agent/pod-manifests/kube-apiserver.yaml',
];
const KCM_MANIFESTS = [
  `${MANIFESTS}/kube-controller-manager.yaml`,
  `${MANIFESTS}/kube-controller-manager.yml`,
  `${MANIFESTS}/kube-controller-manager.manifest`,
  '/var/snap/kube-controller-manager/current/args',
  '/var/snap/microk8s/current/args/kube-controller-manager',
  `${MANIFESTS}/talos-kube-controller-manager.yaml`,
  '/var/lib/rancher/rke2/agent/pod-manifests/kube-controller-manager.yaml',
];
const SCHED_MANIFESTS = [
  `${MANIFESTS}/kube-scheduler.yaml`,
  `${MANIFESTS}/kube-scheduler.yml`,
  `${MANIFESTS}/kube-scheduler.manifest`,
  '/var/snap/kube-scheduler/current/args',
  '/var/snap/microk8s/current/args/kube-scheduler',
  '/etc/origin/master/scheduler.json',
  `${MANIFESTS}/talos-kube-scheduler.yaml`,
  '/var/lib/rancher/rke2/agent/pod-manifests/kube-scheduler.yaml',
];
const ETCD_MANIFESTS = [
  `${MANIFESTS}/etcd.yaml`,
  `${MANIFESTS}/etcd.yml`,
  `${MANIFESTS}/etcd.manifest`,
  '/etc/etcd/etcd.conf',
  '/var/snap/etcd/common/etcd.conf.yml',
  '/var/snap/etcd/common/etcd.conf.yaml',
  '/var/snap/microk8s/current/args/etcd',
  '/usr/lib/systemd/system/etcd.service',
  '/var/lib/rancher/rke2/server/db/etcd/config',
  '/var/lib/rancher/k3s/server/db/etcd/config',
];
const ETCD_DATA_DIRS = [
  '/var/lib/etcd/default.etcd',
  '/var/lib/etcd/data.etcd',
  '/var/lib/rancher/k3s/server/db/etcd',
];
const SCHED_KUBECONFIGS = [
  '/etc/kubernetes/scheduler.conf',
  '/var/lib/kube-scheduler/kubeconfig',
  '/var/lib/kube-scheduler/config.yaml',
  '/var/lib/rancher/rke2/server/cred/scheduler.kubeconfig',
  '/system/secrets/kubernetes/kube-scheduler/kubeconfig',
];
const KCM_KUBECONFIGS = [
  '/etc/kubernetes/controller-manager.conf',
  '/var/lib/kube-controller-manager/kubeconfig',
  '/var/lib/rancher/rke2/server/cred/controller.kubeconfig',
  '/system/secrets/kubernetes/kube-controller-manager/kubeconfig',
];
const ADMIN_CONFS = ['/etc/kubernetes/admin.conf', '/etc/kubernetes/super-admin.conf'];
const PKI = '/etc/kubernetes/pki';

/** Which node paths a file check inspects: one file found among candidates, or every matching file. */
type Targets =
  | { kind: 'first'; candidates: string[]; fromFlag?: string }
  | { kind: 'each'; paths: string[] }
  | { kind: 'tree'; dir: string; suffix?: string };

interface FileRow {
  cis: string;
  id: string;
  /** The component that must run on the node for the check to apply. */
  component: ComponentName;
  scored: boolean;
  title: string;
  targets: Targets;
  /** Permission limit (octal), or the owner "user:group" expected. */
  limit?: number;
  owner?: string;
  pci: string;
}

const perm = (
  cis: string,
  id: string,
  component: ComponentName,
  title: string,
  targets: Targets,
  limit: number,
  scored = true,
): FileRow => ({ cis, id, component, scored, title, targets, limit, pci: HARDEN });
const own = (
  cis: string,
  id: string,
  component: ComponentName,
  title: string,
  targets: Targets,
  owner = 'root:root',
  scored = true,
): FileRow => ({ cis, id, component, scored, title, targets, owner, pci: HARDEN });
const first = (candidates: string[], fromFlag?: string): Targets => ({
  kind: 'first',
  candidates,
  ...(fromFlag ? { fromFlag } : {}),
});

const FILE_ROWS: FileRow[] = [
  perm(
    '1.1.1',
    'apiserver.manifest-permissions',
    API,
    'Ensure that the API server pod specification file permissions are set to 600 or more restrictive',
    first(API_MANIFESTS),
    0o600,
  ),
  own(
    '1.1.2',
    'apiserver.manifest-ownership',
    API,
    'Ensure that the API server pod specification file ownership is set to root:root',
    first(API_MANIFESTS),
  ),
  perm(
    '1.1.3',
    'controller-manager.manifest-permissions',
    KCM,
    'Ensure that the controller manager pod specification file permissions are set to 600 or more restrictive',
    first(KCM_MANIFESTS),
    0o600,
  ),
  own(
    '1.1.4',
    'controller-manager.manifest-ownership',
    KCM,
    'Ensure that the controller manager pod specification file ownership is set to root:root',
    first(KCM_MANIFESTS),
  ),
  perm(
    '1.1.5',
    'scheduler.manifest-permissions',
    SCHED,
    'Ensure that the scheduler pod specification file permissions are set to 600 or more restrictive',
    first(SCHED_MANIFESTS),
    0o600,
  ),
  own(
    '1.1.6',
    'scheduler.manifest-ownership',
    SCHED,
    'Ensure that the scheduler pod specification file ownership is set to root:root',
    first(SCHED_MANIFESTS),
  ),
  perm(
    '1.1.7',
    'etcd.manifest-permissions',
    'etcd',
    'Ensure that the etcd pod specification file permissions are set to 600 or more restrictive',
    first(ETCD_MANIFESTS),
    0o600,
  ),
  own(
    '1.1.8',
    'etcd.manifest-ownership',
    'etcd',
    'Ensure that the etcd pod specification file ownership is set to root:root',
    first(ETCD_MANIFESTS),
  ),
  perm(
    '1.1.11',
    'etcd.data-dir-permissions',
    'etcd',
    'Ensure that the etcd data directory permissions are set to 700 or more restrictive',
    first(ETCD_DATA_DIRS, 'data-dir'),
    0o700,
  ),
  own(
    '1.1.12',
    'etcd.data-dir-ownership',
    'etcd',
    'Ensure that the etcd data directory ownership is set to etcd:etcd',
    first(ETCD_DATA_DIRS, 'data-dir'),
    'etcd:etcd',
  ),
  perm(
    '1.1.13',
    'control-plane.admin-conf-permissions',
    API,
    'Ensure that the default administrative credential file permissions are set to 600',
    { kind: 'each', paths: ADMIN_CONFS },
    0o600,
  ),
  own(
    '1.1.14',
    'control-plane.admin-conf-ownership',
    API,
    'Ensure that the default administrative credential file ownership is set to root:root',
    { kind: 'each', paths: ADMIN_CONFS },
  ),
  perm(
    '1.1.15',
    'scheduler.kubeconfig-permissions',
    SCHED,
    'Ensure that the scheduler.conf file permissions are set to 600 or more restrictive',
    first(SCHED_KUBECONFIGS),
    0o600,
  ),
  own(
    '1.1.16',
    'scheduler.kubeconfig-ownership',
    SCHED,
    'Ensure that the scheduler.conf file ownership is set to root:root',
    first(SCHED_KUBECONFIGS),
  ),
  perm(
    '1.1.17',
    'controller-manager.kubeconfig-permissions',
    KCM,
    'Ensure that the controller-manager.conf file permissions are set to 600 or more restrictive',
    first(KCM_KUBECONFIGS),
    0o600,
  ),
  own(
    '1.1.18',
    'controller-manager.kubeconfig-ownership',
    KCM,
    'Ensure that the controller-manager.conf file ownership is set to root:root',
    first(KCM_KUBECONFIGS),
  ),
  own(
    '1.1.19',
    'control-plane.pki-ownership',
    API,
    'Ensure that the Kubernetes PKI directory and file ownership is set to root:root',
    { kind: 'tree', dir: PKI },
  ),
  perm(
    '1.1.20',
    'control-plane.pki-certificate-permissions',
    API,
    'Ensure that the Kubernetes PKI certificate file permissions are set to 644 or more restrictive',
    { kind: 'tree', dir: PKI, suffix: '.crt' },
    0o644,
    false,
  ),
  perm(
    '1.1.21',
    'control-plane.pki-key-permissions',
    API,
    'Ensure that the Kubernetes PKI key file permissions are set to 600',
    { kind: 'tree', dir: PKI, suffix: '.key' },
    0o600,
    false,
  ),
];

const MAX_TREE_ENTRIES = 10_000;

/** The node paths a row inspects, or why there is nothing to inspect. */
function resolveTargets(
  row: FileRow,
  facts: NodeFacts,
): { paths: string[] } | { absent: string } | { error: CheckOutcome } {
  const t = row.targets;
  if (t.kind === 'first') {
    const fromFlag = t.fromFlag ? facts.componentNamed(row.component)?.flags.get(t.fromFlag) : undefined;
    if (fromFlag) return { paths: [fromFlag] };
    const found = t.candidates.find((p) => facts.fs.stat(p).kind !== 'absent');
    return found ? { paths: [found] } : { absent: t.candidates[0] as string };
  }
  if (t.kind === 'each') {
    const paths = t.paths.filter((p) => facts.fs.stat(p).kind !== 'absent');
    return paths.length ? { paths } : { absent: t.paths.join(', ') };
  }
  const walked = facts.fs.walk(t.dir, MAX_TREE_ENTRIES);
  if (walked.kind === 'absent') return { absent: t.dir };
  if (walked.kind === 'error') return { error: errorOutcome(t.dir, walked.message) };
  const entries = walked.entries.filter((e) =>
    t.suffix ? !e.isDirectory && e.path.endsWith(t.suffix) : true,
  );
  const paths = [...(t.suffix ? [] : [t.dir]), ...entries.map((e) => e.path)];
  return paths.length ? { paths } : { absent: `${t.dir}/*${t.suffix ?? ''}` };
}

function fileCheck(row: FileRow): HostCheck {
  const what = row.limit !== undefined ? 'mode' : 'owner';
  const expected =
    row.limit !== undefined
      ? `mode ${describeMode(row.limit)} or stricter`
      : `owner ${row.owner ?? 'root:root'}`;
  const defaultLocation =
    row.targets.kind === 'first'
      ? (row.targets.candidates[0] as string)
      : row.targets.kind === 'each'
        ? (row.targets.paths[0] as string)
        : row.targets.dir;
  return {
    id: row.id,
    version: 1,
    title: row.title,
    catalogue: CIS,
    cis: row.cis,
    scored: row.scored,
    severity: Severity.MEDIUM,
    pciRequirements: pciIds(row.pci, row.id),
    remediation:
      row.limit !== undefined
        ? `chmod ${describeMode(row.limit).slice(1)} (or stricter) ${defaultLocation}`
        : `chown ${row.owner ?? 'root:root'} ${defaultLocation}`,
    defaultLocation,
    notApplicable: (facts) => {
      if (!facts.componentNamed(row.component)) return notRunning(row.component);
      const r = resolveTargets(row, facts);
      return 'absent' in r ? `file absent: ${r.absent}` : undefined;
    },
    evaluate: (facts) => {
      const r = resolveTargets(row, facts);
      if ('error' in r) return r.error;
      const paths = 'paths' in r ? r.paths : [];
      const seen: string[] = [];
      const bad: string[] = [];
      for (const path of paths) {
        const st = facts.fs.stat(path);
        if (st.kind === 'error') return errorOutcome(path, st.message);
        if (st.kind !== 'ok') continue;
        const actual =
          row.limit !== undefined
            ? `${path} mode ${describeMode(st.meta.mode)}`
            : `${path} owner ${facts.identity.owner(st.meta.uid, st.meta.gid)}`;
        seen.push(actual);
        const ok =
          row.limit !== undefined
            ? bitmaskOk(st.meta.mode, row.limit)
            : facts.identity.owner(st.meta.uid, st.meta.gid) === (row.owner ?? 'root:root');
        if (!ok) bad.push(actual);
      }
      return {
        status: bad.length === 0 ? 'pass' : 'fail',
        field: `${paths.length === 1 ? paths[0] : `${defaultLocation} (${paths.length} files)`} ${what}`,
        expected,
        actual:
          (bad.length ? bad : seen).slice(0, 10).join('; ') +
          (Math.max(bad.length, seen.length) > 10 ? '; …' : ''),
        location: (bad[0] ?? seen[0] ?? defaultLocation).split(' ')[0] as string,
      };
    },
  };
}

// --- encryption at rest (1.2.28) -------------------------------------------------------------------------------

const STRONG_PROVIDERS = ['aescbc', 'kms', 'secretbox'];

const encryptionProviders: HostCheck = {
  id: 'apiserver.encryption-providers',
  version: 1,
  title: 'Ensure that encryption providers are appropriately configured',
  catalogue: CIS,
  cis: '1.2.28',
  scored: false,
  severity: Severity.HIGH,
  pciRequirements: pciIds('8.3.2 / 3.6.1.2', 'apiserver.encryption-providers'),
  remediation:
    'configure an EncryptionConfiguration whose first provider for secrets is aescbc, kms or secretbox (not identity)',
  defaultLocation: 'kube-apiserver --encryption-provider-config',
  notApplicable: (facts) => {
    const api = facts.componentNamed(API);
    if (!api) return notRunning(API);
    return api.flags.get('encryption-provider-config')
      ? undefined
      : 'kube-apiserver has no --encryption-provider-config (1.2.27 reports that)';
  },
  evaluate: (facts) => {
    const path = facts.componentNamed(API)?.flags.get('encryption-provider-config') as string;
    const read = facts.fs.read(path);
    if (read.kind === 'error') return errorOutcome(path, read.message);
    const field = `${path} first provider for secrets`;
    const expected = `one of ${STRONG_PROVIDERS.join(', ')}`;
    if (read.kind === 'absent')
      return { status: 'fail', field, expected, actual: `${path} does not exist`, location: path };
    let doc: unknown;
    try {
      doc = parseYaml(read.text);
    } catch (err) {
      return errorOutcome(path, `cannot parse ${path}: ${(err as Error).message}`);
    }
    const resources = (
      doc as { resources?: { resources?: string[]; providers?: Record<string, unknown>[] }[] }
    )?.resources;
    const forSecrets = Array.isArray(resources)
      ? resources.find(
          (r) => Array.isArray(r?.resources) && r.resources.some((x) => x === 'secrets' || x === '*.*'),
        )
      : undefined;
    const firstProvider = forSecrets?.providers?.[0] ? Object.keys(forSecrets.providers[0])[0] : undefined;
    if (!firstProvider)
      return {
        status: 'fail',
        field,
        expected,
        actual: 'no provider configured for secrets',
        location: path,
      };
    return {
      status: STRONG_PROVIDERS.includes(firstProvider) ? 'pass' : 'fail',
      field,
      expected,
      actual: `first provider for secrets: ${firstProvider}`,
      location: path,
    };
  },
};

/** Sections 1 and 2 of the benchmark, in benchmark order. */
export const CONTROL_PLANE_CHECKS: HostCheck[] = [
  ...FILE_ROWS.map(fileCheck),
  ...[...AND.map((r) => flagSpec(r, 'and')), ...OR.map((r) => flagSpec(r, 'or'))]
    .sort((a, b) => cisOrder(a.cis as string, b.cis as string))
    .map(settingCheck),
  encryptionProviders,
].sort((a, b) => cisOrder(a.cis as string, b.cis as string));

function cisOrder(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}
