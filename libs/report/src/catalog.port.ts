import type { Finding } from '@vigil/contracts';

// What the snapshot builder needs to know about the framework. The adapter over @vigil/pci lives in
// pci-catalog.adapter.ts; tests may pass a small catalog of their own.

export type EntityType = 'merchant' | 'service_provider';

export const ENTITY_TYPES: readonly EntityType[] = ['merchant', 'service_provider'];

export type Coverage = 'strong' | 'partial' | 'none' | 'rollup';

export type EvidenceSource = 'image' | 'config' | 'runtime' | 'host' | 'manual';

export interface CatalogRequirement {
  readonly id: string;
  readonly parent: string | null;
  // principal | appendix | section | requirement | sub-requirement
  readonly level: string;
  readonly title: string;
  readonly automatable: readonly EvidenceSource[];
  readonly coverage: Coverage;
}

export interface FindingMapping {
  // Ids the finding tests directly: an open finding puts them out of place.
  readonly primary: readonly string[];
  // Supporting evidence only: never fails a requirement.
  readonly secondary: readonly string[];
}

export interface RequirementCatalog {
  readonly frameworkVersion: string;
  // Every id of the framework in the standard's order, grouping levels included.
  readonly requirements: readonly CatalogRequirement[];
  // Why a requirement does not apply to the entity, or undefined when it does.
  notApplicableReason(requirement: CatalogRequirement, entityType: EntityType): string | undefined;
  // Splits a finding's requirement ids into the ones it fails and the ones it only supports.
  mappingOf(finding: Finding): FindingMapping;
}

export function isAssessable(r: CatalogRequirement): boolean {
  return r.level === 'requirement' || r.level === 'sub-requirement';
}

export function parseEntityType(value: string): EntityType {
  if ((ENTITY_TYPES as readonly string[]).includes(value)) return value as EntityType;
  throw new Error(`entity type "${value}" is not one of ${ENTITY_TYPES.join(', ')}`);
}
