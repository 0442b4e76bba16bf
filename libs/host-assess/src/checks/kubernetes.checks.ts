import { Severity } from '@vigil/contracts';
import { type HostCheck } from '../check.model.js';
import { effectiveSetting, type Component, type NodeFacts } from '../node-facts.js';
import { configValue } from '../parsers/component-config.parser.js';
import { bitmaskOk, describeMode, errorOutcome, pciIds } from './check-support.js';

const NO_KUBELET =
  'no kubelet process on this node: not a Kubernetes worker (or a control-plane host without kubelet)';
const NO_PROXY =
  'kube-proxy does not run on this host (not a worker, or kube-proxy runs as a pod / is replaced by the CNI)';

/** The Kubernetes components whose processes the checks read. */
export type ComponentName =
  'kubelet' | 'kube-proxy' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'etcd';

export function notRunning(name: ComponentName): string {
  if (name === 'kubelet') return NO_KUBELET;
  if (name === 'kube-proxy') return NO_PROXY;
  // A worker, or a managed control plane (EKS, GKE, AKS) whose components run outside the node.
  return `no ${name} process on this node: not a control-plane node, or the control plane is managed outside it`;
}

export type Condition =
  | {
      flag: string;
      configKey?: string;
      op: 'eq' | 'noteq' | 'nothave' | 'has' | 'gte' | 'valid_elements';
      value: string;
    }
  | { flag: string; configKey?: string; mustBeSet: boolean };

export interface SettingCheckSpec {
  id: string;
  /** Absent for vigil's own additions (protectKernelDefaults left the benchmark after CIS 1.8). */
  cis?: string;
  scored: boolean;
  title: string;
  component: ComponentName;
  conditions: Condition[];
  combine: 'and' | 'or';
  severity: Severity;
  pci: string;
  remediation: string;
}

/** Config-file values the kubelet's defaulting replaces: a zero duration in the file means "use the default". */
const KUBELET_ZERO_DEFAULTS: Record<string, string> = { streamingConnectionIdleTimeout: '4h0m0s' };

export function settingCheck(spec: SettingCheckSpec): HostCheck {
  return {
    id: spec.id,
    version: 1,
    title: spec.title,
    catalogue: spec.cis ? 'cis-kubernetes-1.12' : 'vigil-extra',
    ...(spec.cis ? { cis: spec.cis, scored: spec.scored } : {}),
    severity: spec.severity,
    pciRequirements: pciIds(spec.pci, spec.id),
    remediation: spec.remediation,
    defaultLocation: `${spec.component} ${spec.conditions[0]?.flag ?? ''}`.trim(),
    notApplicable: (facts) => (facts.componentNamed(spec.component) ? undefined : notRunning(spec.component)),
    evaluate: (facts) => {
      const component = facts.componentNamed(spec.component) as Component;
      if (component.config?.kind === 'error')
        return errorOutcome(component.config.path, component.config.message);
      const items = spec.conditions.map((c) => evaluateCondition(component, c));
      const pass = spec.combine === 'or' ? items.some((i) => i.pass) : items.every((i) => i.pass);
      const distinct = [...new Set(items.map((i) => i.actual))];
      const settings = [...new Set(items.map((i) => i.where))];
      const first = items.find((i) => i.from !== 'unset') ?? items[0];
      return {
        status: pass ? 'pass' : 'fail',
        field: settings.join('; '),
        expected: items.map((i) => i.expected).join(spec.combine === 'or' ? ' or ' : ' and '),
        actual: distinct.join('; '),
        location:
          first?.from === 'flag'
            ? first.where
            : component.config?.kind === 'ok' && first?.from === 'config'
              ? component.config.path
              : `${spec.component} ${spec.conditions[0]?.flag}`,
        evidence: Object.fromEntries(items.map((i) => [i.where, i.actual])),
      };
    },
  };
}

interface ItemResult {
  pass: boolean;
  from: 'flag' | 'config' | 'unset';
  where: string;
  expected: string;
  actual: string;
}

