// The vulnerability database in Postgres. It satisfies the image scanner's AdvisoryStore port structurally (this
// package does not import the engine): it keeps each record as the JSON it was given and indexes it under the
// (ecosystem, name) keys the importer computed, so it needs no knowledge of OSV beyond id, modified and withdrawn.
import { createHash } from 'node:crypto';
import type { Sql, SqlQueryable } from './sql.port.js';

export interface AdvisoryKeyRow {
  ecosystem: string;
  name: string;
}

export interface AdvisoryImportKey extends AdvisoryKeyRow {
  /**
   * The record's affected[] entries filed under this key and left out of `record`: a look-up puts back those of
   * the keys asked for. Absent: `record` holds them itself.
   */
  entries?: unknown[];
  /**
   * The same entries as lookupCandidates sends them: only what deciding a hit needs (the importer drops the rest,
   * e.g. package, severities and ecosystem-specific data). Absent: the entries themselves.
   */
  matchEntries?: unknown[];
}

/** One (record, key) pair a candidate look-up found: the key's entries as imported for deciding a hit. */
export interface AdvisoryCandidateRow extends AdvisoryKeyRow {
  id: string;
  entries: unknown[];
}

/** One record to import: its identity, the keys it is looked up by, and the record itself. */
export interface AdvisoryImportRow {
  id: string;
  /** RFC 3339; a copy replaces the stored one only when this is newer. */
  modified: string;
  withdrawn?: string;
  keys: AdvisoryImportKey[];
  /** A JSON object: the record, without the entries given per key. */
  record: Record<string, unknown>;
}

export interface AdvisoryImportOptions {
  /** Read once the batches are drained: how many records of the source were invalid and left out. */
  invalidRecords?: () => number;
  /** Default: the database's clock. */
  now?: Date;
}

export interface AdvisoryImportResult {
  source: string;
  received: number;
  inserted: number;
  replaced: number;
  /** Already stored with the same or a newer `modified`. */
  unchanged: number;
}

export interface AdvisorySourceRow {
  name: string;
  records: number;
  invalidRecords: number;
  importedAt: Date;
  newestRecord?: Date;
}

export interface AdvisoryDbInfoRow {
  build: string;
  records: number;
  sources: AdvisorySourceRow[];
  updatedAt?: Date;
}

export interface PgAdvisoryStore {
  /**
   * Every record with an affected[] entry for one of the keys (withdrawn ones included), as imported; entries
   * filed per key come back for the keys asked for only, appended to the record's own affected[].
   */
  lookup(keys: readonly AdvisoryKeyRow[]): Promise<unknown[]>;
  /**
   * The first step of a two-step look-up: per (record, key) with one of the keys, the record's id and the key's
   * matchEntries (small: no references, details or other keys' entries). Withdrawn records are included.
   */
  lookupCandidates(keys: readonly AdvisoryKeyRow[]): Promise<AdvisoryCandidateRow[]>;
  /** The second step: as lookup, for the records with these ids only (the candidates that hit). */
  lookupRecords(ids: readonly string[], keys: readonly AdvisoryKeyRow[]): Promise<unknown[]>;
  info(): Promise<AdvisoryDbInfoRow>;
  /**
   * Imports one source in ONE transaction: either every batch lands or, when a batch or the iterator fails,
   * nothing does and the previous data stays whole. Concurrent imports wait for each other.
   */
  importSource(
    source: string,
    batches: AsyncIterable<AdvisoryImportRow[]> | Iterable<AdvisoryImportRow[]>,
    options?: AdvisoryImportOptions,
  ): Promise<AdvisoryImportResult>;
}

// Serializes imports across processes (vigil up and a one-shot `vigil db import` on one deployment).
const IMPORT_LOCK_KEY = 0x76_64_62_31; // "vdb1"

