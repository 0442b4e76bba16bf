import { CATALOG_DATA } from './catalog.data.js';
import {
  type Applicability,
  type AssessmentProfile,
  type EntityType,
  type Requirement,
} from './requirement.model.js';

export const FRAMEWORK_VERSION = '4.0.1';

const byId = new Map<string, Requirement>(CATALOG_DATA.map((r) => [r.id, r]));
const aliasToId = new Map<string, string>(
  CATALOG_DATA.flatMap((r) => (r.aliases ?? []).map((alias) => [alias, r.id] as const)),
);
const childrenById = new Map<string, Requirement[]>();
for (const r of CATALOG_DATA) {
  if (r.parent === null) continue;
  const list = childrenById.get(r.parent) ?? [];
  list.push(r);
  childrenById.set(r.parent, list);
}

/** Every id of PCI DSS v4.0.1, in the standard's order. */
export function catalog(): readonly Requirement[] {
  return CATALOG_DATA;
}

/** The canonical id for an id or a known alias (`A3.3.1.2` → `A3.3.1.1`); undefined when neither. */
export function canonicalId(id: string): string | undefined {
  if (byId.has(id)) return id;
  return aliasToId.get(id);
}

/** Looks an id up; accepts aliases and returns the canonical entry. */
export function requirement(id: string): Requirement | undefined {
  const canonical = canonicalId(id);
  return canonical === undefined ? undefined : byId.get(canonical);
}

/** True for a canonical v4.0.1 id of any level (aliases are not ids vigil emits, so they answer false). */
export function isRequirementId(id: string): boolean {
  return byId.has(id);
}

/** True for ids findings may map to: canonical requirement or sub-requirement level. */
export function isAssessableLevel(id: string): boolean {
  const r = byId.get(id);
  return r !== undefined && (r.level === 'requirement' || r.level === 'sub-requirement');
}

function mustGet(id: string): Requirement {
  const r = requirement(id);
  if (!r) throw new Error(`unknown PCI DSS v${FRAMEWORK_VERSION} requirement id "${id}"`);
  return r;
}

/** The principal requirement (1–12) or appendix (A1–A3) an id belongs to. */
export function principalOf(id: string): Requirement {
  let r = mustGet(id);
  while (r.parent !== null) r = mustGet(r.parent);
  return r;
}

/** Direct children of an id, in the standard's order. */
export function children(id: string): readonly Requirement[] {
  return childrenById.get(mustGet(id).id) ?? [];
}

function applies(applicability: Applicability, entityType: EntityType, profile: AssessmentProfile): boolean {
  switch (applicability) {
    case 'all':
      return true;
    case 'service_providers':
      return entityType === 'service_provider';
    case 'multi_tenant_service_providers':
      return entityType === 'service_provider' && profile.multiTenant === true;
    case 'designated_entities':
      return profile.designatedEntity === true;
    case 'issuers':
      return profile.issuer === true;
    case 'ssl_early_tls_pos_poi':
      return profile.sslEarlyTlsPoi === true;
    case 'customized_approach':
      return profile.customizedApproach === true;
  }
}

function appliesWithAncestors(r: Requirement, entityType: EntityType, profile: AssessmentProfile): boolean {
  for (let at: Requirement | undefined = r; at; at = at.parent === null ? undefined : byId.get(at.parent)) {
    if (!applies(at.applicability, entityType, profile)) return false;
  }
  return true;
}

/**
 * Requirements and sub-requirements to assess for an entity. Service-provider-only and multi-tenant ids never
 * apply to merchants; Appendix A2, Appendix A3, issuer and customized-approach ids only when the profile says so.
 * An id applies only when it and every ancestor apply: A2.1.2 is for service providers, but only for those whose
 * POI terminals still use SSL/early TLS, which is Appendix A2's own condition.
 */
export function assessable(entityType: EntityType, profile: AssessmentProfile = {}): readonly Requirement[] {
  if (entityType !== 'merchant' && entityType !== 'service_provider') {
    throw new Error(`unknown entity type "${String(entityType)}" (expected merchant or service_provider)`);
  }
  return CATALOG_DATA.filter(
    (r) =>
      (r.level === 'requirement' || r.level === 'sub-requirement') &&
      appliesWithAncestors(r, entityType, profile),
  );
}
