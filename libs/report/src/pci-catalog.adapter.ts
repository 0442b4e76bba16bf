import { FindingSource, type Finding } from '@vigil/contracts';
import {
  FRAMEWORK_VERSION,
  assessable,
  canonicalId,
  catalog,
  findingMapping,
  mappingKeys,
  requirementsFor,
  type Applicability,
  type AssessmentProfile,
} from '@vigil/pci';
import type { CatalogRequirement, EntityType, FindingMapping, RequirementCatalog } from './catalog.port.js';

export interface PciCatalogOptions {
  // Conditions that switch conditional requirements on (multi-tenant hosting, Appendix A3 designation...).
  readonly profile?: AssessmentProfile;
  // The finding types of a finding, e.g. "image.vulnerable_package", when its producer says which they are. With
  // keys, the reference mapping decides which of the finding's ids are primary. Without them the type is inferred
  // from the ids the finding lists (see inferMapping). Default: the finding's "pci-mapping-key" evidence
  // (comma-separated keys).
  readonly mappingKeyOf?: (finding: Finding) => string | readonly string[] | undefined;
}

// The snapshot builder's view of @vigil/pci: the v4.0.1 catalog, applicability by entity type and profile, and the
// primary/secondary split of a finding's requirement ids.
export function pciCatalog(options: PciCatalogOptions = {}): RequirementCatalog {
  const profile = options.profile ?? {};
  const applicable = new Map<EntityType, Set<string>>();
  const applicableTo = (entityType: EntityType): Set<string> => {
    let s = applicable.get(entityType);
    if (!s) {
      s = new Set(assessable(entityType, profile).map((r) => r.id));
      applicable.set(entityType, s);
    }
    return s;
  };
  const applicabilityOf = new Map<string, Applicability>(catalog().map((r) => [r.id, r.applicability]));
  const requirements: CatalogRequirement[] = catalog().map((r) => ({
    id: r.id,
    parent: r.parent,
    level: r.level,
    title: r.title,
    automatable: r.automatable,
    coverage: r.coverage,
  }));
  return {
    frameworkVersion: FRAMEWORK_VERSION,
    requirements,
    notApplicableReason(req, entityType) {
      if (applicableTo(entityType).has(req.id)) return undefined;
      return notApplicableText(applicabilityOf.get(req.id) ?? 'all', entityType, profile);
    },
    mappingOf(finding) {
      return mappingOf(finding, (options.mappingKeyOf ?? mappingKeysFromEvidence)(finding));
    },
  };
}

const known = new Set(mappingKeys());

// Only keys of the reference mapping count; a finding naming another falls back to inference.
function mappingKeysFromEvidence(finding: Finding): string[] | undefined {
  const value = finding.evidence.find((e) => e.key === 'pci-mapping-key')?.value;
  const keys = value
    ?.split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  return keys && keys.length > 0 && keys.every((k) => known.has(k)) ? keys : undefined;
}

function mappingOf(finding: Finding, key: string | readonly string[] | undefined): FindingMapping {
  const mapping = listedMapping(finding, key);
  // Ids the finding says it only supports are secondary whatever its type, and never fail a requirement.
  const supporting = finding.supportingPciRequirements
    .map((id) => canonicalId(id) ?? id)
    .filter((id) => !mapping.primary.includes(id) && !mapping.secondary.includes(id));
  return supporting.length === 0
    ? mapping
    : { primary: mapping.primary, secondary: [...mapping.secondary, ...new Set(supporting)] };
}

function listedMapping(finding: Finding, key: string | readonly string[] | undefined): FindingMapping {
  const listed = [...new Set(finding.pciRequirements.map((id) => canonicalId(id) ?? id))];
  const keys = typeof key === 'string' ? [key] : key;
  if (keys === undefined || keys.length === 0) return inferMapping(finding.source, listed);
  const refs = keys.map((k) => requirementsFor(k));
  // A finding listing no ids (a check that only supports its requirements) fails none, whatever its type.
  if (listed.length === 0) return { primary: [], secondary: [] };
  const primary = new Set(refs.flatMap((r) => r.primary));
  return {
    primary: listed.filter((id) => primary.has(id)),
    secondary: listed.filter((id) => !primary.has(id)),
  };
}

interface MappingEntry {
  readonly scanners: readonly string[];
  readonly primary: ReadonlySet<string>;
  readonly all: ReadonlySet<string>;
}

const entries: readonly MappingEntry[] = mappingKeys().map((key) => {
  const m = findingMapping(key);
  const primary = new Set(m.primary.map((r) => r.id));
  return { scanners: m.scanners, primary, all: new Set([...primary, ...m.secondary.map((r) => r.id)]) };
});

const sourceScanner: Partial<Record<FindingSource, string>> = {
  [FindingSource.IMAGE]: 'image',
  [FindingSource.CONFIG]: 'config',
  [FindingSource.RUNTIME]: 'runtime',
  [FindingSource.HOST]: 'host',
};

// Until findings carry their finding type, it is inferred from the ids they list: the candidate types are those of
// the finding's scanner whose primary ids the finding lists and whose ids cover all it lists; the best candidates
// are those with the most listed ids as primary. An id counts as primary only if every best candidate says so, so
// an id that is merely secondary under a plausible reading never fails a requirement. With no candidate (a
// producer listing its own choice of ids), every listed id is primary.
export function inferMapping(source: FindingSource, listed: readonly string[]): FindingMapping {
  if (listed.length === 0) return { primary: [], secondary: [] };
  const scanner = sourceScanner[source];
  const candidates = entries.filter(
    (e) =>
      (scanner === undefined || e.scanners.includes(scanner)) &&
      [...e.primary].every((id) => listed.includes(id)) &&
      listed.every((id) => e.all.has(id)),
  );
  if (candidates.length === 0) return { primary: [...listed], secondary: [] };
  const score = (e: MappingEntry) => listed.filter((id) => e.primary.has(id)).length;
  const best = Math.max(...candidates.map(score));
  const top = candidates.filter((e) => score(e) === best);
  const primary = listed.filter((id) => top.every((e) => e.primary.has(id)));
  return { primary, secondary: listed.filter((id) => !primary.includes(id)) };
}

function notApplicableText(
  applicability: Applicability,
  entityType: EntityType,
  profile: AssessmentProfile,
): string {
  const entity = entityType === 'merchant' ? 'a merchant' : 'a service provider';
  switch (applicability) {
    case 'service_providers':
      return `Applies to service providers only; this deployment is assessed as ${entity}`;
    case 'multi_tenant_service_providers':
      return entityType === 'merchant'
        ? `Applies to multi-tenant service providers only; this deployment is assessed as ${entity}`
        : 'Applies to multi-tenant service providers only; the assessment profile does not declare multi-tenant hosting';
    case 'designated_entities':
      return 'Appendix A3 applies only to entities a payment brand or acquirer designates; the profile declares no designation';
    case 'issuers':
      return 'Applies to issuers and issuing services only; the profile does not declare issuing';
    case 'ssl_early_tls_pos_poi':
      return 'Appendix A2 applies only to POS POI terminals still using SSL or early TLS; the profile declares none';
    case 'customized_approach':
      return profile.customizedApproach
        ? 'Not applicable under the assessment profile'
        : 'Applies only to entities using the customized approach; the profile does not declare it';
    default:
      return 'Not applicable under the assessment profile';
  }
}