/** The advisory tables' store over the Sql port (run runMigrations first). The caller owns and closes `sql`. */
export class PostgresAdvisoryStore implements PgAdvisoryStore {
  private readonly impl: PgAdvisoryStore;
  constructor(sql: Sql) {
    this.impl = pgAdvisoryStore(sql);
  }
  lookup(keys: readonly AdvisoryKeyRow[]): Promise<unknown[]> {
    return this.impl.lookup(keys);
  }
  lookupCandidates(keys: readonly AdvisoryKeyRow[]): Promise<AdvisoryCandidateRow[]> {
    return this.impl.lookupCandidates(keys);
  }
  lookupRecords(ids: readonly string[], keys: readonly AdvisoryKeyRow[]): Promise<unknown[]> {
    return this.impl.lookupRecords(ids, keys);
  }
  info(): Promise<AdvisoryDbInfoRow> {
    return this.impl.info();
  }
  importSource(
    source: string,
    batches: AsyncIterable<AdvisoryImportRow[]> | Iterable<AdvisoryImportRow[]>,
    options?: AdvisoryImportOptions,
  ): Promise<AdvisoryImportResult> {
    return this.impl.importSource(source, batches, options);
  }
}

export function createAdvisoryStore(sql: Sql): PgAdvisoryStore {
  return new PostgresAdvisoryStore(sql);
}

