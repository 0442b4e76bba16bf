/** Nesting level of an id: principal requirements 1–12, appendices A1–A3, sections (x.y), requirements (x.y.z) and
 * sub-requirements (four or more parts). Findings only ever map to `requirement` and `sub-requirement`. */
export type RequirementLevel = 'principal' | 'appendix' | 'section' | 'requirement' | 'sub-requirement';

/** Who a requirement applies to. Everything except `all` is conditional on what the assessed entity is or does. */
export type Applicability =
  | 'all'
  | 'service_providers'
  | 'multi_tenant_service_providers'
  | 'issuers'
  | 'designated_entities'
  | 'ssl_early_tls_pos_poi'
  | 'customized_approach';

/** Which vigil scanner can produce evidence for a requirement; `manual` when none can. */
export type EvidenceSource = 'image' | 'config' | 'runtime' | 'host' | 'manual';

/** How much of a requirement scanner evidence can show: `rollup` marks grouping nodes (principals, sections). */
export type Coverage = 'strong' | 'partial' | 'none' | 'rollup';

/** Best practice until 31 March 2025 (the whole requirement, or one bullet of it); mandatory since then. */
export type FutureDated = false | 'whole' | 'bullet';

export interface Requirement {
  readonly id: string;
  readonly parent: string | null;
  readonly level: RequirementLevel;
  /** Our own short summary, not the standard's wording. */
  readonly title: string;
  readonly applicability: Applicability;
  readonly automatable: readonly EvidenceSource[];
  readonly coverage: Coverage;
  readonly futureDated: FutureDated;
  /** Principal requirements only: which of the six goal groups it belongs to. */
  readonly goal?: number;
  /** Other numbers used for the same requirement in other sources (accepted on input, never emitted). */
  readonly aliases?: readonly string[];
}

export type EntityType = 'merchant' | 'service_provider';

/** Conditions that switch on conditional requirements; all default to false. */
export interface AssessmentProfile {
  /** Service providers hosting several customers (Appendix A1, 11.4.7). */
  readonly multiTenant?: boolean;
  /** Designated by a payment brand or acquirer for supplemental validation (Appendix A3). */
  readonly designatedEntity?: boolean;
  /** Issuers or companies supporting issuing services (3.3.3). */
  readonly issuer?: boolean;
  /** POS POI terminals still using SSL or early TLS (Appendix A2). */
  readonly sslEarlyTlsPoi?: boolean;
  /** Meets at least one requirement through the customized approach (12.3.2). */
  readonly customizedApproach?: boolean;
}
