// Two costs of the reporting projection that grew with the size of a scope.
//
// Snapshot content by chunk. A snapshot's content is the canonical JSON of the whole scope (about 1.2 KB per
// finding, so hundreds of megabytes at 200,000 findings), and consecutive versions share almost all of it. New
// versions store their content as content-defined chunks, kept once each by SHA-256 in snapshot_chunks, and the
// snapshot row keeps the ordered list of chunk digests. The bytes a reader gets back, and so the content hash, are
// the same as before; rows written before this migration keep their content inline and are read as they are.
//
// Event counts per scope. The projection asks, every batch, whether another instance recorded events of a scope
// that its fold has not seen; count(*) over the scope's events made every batch cost the size of the scope. A
// trigger keeps the count per scope in the statement that inserts or deletes the events, whoever writes them.
// Append-only: once committed this file is never edited; later changes are new migrations.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SnapshotChunks1765400000000 implements MigrationInterface {
  name = 'SnapshotChunks1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE snapshot_chunks (
        digest   bytea PRIMARY KEY CHECK (octet_length(digest) = 32),
        content  bytea NOT NULL
      )`);
    // lz4 compresses several times faster than the default pglz, on servers built with it (a build without it
    // refuses the setting, and chunks are compressed with pglz as every other value).
    await q.query(`
      DO $$ BEGIN
        ALTER TABLE snapshot_chunks ALTER COLUMN content SET COMPRESSION lz4;
      EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN NULL;
      END $$`);
    // Chunks are parts of published snapshots: as immutable as the snapshots table itself.
    await q.query(`
      CREATE FUNCTION vigil_snapshot_chunks_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'snapshot chunks are immutable: % rejected', TG_OP USING ERRCODE = 'restrict_violation';
      END
      $$`);
    await q.query(`
      CREATE TRIGGER snapshot_chunks_immutable BEFORE UPDATE OR DELETE ON snapshot_chunks
        FOR EACH ROW EXECUTE FUNCTION vigil_snapshot_chunks_immutable()`);
    await q.query(`
      CREATE TRIGGER snapshot_chunks_no_truncate BEFORE TRUNCATE ON snapshot_chunks
        FOR EACH STATEMENT EXECUTE FUNCTION vigil_snapshot_chunks_immutable()`);
    // chunks: the concatenated 32-byte digests, in content order. size: the content's length, which
    // octet_length(content) gave while content was always inline.
    await q.query(`ALTER TABLE snapshots ALTER COLUMN content DROP NOT NULL`);
    await q.query(`ALTER TABLE snapshots ADD COLUMN chunks bytea`);
    await q.query(`ALTER TABLE snapshots ADD COLUMN size bigint`);
    await q.query(`
      ALTER TABLE snapshots ADD CONSTRAINT snapshots_content_or_chunks
        CHECK ((content IS NULL) <> (chunks IS NULL) AND (chunks IS NULL OR (size IS NOT NULL
               AND octet_length(chunks) > 0 AND octet_length(chunks) % 32 = 0)))`);

    await q.query(`
      CREATE TABLE scope_event_counts (
        scope   text PRIMARY KEY,
        events  bigint NOT NULL CHECK (events >= 0)
      )`);
    // Scopes in sorted order, so two transactions that record events of several scopes lock the count rows in
    // the same order and cannot deadlock on them.
    await q.query(`
      CREATE FUNCTION vigil_count_events() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO scope_event_counts AS c (scope, events)
            SELECT scope, count(*) FROM inserted GROUP BY scope ORDER BY scope
            ON CONFLICT (scope) DO UPDATE SET events = c.events + EXCLUDED.events;
        ELSE
          UPDATE scope_event_counts AS c SET events = c.events - d.n
            FROM (SELECT scope, count(*) AS n FROM deleted GROUP BY scope ORDER BY scope) d
           WHERE c.scope = d.scope;
        END IF;
        RETURN NULL;
      END
      $$`);
    await q.query(`
      CREATE TRIGGER events_count_inserted AFTER INSERT ON events REFERENCING NEW TABLE AS inserted
        FOR EACH STATEMENT EXECUTE FUNCTION vigil_count_events()`);
    await q.query(`
      CREATE TRIGGER events_count_deleted AFTER DELETE ON events REFERENCING OLD TABLE AS deleted
        FOR EACH STATEMENT EXECUTE FUNCTION vigil_count_events()`);
    await q.query(
      `INSERT INTO scope_event_counts (scope, events) SELECT scope, count(*) FROM events GROUP BY scope`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER events_count_deleted ON events`);
    await q.query(`DROP TRIGGER events_count_inserted ON events`);
    await q.query(`DROP FUNCTION vigil_count_events()`);
    await q.query(`DROP TABLE scope_event_counts`);
    // Chunked versions cannot go back to inline content without rewriting published snapshots, which the
    // snapshots table refuses: going down past this migration needs a database without chunked versions.
    await q.query(`ALTER TABLE snapshots DROP CONSTRAINT snapshots_content_or_chunks`);
    await q.query(`ALTER TABLE snapshots DROP COLUMN size`);
    await q.query(`ALTER TABLE snapshots DROP COLUMN chunks`);
    await q.query(`ALTER TABLE snapshots ALTER COLUMN content SET NOT NULL`);
    await q.query(`DROP TABLE snapshot_chunks`);
  }
}