function pgAdvisoryStore(sql: Sql): PgAdvisoryStore {
  return {
    lookup(keys) {
      return lookupRecords(sql, keys);
    },

    async lookupCandidates(keys) {
      if (!keys.length) return [];
      // Flat rows, no aggregate and no join with the records: the index on (ecosystem, name) alone, and the
      // entries stored as json text, so the server sends them as written.
      const r = await sql.query<{
        ecosystem: string;
        name: string;
        advisory_id: string;
        match_entries: unknown[];
      }>(
        `SELECT p.ecosystem, p.name, p.advisory_id, p.match_entries
           FROM advisory_packages p
           JOIN unnest($1::text[], $2::text[]) AS k(ecosystem, name)
             ON p.ecosystem = k.ecosystem AND p.name = k.name`,
        [keys.map((k) => k.ecosystem), keys.map((k) => k.name)],
      );
      return r.rows.map((row) => ({
        id: row.advisory_id,
        ecosystem: row.ecosystem,
        name: row.name,
        entries: row.match_entries,
      }));
    },

    async lookupRecords(ids, keys) {
      if (!ids.length || !keys.length) return [];
      // Two flat queries side by side, joined here: aggregating the entries per record in SQL (as lookup does)
      // cost the server more than both queries together.
      const [records, filed] = await Promise.all([
        sql.query<{ id: string; record: Record<string, unknown> }>(
          `SELECT a.id, a.record FROM unnest($1::text[]) AS i(id) JOIN advisories a ON a.id = i.id`,
          [ids],
        ),
        sql.query<{ advisory_id: string; entries: unknown[] | null }>(
          `SELECT p.advisory_id, p.entries
             FROM unnest($3::text[]) AS i(id)
             JOIN advisory_packages p ON p.advisory_id = i.id
             JOIN unnest($1::text[], $2::text[]) AS k(ecosystem, name)
               ON p.ecosystem = k.ecosystem AND p.name = k.name`,
          [keys.map((k) => k.ecosystem), keys.map((k) => k.name), ids],
        ),
      ]);
      const byId = new Map<string, unknown[]>();
      for (const { advisory_id: id, entries } of filed.rows) {
        const list = byId.get(id);
        if (!list) byId.set(id, entries ? [...entries] : []);
        else if (entries) list.push(...entries);
      }
      const out: unknown[] = [];
      for (const { id, record } of records.rows) {
        const added = byId.get(id);
        // A record none of the asked keys names is not one lookup would give.
        if (!added) continue;
        if (!added.length) out.push(record);
        else {
          const own = Array.isArray(record['affected']) ? (record['affected'] as unknown[]) : [];
          out.push({ ...record, affected: [...own, ...added] });
        }
      }
      return out;
    },

    async info() {
      const [state, sources] = await Promise.all([
        sql.query<{ generation: string; updated_at: Date }>(
          `SELECT generation, updated_at FROM advisory_db_state WHERE id = 1`,
        ),
        sql.query<{
          name: string;
          records: number;
          invalid_records: number;
          imported_at: Date;
          newest_record: Date | null;
        }>(
          `SELECT name, records, invalid_records, imported_at, newest_record FROM advisory_sources ORDER BY name`,
        ),
      ]);
      const generation = state.rows[0]?.generation ?? '0';
      const rows: AdvisorySourceRow[] = sources.rows.map((s) => ({
        name: s.name,
        records: s.records,
        invalidRecords: s.invalid_records,
        importedAt: s.imported_at,
        ...(s.newest_record ? { newestRecord: s.newest_record } : {}),
      }));
      const h = createHash('sha256').update(`generation ${generation}\n`);
      for (const s of rows)
        h.update(`${s.name}\u0000${s.records}\u0000${s.newestRecord?.toISOString() ?? ''}\n`);
      return {
        build: `osv-${generation}-${h.digest('hex').slice(0, 12)}`,
        records: rows.reduce((n, s) => n + s.records, 0),
        sources: rows,
        ...(state.rows[0] ? { updatedAt: state.rows[0].updated_at } : {}),
      };
    },

    async importSource(source, batches, options = {}) {
      if (!source.trim()) throw new Error('importSource: the source name is empty');
      return sql.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [IMPORT_LOCK_KEY]);
        const now = options.now ?? (await tx.query<{ now: Date }>('SELECT now() AS now')).rows[0]!.now;
        await tx.query(
          `INSERT INTO advisory_sources (name, imported_at) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET imported_at = EXCLUDED.imported_at`,
          [source, now],
        );
        const result: AdvisoryImportResult = { source, received: 0, inserted: 0, replaced: 0, unchanged: 0 };
        for await (const batch of batches) await importBatch(tx, source, batch, result);
        await tx.query(`UPDATE advisory_sources SET invalid_records = $2 WHERE name = $1`, [
          source,
          options.invalidRecords?.() ?? 0,
        ]);
        // A newer copy may have moved a record from another source to this one: recount every source.
        await tx.query(
          `UPDATE advisory_sources s SET records = c.n, newest_record = c.newest
             FROM (SELECT s2.name, count(a.id)::int AS n, max(a.modified) AS newest
                     FROM advisory_sources s2 LEFT JOIN advisories a ON a.source = s2.name
                    GROUP BY s2.name) c
            WHERE c.name = s.name`,
        );
        const changed = result.inserted + result.replaced > 0 ? 1 : 0;
        await tx.query(
          `INSERT INTO advisory_db_state (id, generation, updated_at) VALUES (1, $1, $2)
             ON CONFLICT (id) DO UPDATE SET generation = advisory_db_state.generation + $1, updated_at = EXCLUDED.updated_at`,
          [changed, now],
        );
        return result;
      });
    },
  };
}

/** Records with an entry for one of the keys, each with the entries filed under the asked keys appended. */
async function lookupRecords(sql: SqlQueryable, keys: readonly AdvisoryKeyRow[]): Promise<unknown[]> {
  if (!keys.length) return [];
  const r = await sql.query<{ record: Record<string, unknown>; entries: (unknown[] | null)[] }>(
    `SELECT a.record, h.entries
       FROM (SELECT p.advisory_id, json_agg(p.entries) AS entries
               FROM advisory_packages p
               JOIN unnest($1::text[], $2::text[]) AS k(ecosystem, name)
                 ON p.ecosystem = k.ecosystem AND p.name = k.name
              GROUP BY p.advisory_id) h
       JOIN advisories a ON a.id = h.advisory_id`,
    [keys.map((k) => k.ecosystem), keys.map((k) => k.name)],
  );
  return r.rows.map(({ record, entries }) => {
    const filed = entries.flatMap((e) => e ?? []);
    if (!filed.length) return record;
    const own = Array.isArray(record['affected']) ? (record['affected'] as unknown[]) : [];
    return { ...record, affected: [...own, ...filed] };
  });
}

