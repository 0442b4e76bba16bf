import { Severity } from '@vigil/contracts';
import { arr, obj } from '../model/k8s-object.js';
import { analyzeNetwork, exposuresOf, type AllowedRule, type Direction } from '../network/analysis.js';
import { ALLOWED_EGRESS_ANNOTATION, declarationsOf, undeclaredEgress } from '../network/declared.js';
import { cdePolicyFor, defaultDenyPolicy } from '../network/remediation.js';
import { type AuditContext, type CheckDefinition, type CheckOutcome } from './check.model.js';

export { selectorMatches } from '../network/selector.js';
export { enforcedDirections } from '../network/analysis.js';

const WORKLOAD_KINDS = new Set([
  'Pod',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'ReplicationController',
  'Job',
  'CronJob',
  'DeploymentConfig',
]);

function isolationCheck(direction: Direction): CheckDefinition {
  const Dir = direction === 'ingress' ? 'Ingress' : 'Egress';
  const key =
    direction === 'ingress' ? 'k8s.netpol_no_default_deny_ingress' : 'k8s.netpol_no_default_deny_egress';
  return {
    id: `net/no-${direction}-networkpolicy`,
    version: 2,
    title: `Pod not isolated for ${direction}`,
    severity: Severity.MEDIUM,
    cdeSeverity: Severity.HIGH,
    // The 1.3.x requirements are about the CDE; outside it the gap is supporting evidence only.
    pci: { key, use: 'secondary' },
    cdePci: { key, use: 'all' },
    remediation: `Add a default-deny ${Dir} NetworkPolicy in the namespace and allow only the needed peers and ports.`,
    concerns: (kind) => kind === 'NetworkPolicy' || kind === 'Namespace' || WORKLOAD_KINDS.has(kind),
    run: (ctx) => {
      const analysis = analyzeNetwork(ctx);
      return ctx.workloads.map((w): CheckOutcome => {
        const net = analysis.of(w);
        const view = net[direction];
        const cde = ctx.isCdeWorkload(w);
        const enforcing = view.policies;
        const pass = view.isolated;
        const generated =
          !pass && !net.hostNetwork && cde
            ? cdePolicyFor(
                ctx,
                analysis,
                w,
                direction,
                direction === 'egress' ? declarationsOf(ctx, w).egress : [],
              )
            : undefined;
        return {
          pass,
          subject: w.object,
          field: 'NetworkPolicy.spec.podSelector',
          expected: `a NetworkPolicy in ${w.namespace} selecting the pod with ${Dir} enforced`,
          actual: enforcing.length
            ? `enforced by ${enforcing.join(', ')}${net.hostNetwork ? ' (ignored: hostNetwork)' : ''}`
            : net.selectedBy.length
              ? `selected by ${net.selectedBy.join(', ')}, none enforcing ${Dir}`
              : 'no NetworkPolicy selects the pod',
          message: net.hostNetwork
            ? `the pod uses hostNetwork, which NetworkPolicy cannot isolate: its ${direction} is open`
            : pass
              ? `${direction} isolated by ${enforcing.join(', ')} (${view.class === 'isolated' ? 'nothing allowed' : `${view.allowed.length} allow rule(s)`})`
              : `no NetworkPolicy in namespace ${w.namespace} enforces ${Dir} for the pods of ${w.kind} ${w.name}, so ${direction === 'ingress' ? 'any pod or outside address can connect to them' : 'they can connect anywhere, the exfiltration path'}`,
          patch: net.hostNetwork
            ? undefined
            : (generated?.policy ?? defaultDenyPolicy(w.namespace, direction)),
          cde,
          evidence: [
            ['policies', net.selectedBy.join(',')],
            ['class', view.class],
            ...(generated?.notes.length
              ? ([['remediation-notes', generated.notes.join('; ')]] as [string, string][])
              : []),
          ],
        };
      });
    },
  };
}

export const noIngressPolicyCheck = isolationCheck('ingress');
export const noEgressPolicyCheck = isolationCheck('egress');

/** Why a rule admits everything, or undefined. */
function openRule(rule: AllowedRule, peersField: 'from' | 'to'): string | undefined {
  if (rule.peers === 'any') return `a rule without ${peersField} (any peer)`;
  for (const p of rule.peers) {
    // An except list carves out ranges but still admits the rest of the internet.
    if (p.type === 'ipBlock' && p.everyAddress) return `ipBlock ${p.cidr}`;
    if (p.type === 'selector' && p.allNamespaces && p.allPods)
      return 'namespaceSelector: {} (every pod in every namespace)';
  }
  return undefined;
}