function evaluateCondition(component: Component, c: Condition): ItemResult {
  const s = effectiveSetting(component, c.flag, c.configKey);
  let value = s.value;
  let note = '';
  const zeroDefault = c.configKey ? KUBELET_ZERO_DEFAULTS[c.configKey] : undefined;
  if (s.from === 'config' && zeroDefault && value !== undefined && durationSeconds(value) === 0) {
    note = ` (0 in the config file is replaced by the kubelet default ${zeroDefault})`;
    value = zeroDefault;
  }
  const actual = s.from === 'unset' ? 'not set' : `${s.from} ${s.where.split(' ').pop()}=${s.value}${note}`;
  if ('mustBeSet' in c) {
    const set = s.from !== 'unset';
    return {
      pass: set === c.mustBeSet,
      from: s.from,
      where: s.where,
      expected: c.mustBeSet ? 'set' : 'not set',
      actual,
    };
  }
  const expected = `${c.op} ${c.value}`;
  if (value === undefined) return { pass: false, from: s.from, where: s.where, expected, actual };
  let pass: boolean;
  switch (c.op) {
    case 'eq':
      pass = value.toLowerCase() === c.value.toLowerCase();
      break;
    case 'noteq': {
      const a = durationSeconds(value);
      const b = durationSeconds(c.value);
      pass = a !== undefined && b !== undefined ? a !== b : value !== c.value;
      break;
    }
    case 'nothave':
      pass = !value
        .split(',')
        .map((v) => v.trim())
        .includes(c.value);
      break;
    case 'has':
      pass = value.includes(c.value);
      break;
    case 'gte':
      pass = Number.isFinite(Number(value)) && Number(value) >= Number(c.value);
      break;
    case 'valid_elements': {
      const allowed = new Set(c.value.split(','));
      pass = value.split(',').every((v) => allowed.has(v.trim()));
      break;
    }
  }
  return { pass, from: s.from, where: s.where, expected, actual };
}

/** Go duration ("4h0m0s", "30s", "0") in seconds; undefined when not a duration. */
export function durationSeconds(v: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g;
  let total = 0;
  let consumed = 0;
  let m: RegExpExecArray | null;
  const unit: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, µs: 1e-6, ns: 1e-9 };
  while ((m = re.exec(v)) !== null) {
    total += Number(m[1]) * (unit[m[2] as string] as number);
    consumed += m[0].length;
  }
  return consumed === v.length && consumed > 0 ? total : undefined;
}

// --- file checks -------------------------------------------------------------------------------------------------

type Resolved = { path: string } | { notApplicable: string };
interface FileCheckSpec {
  id: string;
  cis: string;
  scored: boolean;
  title: string;
  kind: 'permissions' | 'ownership';
  /** Octal limit for permissions checks. */
  limit?: number;
  component: 'kubelet' | 'kube-proxy';
  resolve: (facts: NodeFacts) => Resolved;
  /** The benchmark's definition passes on "File not found" (4.1.2). */
  passWhenAbsent?: boolean;
  severity: Severity;
  pci: string;
  remediation: string;
  defaultLocation: string;
}

