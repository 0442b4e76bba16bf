// Feeding a dump into a persistent advisory store. The store (libs/store's Postgres one) only sees these rows:
// id, modified, withdrawn, the (ecosystem, name) keys, and the validated record as JSON.
import { readOsvDump, type DumpOptions, type DumpSummary } from './osv-dump.js';
import { recordKeys, type OsvRecord, type OsvRecordAffected } from './osv-record.js';

export interface AdvisoryRow {
  id: string;
  modified: string;
  withdrawn?: string;
  /** Each key with the record's affected[] entries for it, which `record` then leaves out. */
  keys: {
    ecosystem: string;
    name: string;
    entries: OsvRecord['affected'];
    /** The same entries as a candidate look-up sends them: matchEntry of each. */
    matchEntries: MatchEntry[];
  }[];
  /** The record without the entries filed under keys (it keeps those without a package, e.g. GIT-only ones). */
  record: Omit<OsvRecord, 'affected'> & { affected: OsvRecord['affected'] };
}

/** What a persistent store offers for imports (libs/store's createAdvisoryStore satisfies it). */
export interface AdvisoryImportTarget {
  importSource(
    source: string,
    batches: AsyncIterable<AdvisoryRow[]>,
    options?: { invalidRecords?: () => number },
  ): Promise<{ received: number; inserted: number; replaced: number; unchanged: number }>;
}

/**
 * A record as a persistent store keeps it: split, so that a look-up for one package gets the record with that
 * package's entries only, not every release's versions list.
 */
export function advisoryRow(record: OsvRecord): AdvisoryRow {
  return {
    id: record.id,
    modified: record.modified,
    ...(record.withdrawn ? { withdrawn: record.withdrawn } : {}),
    keys: recordKeys(record).map((k) => {
      const entries = record.affected.filter(
        (a) => a.package?.ecosystem === k.ecosystem && a.package.name === k.name,
      );
      return { ...k, entries, matchEntries: entries.map(matchEntry) };
    }),
    record: { ...record, affected: record.affected.filter((a) => !a.package) },
  };
}

/** An affected[] entry without what deciding a hit does not read (the package is the key it is filed under). */
export type MatchEntry = Omit<
  OsvRecordAffected,
  'package' | 'severity' | 'ecosystem_specific' | 'database_specific'
>;

/**
 * An entry as a candidate look-up sends it. The rule is a list of fields to drop, not to keep, so a field a later
 * matcher reads is not lost silently; libs/store's migration 1765600000000 applies the same rule in SQL.
 */
export function matchEntry(entry: OsvRecordAffected): MatchEntry {
  const {
    package: _package,
    severity: _severity,
    ecosystem_specific: _ecosystemSpecific,
    database_specific: _databaseSpecific,
    ...rest
  } = entry;
  return rest;
}

export interface DumpImportResult extends DumpSummary {
  source: string;
  inserted: number;
  replaced: number;
  unchanged: number;
}

/**
 * Imports one dump (zip, directory or record file) as one source. Invalid records are counted and named (the
 * first few) and the rest is loaded; an unreadable archive fails the whole import and the store keeps its data.
 */
export async function importOsvDump(
  path: string,
  target: AdvisoryImportTarget,
  options: DumpOptions & { source?: string; batchSize?: number; examples?: number } = {},
): Promise<DumpImportResult> {
  const source = options.source ?? path;
  const batchSize = options.batchSize ?? 500;
  const examples = options.examples ?? 5;
  const summary: DumpSummary = { records: 0, invalid: 0, invalidExamples: [] };
  async function* batches(): AsyncGenerator<AdvisoryRow[]> {
    let batch: AdvisoryRow[] = [];
    for await (const e of readOsvDump(path, options)) {
      if ('error' in e) {
        summary.invalid++;
        if (summary.invalidExamples.length < examples) summary.invalidExamples.push(e.error);
        continue;
      }
      summary.records++;
      batch.push(advisoryRow(e.record));
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  }
  const r = await target.importSource(source, batches(), { invalidRecords: () => summary.invalid });
  return { ...summary, source, inserted: r.inserted, replaced: r.replaced, unchanged: r.unchanged };
}
