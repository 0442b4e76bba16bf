// What matching one filesystem's packages against the advisory store yields: one match per vulnerability per
// package, aliases merged. The scan turns these into contracts Findings (ids, asset, PCI ids, remediation).
import type { Severity } from '@vigil/contracts';
import type { ExtractedPackage } from '../analyzers/analyzer.js';

export interface CvssScore {
  /** "3.1", "3.0", "4.0", "2.0". */
  version: string;
  vector: string;
  score: number;
  /** Who scored it: the record's database ("ghsa", "nvd", "ubuntu"), as the record says. */
  source: string;
}

/** The distro's own rating, where its advisory gives one ("high", "medium", Debian "unimportant"). */
export interface VendorRating {
  source: string;
  rating: string;
}

/**
 * `fixed`: a fixed version exists for this ecosystem. The others are "no fix yet" with the distro's status, where it
 * says one: `will_not_fix`, `deferred`, `fix_deferred`, `affected` (no fix released yet), `unknown`.
 */
export type FixState = 'fixed' | 'no_fix' | 'will_not_fix' | 'deferred' | 'affected' | 'unknown';

export interface VulnerabilityMatch {
  package: ExtractedPackage;
  /** The finding's rule id: the CVE id when any merged record names one, else the record id. */
  vulnerabilityId: string;
  /** Every other id of the same problem (DSA/DLA/USN/GHSA/ALSA...), sorted, without vulnerabilityId. */
  aliases: string[];
  /** The OSV records merged into this match, sorted. */
  records: string[];
  summary: string;
  details: string;
  severity: Severity;
  /** What set `severity`: "debian", "ubuntu", "cvss:3.1", "cvss:4.0", "ghsa", "none" — see SEVERITY_POLICY. */
  severitySource: string;
  cvss: CvssScore[];
  vendorRatings: VendorRating[];
  fixState: FixState;
  /** The lowest fixed version above the installed one, in the ecosystem's order; absent when no fix. */
  fixedVersion?: string;
  /** When the fix was published: the publishing date of the record that carries the fix. */
  fixPublished?: Date;
  published?: Date;
  modified?: Date;
  /** The range that matched, in the record's own terms: ">= 0, < 1.1.1f-1ubuntu2.12" or "versions list". */
  matchedRange: string;
  /** `source` when matched on the OS package's source package rather than its own name. */
  matchType: 'direct' | 'source';
  references: string[];
  /** CISA KEV entry, when the catalog was given. */
  knownExploited?: { dateAdded: string; dueDate?: string; ransomware?: boolean };
  /** EPSS, when a CSV was given. */
  epss?: { score: number; percentile: number; date?: string };
}
