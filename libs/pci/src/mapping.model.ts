import { type EvidenceSource } from './requirement.model.js';

export interface MappedRequirement {
  readonly id: string;
  /** Our own one-line explanation of why the finding is evidence for this id. */
  readonly reason: string;
}

export interface FindingMapping {
  /** Stable finding-type key, e.g. `image.vulnerable_package`. */
  readonly key: string;
  readonly scanners: readonly Exclude<EvidenceSource, 'manual'>[];
  readonly topic: string;
  /** The finding tests the requirement's technical condition directly: a failing finding is a gap. */
  readonly primary: readonly MappedRequirement[];
  /** Supporting or conditional evidence: attach it, never fail the requirement on it alone. */
  readonly secondary: readonly MappedRequirement[];
}