async function importBatch(
  tx: SqlQueryable,
  source: string,
  batch: AdvisoryImportRow[],
  result: AdvisoryImportResult,
): Promise<void> {
  if (!batch.length) return;
  result.received += batch.length;
  // Postgres refuses to upsert one id twice in a statement; keep the newest copy of each id in the batch.
  const byId = new Map<string, AdvisoryImportRow>();
  for (const row of batch) {
    const old = byId.get(row.id);
    if (!old || Date.parse(old.modified) < Date.parse(row.modified)) byId.set(row.id, row);
  }
  const rows = [...byId.values()];
  result.unchanged += batch.length - rows.length;
  // Column-wise, the records as JSON text: stored as written (json), the text a look-up then sends.
  const up = await tx.query<{ id: string; inserted: boolean }>(
    `INSERT INTO advisories (id, source, modified, withdrawn, record)
       SELECT t.id, $5, t.modified, t.withdrawn, t.record::json
         FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::text[]) AS t(id, modified, withdrawn, record)
     ON CONFLICT (id) DO UPDATE
       SET source = EXCLUDED.source, modified = EXCLUDED.modified, withdrawn = EXCLUDED.withdrawn, record = EXCLUDED.record
       WHERE advisories.modified < EXCLUDED.modified
     RETURNING id, (xmax = 0) AS inserted`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.modified),
      rows.map((r) => r.withdrawn ?? null),
      rows.map((r) => JSON.stringify(r.record)),
      source,
    ],
  );
  const written = new Set(up.rows.map((r) => r.id));
  const replaced = up.rows.filter((r) => !r.inserted).map((r) => r.id);
  result.inserted += up.rows.length - replaced.length;
  result.replaced += replaced.length;
  result.unchanged += rows.length - up.rows.length;
  if (replaced.length)
    await tx.query(`DELETE FROM advisory_packages WHERE advisory_id = ANY($1::text[])`, [replaced]);
  // Column-wise, the entries as JSON text, stored as written.
  const cols = {
    ecosystem: [] as string[],
    name: [] as string[],
    id: [] as string[],
    entries: [] as (string | null)[],
    match: [] as string[],
  };
  for (const r of rows) {
    if (!written.has(r.id)) continue;
    for (const k of r.keys) {
      cols.ecosystem.push(k.ecosystem);
      cols.name.push(k.name);
      cols.id.push(r.id);
      cols.entries.push(k.entries ? JSON.stringify(k.entries) : null);
      cols.match.push(JSON.stringify(k.matchEntries ?? k.entries ?? ownEntries(r.record, k)));
    }
  }
  if (cols.id.length)
    await tx.query(
      `INSERT INTO advisory_packages (ecosystem, name, advisory_id, entries, match_entries)
         SELECT t.ecosystem, t.name, t.advisory_id, t.entries::json, t.match_entries::json
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
                AS t(ecosystem, name, advisory_id, entries, match_entries)
       ON CONFLICT DO NOTHING`,
      [cols.ecosystem, cols.name, cols.id, cols.entries, cols.match],
    );
}

/** A record imported whole (no entries given per key): its affected[] entries that name the key's package. */
function ownEntries(record: Record<string, unknown>, key: AdvisoryKeyRow): unknown[] {
  const affected = record['affected'];
  if (!Array.isArray(affected)) return [];
  return affected.filter((a) => {
    const p = (a as { package?: { ecosystem?: unknown; name?: unknown } } | null)?.package;
    return p?.ecosystem === key.ecosystem && p?.name === key.name;
  });
}
