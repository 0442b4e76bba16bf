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
   * Per entry of `entries`, in order: the canonical keys of its `versions` list (two versions are the same
   * release exactly when their keys are equal), or null where the entry keeps its list. A keyed list is left out
   * of what lookupVersions sends: it answers which asked keys the list holds instead.
   */
  versionKeys?: (readonly string[] | null)[];
}

/** A package asked for with the canonical key of its version (absent: only unkeyed entries can match by list). */
export interface AdvisoryVersionKeyRow extends AdvisoryKeyRow {
  versionKey?: string;
}

/**
 * The field lookupVersions puts on an entry in place of its keyed versions list: how long the list is and which
 * of the keys asked for its (ecosystem, name) it holds. A colon keeps it apart from OSV's own field names.
 */
export const STORED_VERSIONS_FIELD = 'vigil:versions';

export interface StoredVersions {
  count: number;
  found: string[];
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
   * As lookup, but entries imported with version keys come without their `versions` list and with
   * STORED_VERSIONS_FIELD saying whether it holds the asked keys (tested in SQL: the lists never leave the
   * server). Entries imported without keys, and rows imported before version keys existed, come whole.
   */
  lookupVersions(keys: readonly AdvisoryVersionKeyRow[]): Promise<unknown[]>;
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
  lookupVersions(keys: readonly AdvisoryVersionKeyRow[]): Promise<unknown[]> {
    return this.impl.lookupVersions(keys);
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
    async lookup(keys) {
      if (!keys.length) return [];
      const r = await sql.query<{ record: Record<string, unknown>; entries: (unknown[] | null)[] }>(
        `SELECT a.record, h.entries
           FROM (SELECT p.advisory_id, jsonb_agg(p.entries) AS entries
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
    },

    async lookupVersions(keys) {
      if (!keys.length) return [];
      // Per asked package its version keys; per stored row the entries (keyed lists left out) and, in the same
      // aggregate order, which asked keys each keyed list holds. The lists stay in the server: an index probe by
      // row, then an overlap test on arrays.
      const r = await sql.query<{
        record: Record<string, unknown>;
        filed: (unknown[] | null)[];
        found: (Record<string, string[]> | null)[];
      }>(
        `WITH k AS (SELECT ecosystem, name, array_agg(version_key) FILTER (WHERE version_key IS NOT NULL) AS version_keys
                      FROM unnest($1::text[], $2::text[], $3::text[]) AS q(ecosystem, name, version_key)
                     GROUP BY ecosystem, name)
         SELECT a.record, h.filed, h.found
           FROM (SELECT p.advisory_id,
                        jsonb_agg(COALESCE(p.lookup_entries, p.entries)) AS filed,
                        jsonb_agg(CASE WHEN p.lookup_entries IS NOT NULL AND k.version_keys IS NOT NULL THEN
                          (SELECT jsonb_object_agg(v.entry_index::text,
                                    ARRAY(SELECT DISTINCT x FROM unnest(k.version_keys) AS x WHERE x = ANY (v.version_keys)))
                             FROM advisory_versions v
                            WHERE v.ecosystem = p.ecosystem AND v.name = p.name AND v.advisory_id = p.advisory_id
                              AND v.version_keys && k.version_keys)
                        END) AS found
                   FROM advisory_packages p
                   JOIN k ON p.ecosystem = k.ecosystem AND p.name = k.name
                  GROUP BY p.advisory_id) h
           JOIN advisories a ON a.id = h.advisory_id`,
        [keys.map((k) => k.ecosystem), keys.map((k) => k.name), keys.map((k) => k.versionKey ?? null)],
      );
      return r.rows.map(({ record, filed, found }) => {
        const added: unknown[] = [];
        filed.forEach((entries, row) => {
          if (!entries) return;
          entries.forEach((e, i) => {
            const stored = (e as Record<string, unknown> | null)?.[STORED_VERSIONS_FIELD] as
              StoredVersions | undefined;
            if (stored) stored.found = found[row]?.[String(i)] ?? [];
            added.push(e);
          });
        });
        if (!added.length) return record;
        const own = Array.isArray(record['affected']) ? (record['affected'] as unknown[]) : [];
        return { ...record, affected: [...own, ...added] };
      });
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
  const payload = JSON.stringify(
    rows.map((r) => ({ id: r.id, modified: r.modified, withdrawn: r.withdrawn ?? null, record: r.record })),
  );
  const up = await tx.query<{ id: string; inserted: boolean }>(
    `INSERT INTO advisories (id, source, modified, withdrawn, record)
       SELECT t.id, $2, t.modified, t.withdrawn, t.record
         FROM jsonb_to_recordset($1::jsonb) AS t(id text, modified timestamptz, withdrawn timestamptz, record jsonb)
     ON CONFLICT (id) DO UPDATE
       SET source = EXCLUDED.source, modified = EXCLUDED.modified, withdrawn = EXCLUDED.withdrawn, record = EXCLUDED.record
       WHERE advisories.modified < EXCLUDED.modified
     RETURNING id, (xmax = 0) AS inserted`,
    [payload, source],
  );
  const written = new Set(up.rows.map((r) => r.id));
  const replaced = up.rows.filter((r) => !r.inserted).map((r) => r.id);
  result.inserted += up.rows.length - replaced.length;
  result.replaced += replaced.length;
  result.unchanged += rows.length - up.rows.length;
  if (replaced.length) {
    await tx.query(`DELETE FROM advisory_packages WHERE advisory_id = ANY($1::text[])`, [replaced]);
    await tx.query(`DELETE FROM advisory_versions WHERE advisory_id = ANY($1::text[])`, [replaced]);
  }
  const keyRows: KeyRow[] = [];
  const versionRows: VersionRow[] = [];
  // Records already stored unchanged, whose keyed lists may predate version keys (imported before the migration
  // that added them): their rows get the keys now, so importing a source again brings it up to date.
  const upgradeRows: (KeyRow & { modified: string })[] = [];
  const upgradeVersions: VersionRow[] = [];
  for (const r of rows) {
    const fresh = written.has(r.id);
    for (const k of r.keys) {
      const split = splitVersions(r.id, k);
      const row = { ecosystem: k.ecosystem, name: k.name, advisory_id: r.id, entries: k.entries ?? null };
      if (fresh) {
        keyRows.push({ ...row, lookup_entries: split?.lookupEntries ?? null });
        if (split) versionRows.push(...split.versions);
      } else if (split) {
        upgradeRows.push({ ...row, lookup_entries: split.lookupEntries, modified: r.modified });
        upgradeVersions.push(...split.versions);
      }
    }
  }
  if (keyRows.length)
    await tx.query(
      `INSERT INTO advisory_packages (ecosystem, name, advisory_id, entries, lookup_entries)
         SELECT t.ecosystem, t.name, t.advisory_id, t.entries, t.lookup_entries
           FROM jsonb_to_recordset($1::jsonb)
                AS t(ecosystem text, name text, advisory_id text, entries jsonb, lookup_entries jsonb)
       ON CONFLICT DO NOTHING`,
      [JSON.stringify(keyRows)],
    );
  if (upgradeRows.length) {
    // Only rows without keys yet, of the very copy stored (same modified): their entries are these entries.
    const up = await tx.query<{ ecosystem: string; name: string; advisory_id: string }>(
      `UPDATE advisory_packages p SET lookup_entries = t.lookup_entries
         FROM jsonb_to_recordset($1::jsonb)
              AS t(ecosystem text, name text, advisory_id text, modified timestamptz, lookup_entries jsonb),
              advisories a
        WHERE p.ecosystem = t.ecosystem AND p.name = t.name AND p.advisory_id = t.advisory_id
          AND p.lookup_entries IS NULL AND a.id = t.advisory_id AND a.modified = t.modified
       RETURNING p.ecosystem, p.name, p.advisory_id`,
      [JSON.stringify(upgradeRows.map(({ entries: _entries, ...rest }) => rest))],
    );
    const upgraded = new Set(up.rows.map((u) => `${u.ecosystem}\u0000${u.name}\u0000${u.advisory_id}`));
    for (const v of upgradeVersions)
      if (upgraded.has(`${v.ecosystem}\u0000${v.name}\u0000${v.advisory_id}`)) versionRows.push(v);
  }
  if (versionRows.length)
    await tx.query(
      `INSERT INTO advisory_versions (ecosystem, name, advisory_id, entry_index, version_keys)
         SELECT t.ecosystem, t.name, t.advisory_id, t.entry_index, t.version_keys
           FROM jsonb_to_recordset($1::jsonb)
                AS t(ecosystem text, name text, advisory_id text, entry_index integer, version_keys text[])
       ON CONFLICT DO NOTHING`,
      [JSON.stringify(versionRows)],
    );
}

interface KeyRow {
  ecosystem: string;
  name: string;
  advisory_id: string;
  entries: unknown[] | null;
  lookup_entries: unknown[] | null;
}

interface VersionRow {
  ecosystem: string;
  name: string;
  advisory_id: string;
  entry_index: number;
  version_keys: readonly string[];
}

/**
 * A key's entries as lookupVersions sends them (each keyed list replaced by its length) and the keys to store;
 * undefined when no entry's list is keyed. Keys that do not line up with the entries are refused: a list matched
 * against the wrong entry's keys would report the wrong releases.
 */
function splitVersions(
  id: string,
  key: AdvisoryImportKey,
): { lookupEntries: unknown[]; versions: VersionRow[] } | undefined {
  const { versionKeys } = key;
  if (!versionKeys?.some((k) => k)) return undefined;
  const where = `importSource: record ${JSON.stringify(id)}, package ${key.ecosystem}/${key.name}`;
  const entries = key.entries ?? [];
  if (versionKeys.length !== entries.length)
    throw new Error(`${where}: ${versionKeys.length} versionKeys lists for ${entries.length} entries`);
  const versions: VersionRow[] = [];
  const lookupEntries = entries.map((entry, i) => {
    const keys = versionKeys[i];
    if (!keys) return entry;
    if (!entry || typeof entry !== 'object' || Array.isArray(entry))
      throw new Error(`${where}: entry ${i} has version keys but is not a JSON object`);
    const listed = (entry as Record<string, unknown>)['versions'];
    if (!Array.isArray(listed) || listed.length !== keys.length)
      throw new Error(
        `${where}: entry ${i} has ${keys.length} version keys for ${Array.isArray(listed) ? listed.length : 'no'} listed versions`,
      );
    if (!keys.every((k) => typeof k === 'string'))
      throw new Error(`${where}: entry ${i} has a version key that is not a string`);
    versions.push({
      ecosystem: key.ecosystem,
      name: key.name,
      advisory_id: id,
      entry_index: i,
      version_keys: keys,
    });
    const { versions: _listed, ...rest } = entry as Record<string, unknown>;
    return { ...rest, [STORED_VERSIONS_FIELD]: { count: keys.length } };
  });
  return { lookupEntries, versions };
}