function policyOutcomes(ctx: AuditContext): CheckOutcome[] {
  const analysis = analyzeNetwork(ctx);
  return analysis.policies.map((pv): CheckOutcome => {
    const hits: { field: string; why: string }[] = [];
    for (const [dir, peers] of [
      ['ingress', 'from'],
      ['egress', 'to'],
    ] as const)
      for (const r of pv.rules[dir]) {
        const why = openRule(r, peers);
        if (why) hits.push({ field: r.field, why: `${dir}: ${why}${r.ports === 'all' ? ', any port' : ''}` });
      }
    const cde = ctx.isCdeNamespace(pv.namespace) || pv.selected.some((w) => ctx.isCdeWorkload(w));
    return {
      pass: hits.length === 0,
      subject: pv.object,
      detail: hits.map((h) => h.why).join('; '),
      field: hits[0]?.field ?? 'spec',
      expected: 'rules naming the allowed peers',
      actual: hits.length ? hits.map((h) => `${h.field}: ${h.why}`).join('; ') : 'every rule names its peers',
      message: hits.length
        ? `NetworkPolicy ${pv.name} selects ${pv.selected.length ? pv.selected.map((w) => `${w.kind}/${w.name}`).join(', ') : 'pods'} and then admits everything (${hits.map((h) => `${h.field} ${h.why}`).join('; ')}), so coverage without restriction`
        : 'rules name their peers',
      cde,
      // Open ingress is the inbound requirement's gap; any open egress makes it the outbound one.
      pciKey: hits.some((h) => h.field.startsWith('spec.egress'))
        ? 'k8s.permissive_egress_from_cde'
        : 'k8s.netpol_no_default_deny_ingress',
      evidence: [['selects', pv.selected.map((w) => `${w.kind}/${w.namespace}/${w.name}`).join(',')]],
    };
  });
}

/**
 * CDE pods whose egress is enforced but allows more than their declared destinations. Pods whose egress is not
 * enforced at all are left to net/no-egress-networkpolicy: reporting them here too would be the same gap twice.
 */
function declaredEgressOutcomes(ctx: AuditContext): CheckOutcome[] {
  const analysis = analyzeNetwork(ctx);
  const out: CheckOutcome[] = [];
  for (const w of ctx.workloads) {
    const net = analysis.of(w);
    if (!ctx.isCdeWorkload(w) || !net.egress.isolated) continue;
    const declarations = declarationsOf(ctx, w);
    const gaps = undeclaredEgress(ctx, analysis, w, declarations.egress);
    const pass = gaps.length === 0 && declarations.errors.length === 0;
    const generated = pass ? undefined : cdePolicyFor(ctx, analysis, w, 'egress', declarations.egress);
    const declaredText = declarations.egress.map((d) => d.text).join(',') || 'nothing';
    out.push({
      pass,
      subject: w.object,
      detail: 'egress-not-declared',
      field: `${w.podSpecPath.slice(0, -1).concat('metadata').join('.')}.annotations[${ALLOWED_EGRESS_ANNOTATION}]`,
      expected: `egress limited to DNS and the declared destinations (${declaredText})`,
      actual: gaps.length
        ? gaps.map((g) => `${g.policy} ${g.field}: ${g.what}`).join('; ')
        : declarations.errors.length
          ? declarations.errors.join('; ')
          : `egress within the declaration (${net.egress.policies.join(', ')})`,
      message: declarations.errors.length
        ? `the egress declaration of ${w.kind} ${w.name} cannot be read: ${declarations.errors.join('; ')}`
        : gaps.length
          ? `CDE ${w.kind} ${w.name} may send traffic beyond its declared destinations (${declaredText}): ${gaps.map((g) => `${g.what} through NetworkPolicy ${g.policy} ${g.field}`).join('; ')}`
          : `CDE ${w.kind} ${w.name} reaches only DNS and its declared destinations`,
      ...(generated ? { patch: generated.policy } : {}),
      cde: true,
      pciKey: 'k8s.permissive_egress_from_cde',
      evidence: [
        ['declared-egress', declaredText],
        ['declared-in', declarations.egressFrom.join(',')],
        ...(generated?.notes.length
          ? ([['remediation-notes', generated.notes.join('; ')]] as [string, string][])
          : []),
      ],
    });
  }
  return out;
}

