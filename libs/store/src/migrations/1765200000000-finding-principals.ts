// The findings API filters by principal requirement ("6": every id under it). No array operator says "an element
// starts with 6.", so that filter evaluated a subquery over pci_requirements on every row of the scope (seconds
// at 200,000 findings, for the page and again for its count). The principals a finding maps to become a column,
// computed by the database from pci_requirements whatever writes the row, and a GIN index serves "@> {6}" as the
// existing one serves "@> {6.3.1}".
// Append-only: once committed this file is never edited; later changes are new migrations.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class FindingPrincipals1765200000000 implements MigrationInterface {
  name = 'FindingPrincipals1765200000000';

  async up(q: QueryRunner): Promise<void> {
    // "6.3.1" → "6", "A1.1.1" → "A1", "6" → "6": what the API's principalOf does, deduplicated and sorted.
    await q.query(`
      CREATE FUNCTION vigil_pci_principals(ids text[]) RETURNS text[]
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS $$ SELECT COALESCE(array_agg(DISTINCT split_part(r, '.', 1) ORDER BY split_part(r, '.', 1)), '{}')
                FROM unnest(ids) AS r $$`);
    await q.query(`
      ALTER TABLE findings ADD COLUMN pci_principals text[]
        GENERATED ALWAYS AS (vigil_pci_principals(pci_requirements)) STORED`);
    await q.query(`CREATE INDEX findings_principals ON findings USING gin (pci_principals)`);
    // Until the new column has statistics the planner takes "@> {6}" for a rare match and sorts every finding of
    // the scope for a page the priority index would give in its first rows (0.2 ms against 540 ms at 100,000).
    await q.query(`ANALYZE findings`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS findings_principals`);
    await q.query(`ALTER TABLE findings DROP COLUMN IF EXISTS pci_principals`);
    await q.query(`DROP FUNCTION IF EXISTS vigil_pci_principals(text[])`);
  }
}
