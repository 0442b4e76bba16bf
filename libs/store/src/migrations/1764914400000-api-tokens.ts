// Bearer tokens of the reporting API: only a hash of each token is kept, so a copy of the database grants nothing.
// Append-only: once committed this file is never edited; later changes are new migrations.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ApiTokens1764914400000 implements MigrationInterface {
  name = 'ApiTokens1764914400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_tokens (
        id           text PRIMARY KEY CHECK (id ~ '^tok_[0-9a-f]{16}$'),
        token_hash   text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
        role         text NOT NULL CHECK (role IN ('viewer', 'auditor', 'admin')),
        clusters     text[] NOT NULL CHECK (cardinality(clusters) > 0),
        description  text NOT NULL DEFAULT '',
        created_at   timestamptz NOT NULL DEFAULT now(),
        revoked_at   timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS api_tokens`);
  }
}
