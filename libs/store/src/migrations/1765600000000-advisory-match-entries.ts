// Two-step matching. A cold look-up moved and validated whole records for every candidate, though most
// candidates do not hit and a hit needs its references and details only once it is known to hit. Each
// (record, key) row now carries the entries as far as deciding a hit needs them (`match_entries`, json: stored
// and sent as text, no jsonb conversion), and the full record is read for the hits alone.
//
// The records and the per-key entries become json too: a look-up sends them as stored instead of converting
// jsonb to text on the server (measured: ~30-40% of the server's time for a record), and nothing queries inside
// them in SQL. Importers hand them over as JSON text, stored as written.
//
// This supersedes the version keys (versions lists tested in SQL, 1765100000000): they saved ~5% of what a
// look-up moved and made imports 20-30% slower; their table and column go.
//
// Existing rows get `match_entries` by the importer's rule (libs/image-scan advisoryRow): each entry without
// package (the key names it), severity, ecosystem_specific and database_specific. Rows of records imported whole
// (no entries per key) get the record's own entries for the key, unreduced, as the store writes them.
// Append-only: once committed this file is never edited; later changes are new migrations.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AdvisoryMatchEntries1765600000000 implements MigrationInterface {
  name = 'AdvisoryMatchEntries1765600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE advisory_packages ADD COLUMN match_entries json`);
    await q.query(`
      UPDATE advisory_packages p
         SET match_entries = COALESCE(
               (SELECT json_agg(e - 'package' - 'severity' - 'ecosystem_specific' - 'database_specific' ORDER BY i)
                  FROM jsonb_array_elements(p.entries) WITH ORDINALITY AS x(e, i)),
               '[]')
       WHERE p.entries IS NOT NULL`);
    await q.query(`
      UPDATE advisory_packages p
         SET match_entries = COALESCE(
               (SELECT json_agg(e ORDER BY i)
                  FROM advisories a, jsonb_array_elements(a.record->'affected') WITH ORDINALITY AS x(e, i)
                 WHERE a.id = p.advisory_id
                   AND e->'package'->>'ecosystem' = p.ecosystem AND e->'package'->>'name' = p.name),
               '[]')
       WHERE p.entries IS NULL`);
    await q.query(`ALTER TABLE advisory_packages ALTER COLUMN match_entries SET NOT NULL`);
    await q.query(`ALTER TABLE advisory_packages ALTER COLUMN entries TYPE json USING entries::json`);
    await q.query(`ALTER TABLE advisories ALTER COLUMN record TYPE json USING record::json`);
    await q.query(`DROP TABLE advisory_versions`);
    await q.query(`ALTER TABLE advisory_packages DROP COLUMN lookup_entries`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE advisories ALTER COLUMN record TYPE jsonb USING record::jsonb`);
    await q.query(`ALTER TABLE advisory_packages ALTER COLUMN entries TYPE jsonb USING entries::jsonb`);
    // As 1765100000000 left a database before any import keyed a list: rows without keys are looked up whole.
    await q.query(`ALTER TABLE advisory_packages ADD COLUMN lookup_entries jsonb`);
    await q.query(`
      CREATE TABLE advisory_versions (
        ecosystem     text NOT NULL,
        name          text NOT NULL,
        advisory_id   text NOT NULL,
        entry_index   integer NOT NULL CHECK (entry_index >= 0),
        version_keys  text[] NOT NULL,
        PRIMARY KEY (ecosystem, name, advisory_id, entry_index)
      )`);
    await q.query(`CREATE INDEX advisory_versions_advisory_idx ON advisory_versions (advisory_id)`);
    await q.query(`ALTER TABLE advisory_packages DROP COLUMN match_entries`);
  }
}