export const permissivePolicyCheck: CheckDefinition = {
  id: 'net/permissive-networkpolicy',
  version: 2,
  title: 'NetworkPolicy admits every peer',
  severity: Severity.MEDIUM,
  cdeSeverity: Severity.HIGH,
  pci: { key: 'k8s.permissive_egress_from_cde', use: 'secondary' },
  cdePci: { key: 'k8s.permissive_egress_from_cde', use: 'all' },
  remediation:
    'Replace the open rule by the pod/namespace selectors or CIDRs that need access, with their ports; for a CDE pod, allow only DNS and the destinations declared in its pci.vigil.dev/allowed-egress annotation.',
  concerns: (kind) => kind === 'NetworkPolicy' || kind === 'Namespace' || WORKLOAD_KINDS.has(kind),
  run: (ctx) => [...policyOutcomes(ctx), ...declaredEgressOutcomes(ctx)],
};

export const serviceExposedCheck: CheckDefinition = {
  id: 'net/service-exposed',
  version: 2,
  title: 'Service exposed outside the cluster',
  severity: Severity.MEDIUM,
  cdeSeverity: Severity.HIGH,
  pci: { key: 'k8s.service_exposed_lb_nodeport', use: 'all' },
  remediation:
    'Use type ClusterIP behind an Ingress with TLS, or record the Service as an approved public entry point (pci.vigil.dev/exposure on the pods or namespace behind it).',
  concerns: (kind) => kind === 'Service' || kind === 'Namespace' || WORKLOAD_KINDS.has(kind),
  run: (ctx) =>
    exposuresOf(ctx).services.map((s): CheckOutcome => {
      const externalIPs = s.externalIPs;
      const cde = ctx.isCdeNamespace(s.namespace) || s.workloads.some((w) => ctx.isCdeWorkload(w));
      // An approved entry point: every pod behind it (at least one) carries the declaration, or its namespace does.
      const reasons = s.workloads.map((w) => declarationsOf(ctx, w).exposure);
      const declared = s.external && reasons.length > 0 && reasons.every(Boolean);
      const how = `${s.type}${externalIPs.length ? ` with externalIPs ${externalIPs.join(',')}` : ''}`;
      const behind = s.workloads.map((w) => `${w.kind}/${w.name}`).join(', ') || 'no workload in the input';
      return {
        pass: !s.external || declared,
        subject: s.service,
        detail: s.type,
        field:
          externalIPs.length && s.type !== 'LoadBalancer' && s.type !== 'NodePort'
            ? 'spec.externalIPs'
            : 'spec.type',
        expected: 'ClusterIP without externalIPs, or a declared public entry point',
        actual: declared
          ? `${how}, declared: ${reasons.map((r) => `${r!.reason} (${r!.from})`).join('; ')}`
          : how,
        message: !s.external
          ? `Service ${s.name} is ${s.type}`
          : declared
            ? `Service ${s.name} is a declared public entry point for ${behind}`
            : `Service ${s.name} makes ${behind} reachable from outside the cluster (${s.type}${externalIPs.length ? ', externalIPs' : ''}${
                s.ports.some((p) => p.nodePort)
                  ? `, node ports ${s.ports
                      .filter((p) => p.nodePort)
                      .map((p) => p.nodePort)
                      .join(',')}`
                  : ''
              })${s.loadBalancerSourceRanges.length ? `, limited to ${s.loadBalancerSourceRanges.join(',')}` : ''}`,
        // A JSON merge patch is enough here; the API server drops node ports when the type becomes ClusterIP.
        patch:
          s.external && !declared
            ? { spec: { type: 'ClusterIP', ...(externalIPs.length ? { externalIPs: null } : {}) } }
            : undefined,
        cde,
        evidence: [['workloads', s.workloads.map((w) => `${w.kind}/${w.namespace}/${w.name}`).join(',')]],
      };
    }),
};

/**
 * Plain HTTP is judged whatever is declared: an exposure declaration approves a public entry point, not clear
 * text (PAN over public networks needs strong cryptography, 4.2.1).
 */