function fileCheck(spec: FileCheckSpec): HostCheck {
  return {
    id: spec.id,
    version: 1,
    title: spec.title,
    catalogue: 'cis-kubernetes-1.12',
    cis: spec.cis,
    scored: spec.scored,
    severity: spec.severity,
    pciRequirements: pciIds(spec.pci, spec.id),
    remediation: spec.remediation,
    defaultLocation: spec.defaultLocation,
    notApplicable: (facts) => {
      if (spec.component === 'kubelet' && !facts.kubelet) return NO_KUBELET;
      if (spec.component === 'kube-proxy' && !facts.kubeProxy) return NO_PROXY;
      const r = spec.resolve(facts);
      return 'notApplicable' in r ? r.notApplicable : undefined;
    },
    evaluate: (facts) => {
      const r = spec.resolve(facts) as { path: string };
      const st = facts.fs.stat(r.path);
      const expected =
        spec.kind === 'permissions'
          ? `mode ${describeMode(spec.limit as number)} or stricter`
          : 'owner root:root';
      const field = `${r.path} ${spec.kind === 'permissions' ? 'mode' : 'owner'}`;
      if (st.kind === 'error') return errorOutcome(r.path, st.message);
      if (st.kind === 'absent') {
        if (spec.passWhenAbsent)
          return {
            status: 'pass',
            field,
            expected: `${expected} or file not found`,
            actual: 'file not found',
            location: r.path,
          };
        return {
          status: 'not_applicable',
          field,
          expected,
          actual: 'file not found',
          reason: `file absent: ${r.path}`,
          location: r.path,
        };
      }
      if (spec.kind === 'permissions') {
        const ok = bitmaskOk(st.meta.mode, spec.limit as number);
        return {
          status: ok ? 'pass' : 'fail',
          field,
          expected,
          actual: `mode ${describeMode(st.meta.mode)}`,
          location: r.path,
        };
      }
      const owner = facts.identity.owner(st.meta.uid, st.meta.gid);
      return {
        status: owner === 'root:root' ? 'pass' : 'fail',
        field,
        expected,
        actual: `owner ${owner} (uid ${st.meta.uid}, gid ${st.meta.gid})`,
        location: r.path,
      };
    },
  };
}

const KUBELET_SERVICE_CANDIDATES = [
  '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf',
  '/etc/systemd/system/kubelet.service',
  '/lib/systemd/system/kubelet.service',
  '/usr/lib/systemd/system/kubelet.service',
  '/etc/systemd/system/snap.kubelet.daemon.service',
  '/etc/systemd/system/snap.microk8s.daemon-kubelet.service',
  '/etc/systemd/system/atomic-openshift-node.service',
  '/etc/systemd/system/origin-node.service',
];

const KUBELET_KUBECONFIG_CANDIDATES = [
  '/etc/kubernetes/kubelet.conf',
  '/etc/kubernetes/kubelet-kubeconfig.conf',
  '/var/lib/kubelet/kubeconfig',
  '/etc/kubernetes/kubelet-kubeconfig',
  '/etc/kubernetes/kubelet/kubeconfig',
  '/etc/kubernetes/ssl/kubecfg-kube-node.yaml',
  '/var/snap/microk8s/current/credentials/kubelet.config',
  '/etc/kubernetes/kubeconfig-kubelet',
  '/var/lib/rancher/rke2/agent/kubelet.kubeconfig',
  '/var/lib/rancher/k3s/agent/kubelet.kubeconfig',
];

function firstExisting(facts: NodeFacts, candidates: string[]): string | undefined {
  return candidates.find((p) => facts.fs.stat(p).kind !== 'absent');
}

function kubeletServiceFile(facts: NodeFacts): Resolved {
  // 4.1.2 passes on "File not found", so an absent unit still resolves to the benchmark's default path.
  return {
    path: firstExisting(facts, KUBELET_SERVICE_CANDIDATES) ?? (KUBELET_SERVICE_CANDIDATES[0] as string),
  };
}

/**
 * The kubeconfig kube-proxy really uses: its --kubeconfig flag, else clientConnection.kubeconfig of its --config
 * file, else the benchmark default. Not the first existing candidate as kube-bench does: /var/lib/kubelet/kubeconfig
 * is on that list and is the kubelet's file, not kube-proxy's.
 */
function proxyKubeconfig(facts: NodeFacts): Resolved {
  const proxy = facts.kubeProxy as Component;
  const flag = proxy.flags.get('kubeconfig');
  if (flag) return { path: flag };
  if (proxy.config?.kind === 'ok') {
    const fromConfig = configValue(proxy.config.tree, 'clientConnection.kubeconfig');
    if (fromConfig) return { path: fromConfig };
  }
  const path = '/etc/kubernetes/proxy.conf';
  return facts.fs.stat(path).kind === 'absent'
    ? { notApplicable: `file absent: ${path} (kube-proxy names no other kubeconfig)` }
    : { path };
}

