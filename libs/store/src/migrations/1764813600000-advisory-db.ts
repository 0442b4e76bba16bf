// The image scanner's vulnerability database: OSV records as imported (jsonb), indexed by the (ecosystem, package)
// pairs their affected[] entries name, and per-source bookkeeping for `vigil db status` and the DB build.
// Append-only: once committed this file is never edited; later changes are new migrations.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AdvisoryDb1764813600000 implements MigrationInterface {
  name = 'AdvisoryDb1764813600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE advisory_sources (
        name             text PRIMARY KEY CHECK (name <> ''),
        imported_at      timestamptz NOT NULL,
        records          integer NOT NULL DEFAULT 0 CHECK (records >= 0),
        invalid_records  integer NOT NULL DEFAULT 0 CHECK (invalid_records >= 0),
        newest_record    timestamptz
      )`);
    // One row per record id, whichever source brought its newest copy. An importer may store a record split:
    // `record` without the affected[] entries it files under their (ecosystem, name) in advisory_packages.entries,
    // so a look-up sends only the entries of the packages asked for (real records carry one entry, often with a
    // long versions list, for every release they cover).
    await q.query(`
      CREATE TABLE advisories (
        id         text PRIMARY KEY CHECK (id <> ''),
        source     text NOT NULL,
        modified   timestamptz NOT NULL,
        withdrawn  timestamptz,
        record     jsonb NOT NULL
      )`);
    await q.query(`CREATE INDEX advisories_source_idx ON advisories (source)`);
    // The primary key's leading (ecosystem, name) is the look-up index matching uses.
    await q.query(`
      CREATE TABLE advisory_packages (
        ecosystem    text NOT NULL,
        name         text NOT NULL,
        advisory_id  text NOT NULL,
        entries      jsonb,
        PRIMARY KEY (ecosystem, name, advisory_id)
      )`);
    await q.query(`CREATE INDEX advisory_packages_advisory_idx ON advisory_packages (advisory_id)`);
    // A single row: the generation counts imports that changed something, so the DB build changes with the data.
    await q.query(`
      CREATE TABLE advisory_db_state (
        id          smallint PRIMARY KEY CHECK (id = 1),
        generation  bigint NOT NULL CHECK (generation >= 0),
        updated_at  timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE advisory_db_state`);
    await q.query(`DROP TABLE advisory_packages`);
    await q.query(`DROP TABLE advisories`);
    await q.query(`DROP TABLE advisory_sources`);
  }
}
