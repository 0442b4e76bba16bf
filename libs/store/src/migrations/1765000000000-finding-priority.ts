// The findings API sorts and pages in SQL: the correlator's priority becomes a column (the projection fills it
// from the finding's "priority" evidence), the severity gets its sort rank, and one index serves the keyset order
// priority desc (unscored last), severity, finding id within a scope and status. Correlated findings keep the ids
// they join in a column, for the reverse lookup.
// Append-only: once committed this file is never edited; later changes are new migrations.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class FindingPriority1765000000000 implements MigrationInterface {
  name = 'FindingPriority1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE findings ADD COLUMN priority double precision`);
    // -1 is below every score (0-100), so unscored findings sort after scored ones in one descending key.
    await q.query(
      `ALTER TABLE findings ADD COLUMN priority_key double precision GENERATED ALWAYS AS (COALESCE(priority, -1)) STORED`,
    );
    await q.query(`
      ALTER TABLE findings ADD COLUMN severity_rank smallint GENERATED ALWAYS AS (
        CASE severity WHEN 'CRITICAL' THEN 0 WHEN 'HIGH' THEN 1 WHEN 'MEDIUM' THEN 2 WHEN 'LOW' THEN 3 ELSE 4 END
      ) STORED`);
    await q.query(
      `CREATE INDEX findings_priority_order ON findings (scope, status, priority_key DESC, severity_rank, finding_id)`,
    );
    await q.query(`CREATE INDEX findings_requirements ON findings USING gin (pci_requirements)`);
    // A correlated finding's relatedFindingIds, so "which correlated findings reference this one" is an index scan.
    await q.query(`ALTER TABLE findings ADD COLUMN related_finding_ids text[] NOT NULL DEFAULT '{}'`);
    await q.query(`CREATE INDEX findings_related ON findings USING gin (related_finding_ids)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS findings_related`);
    await q.query(`ALTER TABLE findings DROP COLUMN IF EXISTS related_finding_ids`);
    await q.query(`DROP INDEX IF EXISTS findings_requirements`);
    await q.query(`DROP INDEX IF EXISTS findings_priority_order`);
    await q.query(`ALTER TABLE findings DROP COLUMN IF EXISTS severity_rank`);
    await q.query(`ALTER TABLE findings DROP COLUMN IF EXISTS priority_key`);
    await q.query(`ALTER TABLE findings DROP COLUMN IF EXISTS priority`);
  }
}
