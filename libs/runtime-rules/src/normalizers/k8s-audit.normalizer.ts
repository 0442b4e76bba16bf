import { type KubernetesRequest, type RuntimeDetection, type RuntimeEvent } from '../detection.model.js';
import { policyDetection } from '../policies/process-policies.js';
import { isObject, num, obj, str, strings, workloadFromPodName } from './field-access.js';
import {
  type JsonObject,
  type NormalizeContext,
  type NormalizeOutcome,
  type RuntimeNormalizer,
} from './normalizer.model.js';

const ID = 'k8s-audit-event';
const VERSION = 1;

function requestOf(v: JsonObject): KubernetesRequest {
  const user = obj(v['user']);
  const imp = obj(v['impersonatedUser']);
  const ref = obj(v['objectRef']);
  const status = obj(v['responseStatus']);
  const ann = obj(v['annotations']) ?? {};
  return {
    verb: str(v['verb']),
    user: str(user?.['username']),
    impersonatedUser: str(imp?.['username']),
    groups: strings(user?.['groups']),
    sourceIps: strings(v['sourceIPs']),
    userAgent: str(v['userAgent']),
    resource: str(ref?.['resource']),
    subresource: str(ref?.['subresource']),
    namespace: str(ref?.['namespace']),
    name: str(ref?.['name']),
    apiGroup: str(ref?.['apiGroup']),
    requestUri: str(v['requestURI']),
    responseCode: num(status?.['code']),
    decision: str(ann['authorization.k8s.io/decision']),
    reason: str(ann['authorization.k8s.io/reason']),
    auditId: str(v['auditID']),
    stage: str(v['stage']),
    level: str(v['level']),
  };
}

function normalize(v: JsonObject, ctx: NormalizeContext): NormalizeOutcome {
  const k = requestOf(v);
  const time = str(v['stageTimestamp']) ?? str(v['requestReceivedTimestamp']) ?? str(v['timestamp']);
  const target = k.resource
    ? `${k.resource}${k.subresource ? `/${k.subresource}` : ''}`
    : (k.requestUri ?? '');
  const pod = k.resource === 'pods' ? k.name : null;
  const looked = ctx.inventory?.workloadOf({ node: null, containerId: null, namespace: k.namespace, pod });
  return {
    event: {
      sensor: 'k8s-audit',
      normalizer: { id: ID, version: VERSION },
      eventType: `${k.verb ?? '?'} ${target}`,
      source: null,
      priority: null,
      time: time ?? ctx.clock().toISOString(),
      timeFromClock: time === null,
      node: null,
      line: ctx.line,
      container: null,
      namespace: k.namespace,
      pod,
      workload: pod ? (looked?.workload ?? workloadFromPodName(pod)) : null,
      process: null,
      parent: null,
      ancestors: [],
      file: null,
      peer: null,
      k8s: k,
      denied: (k.responseCode ?? 0) >= 400 || k.decision === 'forbid',
      tags: [],
      mitre: [],
      legacyPciTags: [],
      message: null,
      kprobe: null,
      execSyscall: false,
      capSysAdmin: null,
    },
  };
}

const RBAC_RESOURCES = new Set(['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings']);
const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection', 'bind', 'escalate']);

/** The acting identity: the impersonated user when someone impersonates. */
export function actorOf(k: KubernetesRequest): string {
  return k.impersonatedUser ?? k.user ?? 'unknown';
}

// Control-plane components read secrets and touch RBAC all day; their traffic is not a detection.
function isControlPlane(user: string): boolean {
  return (
    /^system:(?:node:|kube-|apiserver$|serviceaccount:kube-system:)/.test(user) ||
    user === 'system:kube-controller-manager' ||
    user === 'system:kube-scheduler'
  );
}

function bindsClusterAdmin(v: JsonObject | undefined): boolean {
  const ref = obj(obj(v)?.['roleRef']);
  return ref?.['name'] === 'cluster-admin';
}

function hasWildcard(v: JsonObject | undefined): boolean {
  const rules = obj(v)?.['rules'];
  return (
    Array.isArray(rules) &&
    rules.some(
      (r) => isObject(r) && (strings(r['verbs']).includes('*') || strings(r['resources']).includes('*')),
    )
  );
}

function describe(k: KubernetesRequest): string {
  const who = k.impersonatedUser
    ? `${k.impersonatedUser} (impersonated by ${k.user ?? '?'})`
    : (k.user ?? 'unknown');
  const what = `${k.verb ?? '?'} ${k.resource ?? k.requestUri ?? '?'}${k.subresource ? `/${k.subresource}` : ''}`;
  const obj = k.name ? ` ${k.namespace ? `${k.namespace}/` : ''}${k.name}` : '';
  const result = k.responseCode !== null ? `, answered ${k.responseCode}` : '';
  return `${who}: ${what}${obj}${result}${k.decision ? ` (decision ${k.decision})` : ''}`;
}

function detectAudit(e: RuntimeEvent, raw: JsonObject | undefined): RuntimeDetection[] {
  const k = e.k8s;
  // RequestReceived precedes the response stage of the same request: counting both would double every request.
  if (!k || k.stage === 'RequestReceived') return [];
  const out: RuntimeDetection[] = [];
  const actor = actorOf(k);
  const verb = (k.verb ?? '').toLowerCase();
  if (
    k.resource === 'pods' &&
    (k.subresource === 'exec' || k.subresource === 'attach') &&
    (verb === 'create' || verb === 'get')
  )
    out.push(
      policyDetection(
        e,
        'runtime/exec-into-pod',
        'exec-into-pod',
        `kubectl ${k.subresource} into a pod`,
        describe(k),
      ),
    );
  const anonymous = actor === 'system:anonymous' || k.groups.includes('system:unauthenticated');
  if (anonymous)
    out.push(
      policyDetection(
        e,
        'runtime/anonymous-request',
        'anonymous-request',
        'Anonymous request to the API server',
        describe(k),
      ),
    );
  if (!anonymous && isControlPlane(actor)) return out;
  if (k.resource === 'secrets' && ['get', 'list', 'watch'].includes(verb))
    out.push(
      policyDetection(e, 'runtime/secret-read', 'secret-access', 'Secret read through the API', describe(k)),
    );
  if (k.resource && RBAC_RESOURCES.has(k.resource) && WRITE_VERBS.has(verb)) {
    const req = obj(raw?.['requestObject']);
    const elevated = bindsClusterAdmin(req) || hasWildcard(req);
    out.push(
      policyDetection(
        e,
        'runtime/rbac-change',
        'rbac-change',
        elevated ? 'RBAC change granting cluster-admin or wildcard access' : 'RBAC change',
        `${describe(k)}${elevated ? '; grants cluster-admin or wildcard rights' : ''}`,
      ),
    );
  }
  return out;
}

/** audit.k8s.io Event objects (log backend lines, webhook EventList items), v1 and v1beta1 alike. */
export const k8sAuditNormalizer: RuntimeNormalizer = {
  id: ID,
  sensor: 'k8s-audit',
  version: VERSION,
  concerns: (v) =>
    typeof v['auditID'] === 'string' &&
    typeof v['verb'] === 'string' &&
    (typeof v['stage'] === 'string' || v['kind'] === 'Event'),
  normalize,
  detect: (e, _ctx, raw) => detectAudit(e, raw),
};