function kubeletKubeconfig(facts: NodeFacts): Resolved {
  const flag = (facts.kubelet as Component).flags.get('kubeconfig');
  if (flag) return { path: flag };
  const found = firstExisting(facts, KUBELET_KUBECONFIG_CANDIDATES);
  return found
    ? { path: found }
    : {
        notApplicable:
          'kubelet runs without --kubeconfig and no known kubeconfig path exists (standalone kubelet)',
      };
}

function clientCaFile(facts: NodeFacts): Resolved {
  const s = effectiveSetting(
    facts.kubelet as Component,
    '--client-ca-file',
    'authentication.x509.clientCAFile',
  );
  if (s.value) return { path: s.value };
  return { notApplicable: 'the kubelet has no client CA file configured (4.2.3 reports that)' };
}

function kubeletConfigFile(facts: NodeFacts): Resolved {
  const path = (facts.kubelet as Component).flags.get('config');
  return path ? { path } : { notApplicable: 'kubelet runs without --config: no config file is used' };
}

const FILE_CHECKS: FileCheckSpec[] = [
  {
    id: 'kubelet.service-file-permissions',
    cis: '4.1.1',
    scored: true,
    title: 'Ensure that the kubelet service file permissions are set to 600 or more restrictive',
    kind: 'permissions',
    limit: 0o600,
    component: 'kubelet',
    resolve: kubeletServiceFile,
    severity: Severity.MEDIUM,
    pci: '2.2.6',
    remediation: 'chmod 600 the kubelet systemd unit / drop-in',
    defaultLocation: KUBELET_SERVICE_CANDIDATES[0] as string,
  },
  {
    id: 'kubelet.service-file-ownership',
    cis: '4.1.2',
    scored: true,
    title: 'Ensure that the kubelet service file ownership is set to root:root',
    kind: 'ownership',
    component: 'kubelet',
    resolve: kubeletServiceFile,
    passWhenAbsent: true,
    severity: Severity.MEDIUM,
    pci: '2.2.6',
    remediation: 'chown root:root the kubelet systemd unit / drop-in',
    defaultLocation: KUBELET_SERVICE_CANDIDATES[0] as string,
  },
  {
    id: 'kube-proxy.kubeconfig-permissions',
    cis: '4.1.3',
    scored: false,
    title: 'If proxy kubeconfig file exists ensure permissions are set to 600 or more restrictive',
    kind: 'permissions',
    limit: 0o600,
    component: 'kube-proxy',
    resolve: proxyKubeconfig,
    severity: Severity.MEDIUM,
    pci: '2.2.6 / 8.3.2',
    remediation: 'chmod 600 the kube-proxy kubeconfig',
    defaultLocation: '/etc/kubernetes/proxy.conf',
  },
  {
    id: 'kube-proxy.kubeconfig-ownership',
    cis: '4.1.4',
    scored: false,
    title: 'If proxy kubeconfig file exists ensure ownership is set to root:root',
    kind: 'ownership',
    component: 'kube-proxy',
    resolve: proxyKubeconfig,
    severity: Severity.MEDIUM,
    pci: '2.2.6',
    remediation: 'chown root:root the kube-proxy kubeconfig',
    defaultLocation: '/etc/kubernetes/proxy.conf',
  },
  {
    id: 'kubelet.kubeconfig-permissions',
    cis: '4.1.5',
    scored: true,
    title: 'Ensure that the --kubeconfig kubelet.conf file permissions are set to 600 or more restrictive',
    kind: 'permissions',
    limit: 0o600,
    component: 'kubelet',
    resolve: kubeletKubeconfig,
    severity: Severity.HIGH,
    pci: '2.2.6 / 8.3.2',
    remediation: 'chmod 600 the kubelet --kubeconfig file',
    defaultLocation: '/etc/kubernetes/kubelet.conf',
  },
  {
    id: 'kubelet.kubeconfig-ownership',
    cis: '4.1.6',
    scored: true,
    title: 'Ensure that the --kubeconfig kubelet.conf file ownership is set to root:root',
    kind: 'ownership',
    component: 'kubelet',
    resolve: kubeletKubeconfig,
    severity: Severity.HIGH,
    pci: '2.2.6',
    remediation: 'chown root:root the kubelet --kubeconfig file',
    defaultLocation: '/etc/kubernetes/kubelet.conf',
  },
  {
    id: 'kubelet.client-ca-permissions',
    cis: '4.1.7',
    scored: false,
    title: 'Ensure that the certificate authorities file permissions are set to 644 or more restrictive',
    kind: 'permissions',
    limit: 0o644,
    component: 'kubelet',
    resolve: clientCaFile,
    severity: Severity.MEDIUM,
    pci: '2.2.6',
    remediation: 'chmod 644 (or stricter) the kubelet client CA file',
    defaultLocation: '/etc/kubernetes/pki/ca.crt',
  },
  {
    id: 'kubelet.client-ca-ownership',
    cis: '4.1.8',
    scored: false,
    title: 'Ensure that the client certificate authorities file ownership is set to root:root',
    kind: 'ownership',
    component: 'kubelet',
    resolve: clientCaFile,
    severity: Severity.MEDIUM,
    pci: '2.2.6',
    remediation: 'chown root:root the kubelet client CA file',
    defaultLocation: '/etc/kubernetes/pki/ca.crt',
  },
  {
    id: 'kubelet.config-file-permissions',
    cis: '4.1.9',
    scored: true,
    title:
      'If the kubelet config.yaml configuration file is being used validate permissions set to 600 or more restrictive',
    kind: 'permissions',
    limit: 0o600,
    component: 'kubelet',
    resolve: kubeletConfigFile,
    severity: Severity.MEDIUM,
    pci: '2.2.6',
    remediation: 'chmod 600 the kubelet --config file',
    defaultLocation: '/var/lib/kubelet/config.yaml',
  },
  {
    id: 'kubelet.config-file-ownership',
    cis: '4.1.10',
    scored: true,
    title:
      'If the kubelet config.yaml configuration file is being used validate file ownership is set to root:root',
    kind: 'ownership',
    component: 'kubelet',
    resolve: kubeletConfigFile,
    severity: Severity.MEDIUM,
    pci: '2.2.6',
    remediation: 'chown root:root the kubelet --config file',
    defaultLocation: '/var/lib/kubelet/config.yaml',
  },
];

