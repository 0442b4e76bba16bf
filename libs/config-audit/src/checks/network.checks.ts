import { Severity } from '@vigil/contracts';
import {
  arr,
  nameOf,
  namespaceOf,
  obj,
  str,
  stringMap,
  type Json,
  type LoadedObject,
} from '../model/k8s-object.js';
import { type Workload } from '../model/workload.js';
import { type AuditContext, type CheckDefinition, type CheckOutcome } from './check.model.js';

/**
 * Label selector semantics (metav1.LabelSelector): matchLabels and matchExpressions are ANDed; an empty selector
 * matches everything. Keys other than those two are not fields of a selector; the API server drops them, so a
 * selector written as bare labels ends up empty and selects every pod.
 */
export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  const s = obj(selector) ?? {};
  for (const [k, v] of Object.entries(stringMap(s['matchLabels']))) if (labels[k] !== v) return false;
  for (const e of arr(s['matchExpressions'])) {
    const x = obj(e) ?? {};
    const key = str(x['key']) ?? '';
    const values = arr(x['values']).map(String);
    const present = key in labels;
    switch (str(x['operator'])) {
      case 'In':
        if (!present || !values.includes(labels[key]!)) return false;
        break;
      case 'NotIn':
        if (present && values.includes(labels[key]!)) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
      default:
        return false; // an unknown operator is invalid and selects nothing
    }
  }
  return true;
}

/** Which directions a NetworkPolicy enforces, per its policyTypes or, when absent, the Kubernetes defaults. */
export function enforcedDirections(policy: LoadedObject): { ingress: boolean; egress: boolean } {
  const spec = obj(policy.raw['spec']) ?? {};
  const types = spec['policyTypes'];
  if (Array.isArray(types)) return { ingress: types.includes('Ingress'), egress: types.includes('Egress') };
  return { ingress: true, egress: spec['egress'] !== undefined };
}

function policiesSelecting(ctx: AuditContext, w: Workload): LoadedObject[] {
  return ctx
    .ofKind('NetworkPolicy')
    .filter(
      (p) =>
        namespaceOf(p) === w.namespace && selectorMatches(obj(p.raw['spec'])?.['podSelector'], w.podLabels),
    );
}

function isolationCheck(direction: 'ingress' | 'egress'): CheckDefinition {
  const Dir = direction === 'ingress' ? 'Ingress' : 'Egress';
  const key =
    direction === 'ingress' ? 'k8s.netpol_no_default_deny_ingress' : 'k8s.netpol_no_default_deny_egress';
  return {
    id: `net/no-${direction}-networkpolicy`,
    version: 1,
    title: `Pod not isolated for ${direction}`,
    severity: Severity.MEDIUM,
    cdeSeverity: Severity.HIGH,
    // The 1.3.x requirements are about the CDE; outside it the gap is supporting evidence only.
    pci: { key, use: 'secondary' },
    cdePci: { key, use: 'all' },
    remediation: `Add a default-deny ${Dir} NetworkPolicy in the namespace and allow only the needed peers and ports.`,
    concerns: (kind) =>
      kind === 'NetworkPolicy' ||
      kind === 'Namespace' ||
      kind in
        {
          Pod: 1,
          Deployment: 1,
          StatefulSet: 1,
          DaemonSet: 1,
          ReplicaSet: 1,
          Job: 1,
          CronJob: 1,
          DeploymentConfig: 1,
        },
    run: (ctx) =>
      ctx.workloads.map((w): CheckOutcome => {
        const selecting = policiesSelecting(ctx, w);
        const enforcing = selecting.filter((p) => enforcedDirections(p)[direction]);
        const hostNetwork = w.podSpec['hostNetwork'] === true;
        const pass = enforcing.length > 0 && !hostNetwork;
        const names = enforcing.map(nameOf);
        const patch: Json = {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: `default-deny-${direction}`, namespace: w.namespace },
          spec: { podSelector: {}, policyTypes: [Dir] },
        };
        return {
          pass,
          subject: w.object,
          field: 'NetworkPolicy.spec.podSelector',
          expected: `a NetworkPolicy in ${w.namespace} selecting the pod with ${Dir} enforced`,
          actual: enforcing.length
            ? `enforced by ${names.join(', ')}${hostNetwork ? ' (ignored: hostNetwork)' : ''}`
            : selecting.length
              ? `selected by ${selecting.map(nameOf).join(', ')}, none enforcing ${Dir}`
              : 'no NetworkPolicy selects the pod',
          message: hostNetwork
            ? `the pod uses hostNetwork, which NetworkPolicy cannot isolate: its ${direction} is open`
            : pass
              ? `${direction} isolated by ${names.join(', ')}`
              : `no NetworkPolicy in namespace ${w.namespace} enforces ${Dir} for the pods of ${w.kind} ${w.name}, so ${direction === 'ingress' ? 'any pod or outside address can connect to them' : 'they can connect anywhere, the exfiltration path'}`,
          patch: hostNetwork ? undefined : patch,
          cde: ctx.isCdeWorkload(w),
          evidence: [['policies', selecting.map(nameOf).join(',')]],
        };
      }),
  };
}

