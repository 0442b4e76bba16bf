// Which completed scan made each snapshot version, so a listing can say why a version exists.
// Append-only: once committed this file is never edited; later changes are new migrations.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SnapshotScanId1764763200000 implements MigrationInterface {
  name = 'SnapshotScanId1764763200000';

  async up(q: QueryRunner): Promise<void> {
    // '' for snapshots made before this column existed, and for versions no scan triggered (on request, schedule).
    await q.query(`ALTER TABLE snapshots ADD COLUMN scan_id text NOT NULL DEFAULT ''`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE snapshots DROP COLUMN scan_id`);
  }
}
