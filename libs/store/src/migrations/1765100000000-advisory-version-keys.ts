// Versions lists tested in SQL. OSV entries of PyPI, npm, Debian... enumerate every affected release, and moving
// those lists to the matcher was most of a cold look-up. An importer that can key versions canonically (two
// versions compare equal in their scheme exactly when their keys are equal) hands each entry's list over as keys:
// they land here, one row per entry, and the look-up reads the entry without its list (`lookup_entries`) plus
// which of the asked keys the list holds.
//
// Existing data: the keys are computed by the scanner's version schemes, which SQL cannot run, so this migration
// cannot fill the table. Rows imported before it keep `lookup_entries` NULL and are looked up whole (their lists
// scanned by the matcher, as before: same results, the old speed); importing the same source again fills them,
// even where no record changed.
// Append-only: once committed this file is never edited; later changes are new migrations.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AdvisoryVersionKeys1765100000000 implements MigrationInterface {
  name = 'AdvisoryVersionKeys1765100000000';

  async up(q: QueryRunner): Promise<void> {
    // The entries as a versions look-up sends them: each list given as keys replaced by its length. NULL: the
    // entries are sent as they are.
    await q.query(`ALTER TABLE advisory_packages ADD COLUMN lookup_entries jsonb`);
    // One row per entry (its index in advisory_packages.entries) whose list was keyed. The primary key's leading
    // (ecosystem, name) is the index a look-up uses: candidates are found by package, then each row's keys are
    // tested against the asked ones in the server, so an array per entry serves as well as a row per version and
    // keeps an import of a million listed versions to a hundred thousand rows.
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
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE advisory_versions`);
    await q.query(`ALTER TABLE advisory_packages DROP COLUMN lookup_entries`);
  }
}
