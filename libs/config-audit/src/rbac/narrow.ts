import { VIEW_RESOURCES_BY_GROUP } from './builtin-roles.data.js';
import { capabilitiesOfRule } from './capabilities.js';
import { type PolicyRule } from './policy-rule.js';

const READ_VERBS = ['get', 'list', 'watch'];
const VERB_ORDER = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];

const orderVerbs = (verbs: Iterable<string>) =>
  [...new Set(verbs)].sort((a, b) => {
    const ia = VERB_ORDER.indexOf(a);
    const ib = VERB_ORDER.indexOf(b);
    if (ia >= 0 && ib >= 0) return ia - ib;
    if (ia >= 0 || ib >= 0) return ia >= 0 ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });

/**
 * A proposal for a role's rules with every wildcard made concrete and every right that reads Secrets, runs code in
 * pods or escalates taken out. What the subjects really use cannot be known from the manifests, so the proposal
 * is conservative: `*` verbs become get/list/watch, `*` resources (and `*` API groups) become what the built-in view
 * role reads in those groups (nothing, for a group view does not know, such as a CRD's: list its resources by
 * hand), explicit resources under `*` groups go to the groups view knows them in, `* /subresource` entries and
 * empty verbs are dropped. A rule without `*` keeps its shape. Then each single right (group, resource, verb) that gives a
 * capability other than create-pods is removed: reading Secrets, exec/attach/ephemeral containers,
 * serviceaccounts/token, impersonate, escalate, bind, writing RBAC objects, nodes/proxy, CSR approval, admission
 * webhooks. Starting pods stays (a deployer needs it; the finding for it names the ServiceAccounts at risk).
 * Rules for non-resource URLs keep their URLs with `*` verbs made get. resourceNames are kept.
 */
export function narrowRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const rule of rules) {
    const verbs = (rule.verbs.includes('*') ? READ_VERBS : rule.verbs).filter((v) => v !== '');
    if (verbs.length === 0) continue;
    if (rule.nonResourceURLs.length > 0) {
      out.push({
        apiGroups: [],
        resources: [],
        verbs: rule.verbs.includes('*') ? ['get'] : verbs,
        resourceNames: [],
        nonResourceURLs: [...rule.nonResourceURLs],
      });
      continue;
    }
    const explicit = rule.resources.filter((r) => r !== '' && r !== '*' && !r.startsWith('*/'));
    // Without * anywhere the rule keeps its shape: a right is dropped when it is sensitive in any of its groups.
    const perGroup = rule.apiGroups.includes('*') || rule.resources.includes('*');
    const groupSets: { groups: string[]; resources: string[] }[] = perGroup
      ? (rule.apiGroups.includes('*') ? Object.keys(VIEW_RESOURCES_BY_GROUP) : rule.apiGroups).map((g) => {
          const known = VIEW_RESOURCES_BY_GROUP[g] ?? [];
          // With * groups, an explicit resource goes to the groups view knows it in (none, for a CRD's).
          const resources = rule.resources.includes('*')
            ? [...known]
            : rule.apiGroups.includes('*')
              ? explicit.filter((r) => known.includes(r))
              : explicit;
          return { groups: [g], resources };
        })
      : [{ groups: rule.apiGroups.filter((g) => g !== '*'), resources: explicit }];
    for (const { groups, resources } of groupSets) {
      const byVerbs = new Map<string, string[]>();
      for (const resource of resources) {
        const kept = verbs.filter((verb) =>
          groups.every(
            (group) =>
              capabilitiesOfRule(
                {
                  apiGroups: [group],
                  resources: [resource],
                  verbs: [verb],
                  resourceNames: rule.resourceNames,
                  nonResourceURLs: [],
                },
                // A cluster-wide scope, so cluster-only rights (nodes/proxy, impersonating users) are seen too.
                '*',
              ).filter((c) => !c.startsWith('create-pods')).length === 0,
          ),
        );
        if (kept.length === 0) continue;
        const key = orderVerbs(kept).join(',');
        byVerbs.set(key, [...(byVerbs.get(key) ?? []), resource]);
      }
      for (const [key, res] of byVerbs)
        out.push({
          apiGroups: [...groups],
          resources: res,
          verbs: key.split(','),
          resourceNames: [...rule.resourceNames],
          nonResourceURLs: [],
        });
    }
  }
  // Rules that differ only in their API group are one rule again, as they were written.
  const merged: PolicyRule[] = [];
  for (const r of out) {
    const same = merged.find(
      (m) =>
        m.nonResourceURLs.length === 0 &&
        r.nonResourceURLs.length === 0 &&
        m.resources.join() === r.resources.join() &&
        m.verbs.join() === r.verbs.join() &&
        m.resourceNames.join() === r.resourceNames.join(),
    );
    if (same) same.apiGroups.push(...r.apiGroups.filter((g) => !same.apiGroups.includes(g)));
    else merged.push({ ...r, apiGroups: [...r.apiGroups] });
  }
  return merged;
}

/** The rules as the Kubernetes API writes them: empty lists left out. */
export function rulesAsJson(rules: readonly PolicyRule[]): Record<string, unknown>[] {
  return rules.map((r) => {
    const o: Record<string, unknown> = {};
    if (r.nonResourceURLs.length) o['nonResourceURLs'] = r.nonResourceURLs;
    else o['apiGroups'] = r.apiGroups;
    if (r.resources.length) o['resources'] = r.resources;
    if (r.resourceNames.length) o['resourceNames'] = r.resourceNames;
    o['verbs'] = r.verbs;
    return o;
  });
}
