/** One accepted risk from an ignore file, validated. Scope lists match when any of their values matches. */
export interface IgnoreRule {
  /** Finding id, rule id (CVE, GHSA, check id) or alias; compared case-insensitively. */
  readonly id: string;
  readonly reason: string;
  readonly owner?: string;
  /** The `expires` value as written. */
  readonly expires?: string;
  /** The instant from which the rule no longer applies (a date alone means 00:00 UTC that day). */
  readonly expiresAt?: Date;
  readonly cluster?: readonly string[];
  readonly namespace?: readonly string[];
  /** Workload name, or `Kind/name`. */
  readonly workload?: readonly string[];
  /** Image reference (any tag when none is given) or digest. */
  readonly image?: readonly string[];
  /** Package name or purl (any version when the purl has none). */
  readonly package?: readonly string[];
  /** Glob over the finding's locations: `*` within a path segment, `**` across segments, `?` one character. */
  readonly path?: readonly string[];
  /** Where the rule was written, for messages and for the accepted-risk events reporting derives from it. */
  readonly origin: { readonly file: string; readonly index: number; readonly line?: number };
}

export interface IgnoreFile {
  readonly file: string;
  readonly rules: readonly IgnoreRule[];
}
