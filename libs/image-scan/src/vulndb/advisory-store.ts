// The port between matching and wherever OSV records are kept (Postgres through libs/store in the services, memory
// in tests and for a directory given on the command line). Records cross it as the parsed OSV JSON; the matcher
// validates them, so a store need not understand OSV beyond the keys it indexes.

export interface AdvisoryKey {
  /** The OSV ecosystem exactly as records write it: "Debian:12", "Alpine:v3.19", "npm", "Ubuntu:Pro:18.04:LTS". */
  ecosystem: string;
  /** The package name as records write it (source package for Debian/Ubuntu, apk origin, PEP 503 name for PyPI). */
  name: string;
}

/** A package asked for with its version's canonical key (versions/version-key.ts), where its scheme has one. */
export interface AdvisoryVersionKey extends AdvisoryKey {
  versionKey?: string;
}

/**
 * What a store that tests versions lists itself puts on an entry in place of its `versions` list: the list's
 * length and which of the asked version keys (of the entry's package) it holds. libs/store writes it under the
 * same name (STORED_VERSIONS_FIELD there); the colon keeps it apart from OSV's own fields.
 */
export const STORED_VERSIONS_FIELD = 'vigil:versions';

export interface StoredVersions {
  count: number;
  found: string[];
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
   * As lookup, for a store that keeps versions lists apart (Postgres): entries whose list it keyed come without
   * it and with STORED_VERSIONS_FIELD instead, so a large list never reaches the matcher. Entries it did not key
   * come whole. A store without it is looked up with lookup.
   */
  lookupVersions?(keys: readonly AdvisoryVersionKey[]): Promise<unknown[]>;
  info(): Promise<AdvisoryDbInfo>;
}
