// The port between matching and wherever OSV records are kept (Postgres through libs/store in the services, memory
// in tests and for a directory given on the command line). Records cross it as the parsed OSV JSON; the matcher
// validates them, so a store need not understand OSV beyond the keys it indexes.

export interface AdvisoryKey {
  /** The OSV ecosystem exactly as records write it: "Debian:12", "Alpine:v3.19", "npm", "Ubuntu:Pro:18.04:LTS". */
  ecosystem: string;
  /** The package name as records write it (source package for Debian/Ubuntu, apk origin, PEP 503 name for PyPI). */
  name: string;
}

/**
 * One (record, key) pair a two-step look-up found: the record's id and its affected[] entries for the key as far
 * as deciding a hit needs them (ranges and versions; the package is the key's, and the store may leave out
 * severities and ecosystem-specific data). The matcher validates them.
 */
export interface AdvisoryCandidate extends AdvisoryKey {
  id: string;
  entries: unknown[];
}

export interface AdvisorySourceInfo {
  /** Where the records came from: a file name, a URL, "osv:Debian". */
  name: string;
  records: number;
  importedAt: Date;
  /** The newest `modified` among its records. */
  newestRecord?: Date;
}

export interface AdvisoryDbInfo {
  /** Changes whenever the set of records changes; a digest already scanned against the same build is skipped. */
  build: string;
  records: number;
  sources: AdvisorySourceInfo[];
  /** When the last import or update finished; reports carry the DB's age from it. */
  updatedAt?: Date;
}

export interface AdvisoryStore {
  /** Every record with an affected[] entry for one of the keys (withdrawn ones included: the matcher drops them). */
  lookup(keys: readonly AdvisoryKey[]): Promise<unknown[]>;
  /**
   * A two-step look-up, for a store where moving whole records costs (Postgres): first every candidate's entries
   * for the keys (withdrawn records included), then lookupRecords for the candidates that hit, so references,
   * details and the like move for hits only. A store has both or neither; without them the matcher uses lookup.
   */
  lookupCandidates?(keys: readonly AdvisoryKey[]): Promise<AdvisoryCandidate[]>;
  /** As lookup, for the records with these ids only. */
  lookupRecords?(ids: readonly string[], keys: readonly AdvisoryKey[]): Promise<unknown[]>;
  info(): Promise<AdvisoryDbInfo>;
}
