/** Severity words as findings carry them (the contracts' JSON mapping writes the same plain words). */
export type Severity = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'UNKNOWN';

/**
 * The part of a finding that gating and risk acceptance look at. Structural on purpose: the generated contract
 * Finding (camelCase fields) and every engine's own finding type fit it without a conversion.
 */
export interface PolicyFinding {
  readonly id: string;
  /** CVE id when one exists, else the advisory or check id. */
  readonly ruleId: string;
  readonly severity: string;
  readonly source: string;
  readonly aliases?: readonly string[];
  readonly asset?: {
    readonly kind?: string;
    readonly cluster?: string;
    readonly namespace?: string;
    readonly name?: string;
    readonly container?: string;
    readonly imageRef?: string;
    readonly imageDigest?: string;
    readonly node?: string;
  };
  readonly package?: {
    readonly ecosystem?: string;
    readonly name?: string;
    readonly version?: string;
    readonly purl?: string;
  };
  readonly locations?: readonly string[];
}