export const noIngressPolicyCheck = isolationCheck('ingress');
export const noEgressPolicyCheck = isolationCheck('egress');

const OPEN_CIDRS = new Set(['0.0.0.0/0', '::/0']);

/** Why a rule's peers admit everything, or undefined. */
function openPeer(rule: Json, peersField: 'from' | 'to'): string | undefined {
  const peers = rule[peersField];
  if (peers === undefined || (Array.isArray(peers) && peers.length === 0))
    return `a rule without ${peersField} (any peer)`;
  for (const p of arr(peers)) {
    const peer = obj(p) ?? {};
    const cidr = str(obj(peer['ipBlock'])?.['cidr']);
    // An except list carves out ranges but still admits the rest of the internet.
    if (cidr && OPEN_CIDRS.has(cidr)) return `ipBlock ${cidr}`;
    const ns = obj(peer['namespaceSelector']);
    const pods = obj(peer['podSelector']);
    if (ns && Object.keys(ns).length === 0 && (!pods || Object.keys(pods).length === 0))
      return 'namespaceSelector: {} (every pod in every namespace)';
  }
  return undefined;
}

export const permissivePolicyCheck: CheckDefinition = {
  id: 'net/permissive-networkpolicy',
  version: 1,
  title: 'NetworkPolicy admits every peer',
  severity: Severity.MEDIUM,
  cdeSeverity: Severity.HIGH,
  pci: { key: 'k8s.permissive_egress_from_cde', use: 'secondary' },
  cdePci: { key: 'k8s.permissive_egress_from_cde', use: 'all' },
  remediation:
    'Replace the open rule by the pod/namespace selectors or CIDRs that need access, with their ports.',
  concerns: (kind) => kind === 'NetworkPolicy',
  run: (ctx) =>
    ctx.ofKind('NetworkPolicy').map((p): CheckOutcome => {
      const spec = obj(p.raw['spec']) ?? {};
      const dirs = enforcedDirections(p);
      const hits: { field: string; why: string }[] = [];
      for (const [dir, peers] of [
        ['ingress', 'from'],
        ['egress', 'to'],
      ] as const) {
        if (!dirs[dir]) continue;
        arr(spec[dir]).forEach((r, i) => {
          const why = openPeer(obj(r) ?? {}, peers);
          if (why)
            hits.push({
              field: `spec.${dir}[${i}]`,
              why: `${dir}: ${why}${obj(r)?.['ports'] ? '' : ', any port'}`,
            });
        });
      }
      return {
        pass: hits.length === 0,
        subject: p,
        detail: hits.map((h) => h.why).join('; '),
        field: hits[0]?.field ?? 'spec',
        expected: 'rules naming the allowed peers',
        actual: hits.length
          ? hits.map((h) => `${h.field}: ${h.why}`).join('; ')
          : 'every rule names its peers',
        message: hits.length
          ? `NetworkPolicy ${nameOf(p)} selects pods and then admits everything (${hits.map((h) => h.why).join('; ')}), so coverage without restriction`
          : 'rules name their peers',
        cde: ctx.isCdeNamespace(namespaceOf(p)),
        // Open ingress is the inbound requirement's gap; any open egress makes it the outbound one.
        pciKey: hits.some((h) => h.field.startsWith('spec.egress'))
          ? 'k8s.permissive_egress_from_cde'
          : 'k8s.netpol_no_default_deny_ingress',
      };
    }),
};

