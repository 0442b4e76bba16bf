// The first schema: the content-addressed blob table and the reporting side (event store, projections, snapshots).
// Append-only: once committed this file is never edited; later changes are new migrations.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ReportingStore1764752400000 implements MigrationInterface {
  name = 'ReportingStore1764752400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE blobs (
        digest      text PRIMARY KEY CHECK (digest ~ '^sha256:[0-9a-f]{64}$'),
        media_type  text NOT NULL CHECK (media_type <> ''),
        size        bigint NOT NULL CHECK (size >= 0),
        content     bytea NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);

    // The reporting event store: every event once (event_id), with where it sat in the log.
    await q.query(`
      CREATE TABLE events (
        event_id     text PRIMARY KEY,
        event_type   text NOT NULL,
        topic        text NOT NULL,
        partition    integer NOT NULL CHECK (partition >= 0),
        log_offset   bigint NOT NULL CHECK (log_offset >= 0),
        scope        text NOT NULL,
        subject_key  text NOT NULL,
        occurred_at  timestamptz NOT NULL,
        recorded_at  timestamptz NOT NULL DEFAULT now(),
        payload      bytea NOT NULL,
        CONSTRAINT events_log_position_key UNIQUE (topic, partition, log_offset)
      )`);
    // Evidence windows read a scope's events up to a log position.
    await q.query(`CREATE INDEX events_scope_position_idx ON events (scope, topic, partition, log_offset)`);

    await q.query(`
      CREATE TABLE scans (
        scan_id       text PRIMARY KEY,
        scanner       text NOT NULL,
        scope         text NOT NULL,
        target_key    text NOT NULL,
        status        text NOT NULL CHECK (status IN ('requested', 'started', 'completed', 'failed')),
        requested_at  timestamptz,
        completed_at  timestamptz,
        finding_ids   text[],
        payload       bytea
      )`);
    await q.query(`CREATE INDEX scans_target_idx ON scans (scope, scanner, target_key, completed_at)`);

    await q.query(`
      CREATE TABLE findings (
        scope             text NOT NULL,
        finding_id        text NOT NULL,
        source            text NOT NULL,
        rule_id           text NOT NULL,
        severity          text NOT NULL CHECK (severity IN ('CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN')),
        scanner           text NOT NULL,
        target_key        text NOT NULL,
        last_scan_id      text,
        asset_key         text NOT NULL,
        pci_requirements  text[] NOT NULL DEFAULT '{}',
        status            text NOT NULL CHECK (status IN ('open', 'resolved')),
        first_seen        timestamptz NOT NULL,
        last_seen         timestamptz NOT NULL,
        resolved_at       timestamptz,
        resolved_by_scan  text,
        payload           bytea NOT NULL,
        PRIMARY KEY (scope, finding_id),
        CHECK ((status = 'resolved') = (resolved_at IS NOT NULL))
      )`);
    // "Which findings of this scanner and target are still open" is asked on every completed scan.
    await q.query(`CREATE INDEX findings_target_idx ON findings (scope, scanner, target_key, status)`);
    await q.query(`CREATE INDEX findings_asset_idx ON findings (scope, asset_key)`);

    await q.query(`
      CREATE TABLE assets (
        scope       text NOT NULL,
        kind        text NOT NULL,
        key         text NOT NULL,
        payload     bytea NOT NULL,
        updated_at  timestamptz NOT NULL,
        PRIMARY KEY (scope, kind, key)
      )`);

    await q.query(`
      CREATE TABLE exceptions (
        id          text PRIMARY KEY,
        scope       text NOT NULL,
        payload     bytea NOT NULL,
        expires_at  timestamptz NOT NULL,
        revoked_at  timestamptz,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX exceptions_scope_idx ON exceptions (scope, expires_at)`);

    await q.query(`
      CREATE TABLE snapshots (
        scope              text NOT NULL,
        version            integer NOT NULL CHECK (version >= 1),
        framework_version  text NOT NULL,
        content_hash       text NOT NULL,
        previous_hash      text,
        log_position       jsonb NOT NULL,
        content            bytea NOT NULL,
        created_at         timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (scope, version),
        CHECK ((version = 1) = (previous_hash IS NULL))
      )`);
    // Published snapshots are evidence: the database itself refuses to change or remove one.
    await q.query(`
      CREATE FUNCTION vigil_snapshots_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'TRUNCATE' THEN
          RAISE EXCEPTION 'snapshots are immutable: TRUNCATE rejected' USING ERRCODE = 'restrict_violation';
        END IF;
        RAISE EXCEPTION 'snapshots are immutable: % of scope "%" version % rejected', TG_OP, OLD.scope, OLD.version
          USING ERRCODE = 'restrict_violation';
      END
      $$`);
    await q.query(`
      CREATE TRIGGER snapshots_immutable BEFORE UPDATE OR DELETE ON snapshots
        FOR EACH ROW EXECUTE FUNCTION vigil_snapshots_immutable()`);
    await q.query(`
      CREATE TRIGGER snapshots_no_truncate BEFORE TRUNCATE ON snapshots
        FOR EACH STATEMENT EXECUTE FUNCTION vigil_snapshots_immutable()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS snapshots, exceptions, assets, findings, scans, events, blobs`);
    await q.query(`DROP FUNCTION IF EXISTS vigil_snapshots_immutable()`);
  }
}