export const ingressNoTlsCheck: CheckDefinition = {
  id: 'net/ingress-no-tls',
  version: 2,
  title: 'Ingress serves plain HTTP',
  severity: Severity.HIGH,
  pci: { key: 'k8s.ingress_without_tls', use: 'all' },
  remediation: 'Add a tls section for the Ingress hosts with a certificate Secret.',
  concerns: (kind) => kind === 'Ingress' || kind === 'Service' || WORKLOAD_KINDS.has(kind),
  run: (ctx) =>
    exposuresOf(ctx).ingresses.map((ing): CheckOutcome => {
      const spec = obj(ing.ingress.raw['spec']) ?? {};
      const tls = arr(spec['tls']);
      const hosts = ing.hosts;
      const behind = [...new Set(ing.backends.flatMap((b) => b.workloads))];
      return {
        pass: tls.length > 0,
        subject: ing.ingress,
        field: 'spec.tls',
        expected: 'a tls section',
        actual: tls.length ? `${tls.length} tls entr${tls.length === 1 ? 'y' : 'ies'}` : 'unset',
        message: tls.length
          ? `TLS configured${ing.hostsWithoutTls.length ? ` (not for ${ing.hostsWithoutTls.join(', ')})` : ''}`
          : `Ingress ${ing.name} serves ${hosts.length ? hosts.join(', ') : 'every host'} over plain HTTP${behind.length ? ` to ${behind.map((w) => `${w.kind}/${w.name}`).join(', ')}` : ''}`,
        patch: tls.length
          ? undefined
          : {
              spec: {
                tls: [{ ...(hosts.length ? { hosts } : {}), secretName: `${ing.name || 'ingress'}-tls` }],
              },
            },
        cde: ctx.isCdeNamespace(ing.namespace) || behind.some((w) => ctx.isCdeWorkload(w)),
        evidence: [
          ['hosts', hosts.join(',')],
          ['workloads', behind.map((w) => `${w.kind}/${w.namespace}/${w.name}`).join(',')],
        ] as [string, string][],
      };
    }),
};

export const policySelectsNoPodsCheck: CheckDefinition = {
  id: 'net/policy-selects-no-pods',
  version: 2,
  title: 'NetworkPolicy selects no pod',
  severity: Severity.LOW,
  pci: { key: 'k8s.netpol_no_default_deny_ingress', use: 'secondary' },
  remediation:
    'Fix the podSelector to the labels of the pods it is meant for (selection is per namespace), or delete the policy.',
  concerns: (kind) => kind === 'NetworkPolicy',
  // Only where the input shows the namespace's pods: a policy read alone (a recipe, one file of a chart) selects
  // pods the input does not hold, and saying it selects none would be a false fail.
  run: (ctx) => {
    const analysis = analyzeNetwork(ctx);
    return analysis.policies.flatMap((pv): CheckOutcome[] => {
      const selected = pv.selected;
      const ns = pv.namespace;
      const present = analysis.workloadsIn(ns).length;
      if (present === 0) return [];
      return [
        {
          pass: selected.length > 0,
          subject: pv.object,
          field: 'spec.podSelector',
          expected: 'selects at least one pod in its namespace',
          actual: selected.length
            ? `selects ${selected.map((w) => `${w.kind}/${w.name}`).join(', ')}`
            : `selects nothing among the ${present} workload(s) of ${ns} in the input`,
          message: selected.length
            ? 'selects pods'
            : `NetworkPolicy ${pv.name} selects no pod in namespace ${ns}, so the isolation it was written for is not in effect`,
          cde: ctx.isCdeNamespace(ns),
        },
      ];
    });
  },
};

export const invalidPolicyCheck: CheckDefinition = {
  id: 'net/invalid-networkpolicy',
  version: 1,
  title: 'NetworkPolicy has parts the API server would reject',
  severity: Severity.MEDIUM,
  pci: { key: 'k8s.netpol_no_default_deny_ingress', use: 'secondary' },
  remediation:
    'Fix the named peers and ports (a CIDR such as 10.0.0.0/16, except blocks inside it, an ipBlock alone in its peer); until then the API server refuses the policy and the segmentation it describes does not exist.',
  concerns: (kind) => kind === 'NetworkPolicy',
  // A manifest the API server refuses is isolation that is not there: say so rather than analyse a policy that
  // cannot exist.
  run: (ctx) =>
    analyzeNetwork(ctx).policies.map((pv): CheckOutcome => ({
      pass: pv.problems.length === 0,
      subject: pv.object,
      field: 'spec',
      expected: 'a policy the API server accepts',
      actual: pv.problems.length ? pv.problems.join('; ') : 'valid',
      message: pv.problems.length
        ? `NetworkPolicy ${pv.name} would be refused by the API server: ${pv.problems.join('; ')}`
        : 'valid',
      cde: ctx.isCdeNamespace(pv.namespace),
    })),
};

export const NETWORK_CHECKS: readonly CheckDefinition[] = [
  invalidPolicyCheck,
  noIngressPolicyCheck,
  noEgressPolicyCheck,
  permissivePolicyCheck,
  policySelectsNoPodsCheck,
  serviceExposedCheck,
  ingressNoTlsCheck,
];