export const serviceExposedCheck: CheckDefinition = {
  id: 'net/service-exposed',
  version: 1,
  title: 'Service exposed outside the cluster',
  severity: Severity.MEDIUM,
  pci: { key: 'k8s.service_exposed_lb_nodeport', use: 'all' },
  remediation:
    'Use type ClusterIP behind an Ingress with TLS, or record the Service as an approved public entry point.',
  concerns: (kind) => kind === 'Service',
  run: (ctx) =>
    ctx.ofKind('Service').map((s) => {
      const spec = obj(s.raw['spec']) ?? {};
      const type = str(spec['type']) ?? 'ClusterIP';
      const externalIPs = arr(spec['externalIPs']).map(String);
      const exposed = type === 'LoadBalancer' || type === 'NodePort' || externalIPs.length > 0;
      return {
        pass: !exposed,
        subject: s,
        detail: type,
        field:
          externalIPs.length && type !== 'LoadBalancer' && type !== 'NodePort'
            ? 'spec.externalIPs'
            : 'spec.type',
        expected: 'ClusterIP without externalIPs',
        actual: `${type}${externalIPs.length ? ` with externalIPs ${externalIPs.join(',')}` : ''}`,
        message: exposed
          ? `Service ${nameOf(s)} is reachable from outside the cluster (${type}${externalIPs.length ? ', externalIPs' : ''})`
          : `Service ${nameOf(s)} is ${type}`,
        // A JSON merge patch is enough here; the API server drops node ports when the type becomes ClusterIP.
        patch: exposed
          ? { spec: { type: 'ClusterIP', ...(externalIPs.length ? { externalIPs: null } : {}) } }
          : undefined,
        cde: ctx.isCdeNamespace(namespaceOf(s)),
      };
    }),
};

export const ingressNoTlsCheck: CheckDefinition = {
  id: 'net/ingress-no-tls',
  version: 1,
  title: 'Ingress serves plain HTTP',
  severity: Severity.HIGH,
  pci: { key: 'k8s.ingress_without_tls', use: 'all' },
  remediation: 'Add a tls section for the Ingress hosts with a certificate Secret.',
  concerns: (kind) => kind === 'Ingress',
  run: (ctx) =>
    ctx.ofKind('Ingress').map((ing) => {
      const spec = obj(ing.raw['spec']) ?? {};
      const tls = arr(spec['tls']);
      const hosts = arr(spec['rules'])
        .map((r) => str(obj(r)?.['host']))
        .filter((h): h is string => Boolean(h));
      return {
        pass: tls.length > 0,
        subject: ing,
        field: 'spec.tls',
        expected: 'a tls section',
        actual: tls.length ? `${tls.length} tls entr${tls.length === 1 ? 'y' : 'ies'}` : 'unset',
        message: tls.length
          ? 'TLS configured'
          : `Ingress ${nameOf(ing)} serves ${hosts.length ? hosts.join(', ') : 'every host'} over plain HTTP`,
        patch: tls.length
          ? undefined
          : {
              spec: {
                tls: [{ ...(hosts.length ? { hosts } : {}), secretName: `${nameOf(ing) || 'ingress'}-tls` }],
              },
            },
        cde: ctx.isCdeNamespace(namespaceOf(ing)),
        evidence: [['hosts', hosts.join(',')]] as [string, string][],
      };
    }),
};

export const policySelectsNoPodsCheck: CheckDefinition = {
  id: 'net/policy-selects-no-pods',
  version: 1,
  title: 'NetworkPolicy selects no pod',
  severity: Severity.LOW,
  pci: { key: 'k8s.netpol_no_default_deny_ingress', use: 'secondary' },
  remediation:
    'Fix the podSelector to the labels of the pods it is meant for (selection is per namespace), or delete the policy.',
  concerns: (kind) => kind === 'NetworkPolicy',
  run: (ctx) =>
    ctx.ofKind('NetworkPolicy').map((p): CheckOutcome => {
      const selector = obj(p.raw['spec'])?.['podSelector'];
      const ns = namespaceOf(p);
      const selected = ctx.workloads.filter(
        (w) => w.namespace === ns && selectorMatches(selector, w.podLabels),
      );
      return {
        pass: selected.length > 0,
        subject: p,
        field: 'spec.podSelector',
        expected: 'selects at least one pod in its namespace',
        actual: selected.length
          ? `selects ${selected.map((w) => `${w.kind}/${w.name}`).join(', ')}`
          : `selects nothing among the ${ctx.workloads.filter((w) => w.namespace === ns).length} workload(s) of ${ns} in the input`,
        message: selected.length
          ? 'selects pods'
          : `NetworkPolicy ${nameOf(p)} selects no pod in namespace ${ns}, so the isolation it was written for is not in effect`,
        cde: ctx.isCdeNamespace(ns),
      };
    }),
};

export const NETWORK_CHECKS: readonly CheckDefinition[] = [
  noIngressPolicyCheck,
  noEgressPolicyCheck,
  permissivePolicyCheck,
  policySelectsNoPodsCheck,
  serviceExposedCheck,
  ingressNoTlsCheck,
];