const STRONG_CIPHERS =
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384';

const SETTING_CHECKS: SettingCheckSpec[] = [
  {
    id: 'kubelet.anonymous-auth-disabled',
    cis: '4.2.1',
    scored: true,
    title: 'Ensure that the --anonymous-auth argument is set to false',
    component: 'kubelet',
    conditions: [
      { flag: '--anonymous-auth', configKey: 'authentication.anonymous.enabled', op: 'eq', value: 'false' },
    ],
    combine: 'and',
    severity: Severity.CRITICAL,
    pci: 'node.kubelet_anonymous_auth',
    remediation:
      'set authentication.anonymous.enabled: false in the kubelet config (or --anonymous-auth=false) and restart the kubelet',
  },
  {
    id: 'kubelet.authorization-not-always-allow',
    cis: '4.2.2',
    scored: true,
    title: 'Ensure that the --authorization-mode argument is not set to AlwaysAllow',
    component: 'kubelet',
    conditions: [
      { flag: '--authorization-mode', configKey: 'authorization.mode', op: 'nothave', value: 'AlwaysAllow' },
    ],
    combine: 'and',
    severity: Severity.CRITICAL,
    pci: 'node.kubelet_authz_always_allow',
    remediation:
      'set authorization.mode: Webhook in the kubelet config (or --authorization-mode=Webhook) and restart the kubelet',
  },
  {
    id: 'kubelet.client-ca-configured',
    cis: '4.2.3',
    scored: true,
    title: 'Ensure that the --client-ca-file argument is set as appropriate',
    component: 'kubelet',
    conditions: [
      { flag: '--client-ca-file', configKey: 'authentication.x509.clientCAFile', mustBeSet: true },
    ],
    combine: 'and',
    severity: Severity.HIGH,
    pci: '8.3.1 / 2.2.6',
    remediation:
      'set authentication.x509.clientCAFile to the cluster CA in the kubelet config (or --client-ca-file) and restart the kubelet',
  },
  {
    id: 'kubelet.read-only-port-disabled',
    cis: '4.2.4',
    scored: false,
    title: 'Verify that if defined, the --read-only-port argument is set to 0',
    component: 'kubelet',
    conditions: [
      { flag: '--read-only-port', configKey: 'readOnlyPort', op: 'eq', value: '0' },
      { flag: '--read-only-port', configKey: 'readOnlyPort', mustBeSet: false },
    ],
    combine: 'or',
    severity: Severity.HIGH,
    pci: 'node.kubelet_read_only_port',
    remediation: 'set readOnlyPort: 0 in the kubelet config (or --read-only-port=0) and restart the kubelet',
  },
  {
    id: 'kubelet.streaming-idle-timeout-set',
    cis: '4.2.5',
    scored: false,
    title: 'Ensure that the --streaming-connection-idle-timeout argument is not set to 0',
    component: 'kubelet',
    conditions: [
      {
        flag: '--streaming-connection-idle-timeout',
        configKey: 'streamingConnectionIdleTimeout',
        op: 'noteq',
        value: '0',
      },
      {
        flag: '--streaming-connection-idle-timeout',
        configKey: 'streamingConnectionIdleTimeout',
        mustBeSet: false,
      },
    ],
    combine: 'or',
    severity: Severity.LOW,
    pci: '8.2.8',
    remediation: 'set streamingConnectionIdleTimeout to a non-zero duration (e.g. 5m) in the kubelet config',
  },
  {
    id: 'kubelet.iptables-util-chains',
    cis: '4.2.6',
    scored: true,
    title: 'Ensure that the --make-iptables-util-chains argument is set to true',
    component: 'kubelet',
    conditions: [
      { flag: '--make-iptables-util-chains', configKey: 'makeIPTablesUtilChains', op: 'eq', value: 'true' },
      { flag: '--make-iptables-util-chains', configKey: 'makeIPTablesUtilChains', mustBeSet: false },
    ],
    combine: 'or',
    severity: Severity.LOW,
    pci: '1.4.1 / 2.2.6',
    remediation: 'set makeIPTablesUtilChains: true in the kubelet config or remove the flag',
  },
  {
    id: 'kubelet.hostname-override-unset',
    cis: '4.2.7',
    scored: false,
    title: 'Ensure that the --hostname-override argument is not set',
    component: 'kubelet',
    conditions: [{ flag: '--hostname-override', mustBeSet: false }],
    combine: 'and',
    severity: Severity.LOW,
    pci: '2.2.6',
    remediation:
      'remove --hostname-override from the kubelet command line (cloud providers that need it: document the exception)',
  },
  {
    id: 'kubelet.event-qps',
    cis: '4.2.8',
    scored: false,
    title:
      'Ensure that the eventRecordQPS argument is set to a level which ensures appropriate event capture',
    component: 'kubelet',
    conditions: [
      { flag: '--event-qps', configKey: 'eventRecordQPS', op: 'gte', value: '0' },
      { flag: '--event-qps', configKey: 'eventRecordQPS', mustBeSet: false },
    ],
    combine: 'or',
    severity: Severity.LOW,
    pci: '10.2.1',
    remediation:
      'set eventRecordQPS to a level that captures all events (0 = unlimited) in the kubelet config',
  },
  {
    id: 'kubelet.tls-cert-configured',
    cis: '4.2.9',
    scored: false,
    title: 'Ensure that the --tls-cert-file and --tls-private-key-file arguments are set as appropriate',
    component: 'kubelet',
    conditions: [
      { flag: '--tls-cert-file', configKey: 'tlsCertFile', mustBeSet: true },
      { flag: '--tls-private-key-file', configKey: 'tlsPrivateKeyFile', mustBeSet: true },
    ],
    combine: 'and',
    severity: Severity.MEDIUM,
    pci: '2.2.7 / 4.2.1',
    remediation:
      'set tlsCertFile and tlsPrivateKeyFile in the kubelet config (or serverTLSBootstrap with an approver)',
  },
  {
    id: 'kubelet.rotate-certificates',
    cis: '4.2.10',
    scored: true,
    title: 'Ensure that the --rotate-certificates argument is not set to false',
    component: 'kubelet',
    conditions: [
      { flag: '--rotate-certificates', configKey: 'rotateCertificates', op: 'eq', value: 'true' },
      { flag: '--rotate-certificates', configKey: 'rotateCertificates', mustBeSet: false },
    ],
    combine: 'or',
    severity: Severity.MEDIUM,
    pci: '2.2.6 / 4.2.1',
    remediation: 'remove --rotate-certificates=false and set rotateCertificates: true in the kubelet config',
  },
  {
    id: 'kubelet.rotate-server-certificates',
    cis: '4.2.11',
    scored: false,
    title: 'Verify that the RotateKubeletServerCertificate argument is set to true',
    component: 'kubelet',
    conditions: [
      {
        flag: 'RotateKubeletServerCertificate',
        configKey: 'featureGates.RotateKubeletServerCertificate',
        op: 'nothave',
        value: 'false',
      },
      {
        flag: 'RotateKubeletServerCertificate',
        configKey: 'featureGates.RotateKubeletServerCertificate',
        mustBeSet: false,
      },
    ],
    combine: 'or',
    severity: Severity.LOW,
    pci: '2.2.6',
    remediation: 'do not disable the RotateKubeletServerCertificate feature gate',
  },
  {
    id: 'kubelet.strong-tls-ciphers',
    cis: '4.2.12',
    scored: false,
    title: 'Ensure that the Kubelet only makes use of Strong Cryptographic Ciphers',
    component: 'kubelet',
    conditions: [
      {
        flag: '--tls-cipher-suites',
        configKey: 'tlsCipherSuites[]',
        op: 'valid_elements',
        value: STRONG_CIPHERS,
      },
    ],
    combine: 'and',
    severity: Severity.MEDIUM,
    pci: '4.2.1 / 2.2.7',
    remediation: `set tlsCipherSuites in the kubelet config to a subset of ${STRONG_CIPHERS}`,
  },
  {
    id: 'kubelet.pod-pids-limit',
    cis: '4.2.13',
    scored: false,
    title: 'Ensure that a limit is set on pod PIDs',
    component: 'kubelet',
    conditions: [{ flag: '--pod-max-pids', configKey: 'podPidsLimit', mustBeSet: true }],
    combine: 'and',
    severity: Severity.LOW,
    pci: '2.2.6',
    remediation: 'set podPidsLimit in the kubelet config',
  },
  {
    id: 'kubelet.seccomp-default',
    cis: '4.2.14',
    scored: false,
    title: 'Ensure that the --seccomp-default parameter is set to true',
    component: 'kubelet',
    conditions: [{ flag: '--seccomp-default', configKey: 'seccompDefault', mustBeSet: true }],
    combine: 'and',
    severity: Severity.LOW,
    pci: '2.2.6',
    remediation: 'set seccompDefault: true in the kubelet config',
  },
  {
    id: 'kube-proxy.metrics-bound-to-localhost',
    cis: '4.3.1',
    scored: true,
    title: 'Ensure that the kube-proxy metrics service is bound to localhost',
    component: 'kube-proxy',
    conditions: [
      { flag: '--metrics-bind-address', configKey: 'metricsBindAddress', op: 'has', value: '127.0.0.1' },
      { flag: '--metrics-bind-address', configKey: 'metricsBindAddress', mustBeSet: false },
    ],
    combine: 'or',
    severity: Severity.MEDIUM,
    pci: '1.4.1 / 2.2.6',
    remediation: 'set metricsBindAddress: 127.0.0.1:10249 in the kube-proxy config or remove the flag',
  },
];

