import { arr, obj } from '../model/k8s-object.js';

/** One entry of a Role's or ClusterRole's `rules`, with absent lists as empty lists. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames: string[];
  nonResourceURLs: string[];
}

/** A request for a resource, in the terms the API server's RBAC authorizer receives it. */
export interface ResourceRequest {
  verb: string;
  /** "" is the core group. */
  group: string;
  resource: string;
  subresource?: string;
  /** Absent or "" for cluster-scoped resources and for requests across all namespaces. */
  namespace?: string;
  name?: string;
}

/** A request for a path that is not a resource (/healthz, /metrics, /logs/...). */
export interface NonResourceRequest {
  verb: string;
  nonResourceURL: string;
}

export type AccessRequest = ResourceRequest | NonResourceRequest;

export function isNonResourceRequest(r: AccessRequest): r is NonResourceRequest {
  return 'nonResourceURL' in r;
}

export function parseRules(raw: unknown): PolicyRule[] {
  return arr(raw).map((r) => {
    const o = obj(r) ?? {};
    const list = (k: string) => arr(o[k]).map((x) => String(x));
    return {
      apiGroups: list('apiGroups'),
      resources: list('resources'),
      verbs: list('verbs'),
      resourceNames: list('resourceNames'),
      nonResourceURLs: list('nonResourceURLs'),
    };
  });
}

const verbMatches = (rule: PolicyRule, verb: string) => rule.verbs.includes('*') || rule.verbs.includes(verb);

const groupMatches = (rule: PolicyRule, group: string) =>
  rule.apiGroups.includes('*') || rule.apiGroups.includes(group);

/**
 * The authorizer's resource match: "*" is every resource and subresource, "pods/exec" is that subresource only,
 * "* /exec" (without the space) is that subresource of every resource. "pods/*" is NOT a wildcard: the API server
 * compares it literally, so it matches nothing.
 */
export function resourceMatches(rule: PolicyRule, resource: string, subresource?: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  return rule.resources.some(
    (r) => r === '*' || r === combined || (subresource !== undefined && r === `*/${subresource}`),
  );
}

const nameMatches = (rule: PolicyRule, name?: string) =>
  rule.resourceNames.length === 0 || (name !== undefined && rule.resourceNames.includes(name));

const urlMatches = (rule: PolicyRule, url: string) =>
  rule.nonResourceURLs.some(
    (u) => u === '*' || u === url || (u.endsWith('*') && url.startsWith(u.slice(0, -1))),
  );

/** Whether one rule allows the request, exactly as the RBAC authorizer decides it (rbac/v1 RuleAllows). */
export function ruleAllows(rule: PolicyRule, request: AccessRequest): boolean {
  if (!verbMatches(rule, request.verb)) return false;
  if (isNonResourceRequest(request)) return urlMatches(rule, request.nonResourceURL);
  return (
    groupMatches(rule, request.group) &&
    resourceMatches(rule, request.resource, request.subresource) &&
    nameMatches(rule, request.name)
  );
}

export function ruleText(rule: PolicyRule): string {
  if (rule.nonResourceURLs.length)
    return `${rule.verbs.join(',')} on non-resource URLs ${rule.nonResourceURLs.join(',')}`;
  const groups = rule.apiGroups.map((g) => (g === '' ? 'core' : g)).join(',');
  const names = rule.resourceNames.length ? ` named ${rule.resourceNames.join(',')}` : '';
  return `${rule.verbs.join(',')} on ${rule.resources.join(',')}${names} in groups ${groups}`;
}

export const sameRule = (a: PolicyRule, b: PolicyRule) => JSON.stringify(a) === JSON.stringify(b);