/** vigil's own kubelet and CNI checks beyond CIS 1.12's worker section. */
const EXTRA_SETTING_CHECKS: SettingCheckSpec[] = [
  // CIS 1.6-1.8 had this as 4.2.6; the kubelet default is false, so unset fails: the kubelet then silently
  // changes kernel tunables instead of refusing to start when they differ from what it needs.
  {
    id: 'kubelet.protect-kernel-defaults',
    scored: true,
    title:
      'Ensure that the kubelet protects kernel defaults (--protect-kernel-defaults / protectKernelDefaults true)',
    component: 'kubelet',
    conditions: [
      { flag: '--protect-kernel-defaults', configKey: 'protectKernelDefaults', op: 'eq', value: 'true' },
    ],
    combine: 'and',
    severity: Severity.LOW,
    pci: '2.2.6',
    remediation:
      'set protectKernelDefaults: true in the kubelet config (after setting the kernel tunables the kubelet expects)',
  },
];

const CNI_DIR = '/etc/cni/net.d';

/** CNI network configs decide pod networking and segmentation: root-owned, 600 or stricter (kube-bench 1.1.9/1.1.10). */
const cniConfigFiles: HostCheck = {
  id: 'cni.config-files-protected',
  version: 1,
  title: 'CNI configuration files (/etc/cni/net.d) are owned by root:root with mode 600 or stricter',
  catalogue: 'vigil-extra',
  severity: Severity.MEDIUM,
  pciRequirements: pciIds('2.2.6 / 1.2.8', 'cni.config-files-protected'),
  remediation: `chown root:root ${CNI_DIR}/* && chmod 600 ${CNI_DIR}/*`,
  defaultLocation: CNI_DIR,
  notApplicable: (facts) => {
    if (!facts.kubelet) return NO_KUBELET;
    return facts.fs.list(CNI_DIR).kind === 'absent'
      ? `no ${CNI_DIR} on this node (CNI configured elsewhere or not installed)`
      : undefined;
  },
  evaluate: (facts) => {
    const listed = facts.fs.list(CNI_DIR);
    if (listed.kind === 'error') return errorOutcome(CNI_DIR, listed.message);
    const names = listed.kind === 'ok' ? listed.names : [];
    const bad: string[] = [];
    const seen: string[] = [];
    for (const name of names) {
      const path = `${CNI_DIR}/${name}`;
      const st = facts.fs.stat(path);
      if (st.kind === 'error') return errorOutcome(path, st.message);
      if (st.kind !== 'ok' || st.meta.isDirectory) continue;
      const owner = facts.identity.owner(st.meta.uid, st.meta.gid);
      seen.push(`${path} ${describeMode(st.meta.mode)} ${owner}`);
      if (!bitmaskOk(st.meta.mode, 0o600) || owner !== 'root:root')
        bad.push(`${path} mode ${describeMode(st.meta.mode)} owner ${owner}`);
    }
    return {
      status: bad.length === 0 ? 'pass' : 'fail',
      field: `${CNI_DIR}/* mode, owner`,
      expected: 'mode 0600 or stricter, owner root:root',
      actual: bad.length > 0 ? bad.join('; ') : seen.length > 0 ? seen.join('; ') : `${CNI_DIR} is empty`,
      location: bad[0]?.split(' ')[0] ?? CNI_DIR,
    };
  },
};

export const KUBERNETES_CHECKS: HostCheck[] = [
  ...FILE_CHECKS.map(fileCheck),
  ...SETTING_CHECKS.map(settingCheck),
  ...EXTRA_SETTING_CHECKS.map(settingCheck),
  cniConfigFiles,
];
