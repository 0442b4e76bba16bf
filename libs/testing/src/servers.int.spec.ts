// The test setup itself, on the real servers: whatever acquireServers picks here must answer.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pingDatabase } from '@vigil/store';
import { freshDatabase } from './fresh-database.js';
import { repoRoot } from './repo-paths.js';
import { acquireServers, tcpAnswers, type Servers } from './servers.js';

describe('acquireServers', () => {
  let servers: Servers;
  const lines: string[] = [];

  before(async () => {
    servers = await acquireServers({ log: (l) => lines.push(l) });
  });
  after(async () => {
    await servers?.stop();
  });

  it('logs one line per server naming the source it chose', () => {
    assert.equal(lines.filter((l) => l.startsWith('kafka: ') && / — /.test(l)).length, 1, lines.join('\n'));
    assert.equal(lines.filter((l) => l.startsWith('postgres: ')).length, 1, lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith(`kafka: ${servers.kafka.source} — `)));
    assert.ok(lines.some((l) => l.startsWith(`postgres: ${servers.postgres.source} — `)));
  });

  it('hands out a Kafka broker that answers', async () => {
    const [host, port] = servers.env.KAFKA_BROKERS.split(',')[0]!.split(':');
    assert.equal(
      await tcpAnswers(host!, Number(port), 2_000),
      true,
      `${servers.env.KAFKA_BROKERS} does not answer`,
    );
    if (servers.kafka.source === 'local') {
      // The local broker also answers a metadata request (kafka.sh status asks through kafkajs).
      const status = spawnSync('bash', [join(repoRoot(), 'infra/local/kafka.sh'), 'status'], {
        encoding: 'utf8',
      });
      assert.equal(status.status, 0, status.stdout + status.stderr);
      assert.match(
        status.stdout,
        /^running on 127\.0\.0\.1:\d+ \(pid \d+, Kafka 4\.\d+\.\d+, cluster id \S+\)$/m,
      );
    }
  });

  it('hands out a Postgres admin URL on which freshDatabase creates and drops a database', async () => {
    assert.equal(await pingDatabase(servers.env.DATABASE_URL), true);
    const db = await freshDatabase(servers.env.DATABASE_URL, 'testing.fresh');
    assert.match(db.name, /^testing_fresh-/);
    assert.equal(await pingDatabase(db.url), true, `${db.name} was not created`);
    await db.drop();
    await db.drop(); // twice is fine
    assert.equal(await pingDatabase(db.url), false, `${db.name} still answers after drop()`);
  });
});

describe('acquireServers without a Postgres to use', () => {
  it('falls back to embedded Postgres, and stops it again', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-testing-embedded-'));
    const lines: string[] = [];
    try {
      // Kafka from the environment keeps this about Postgres; port 1 on loopback is never a Postgres.
      const first = await acquireServers({ log: (l) => lines.push(l) });
      t.after(() => first.stop());
      const kafkaOnly = { KAFKA_BROKERS: first.env.KAFKA_BROKERS, PATH: process.env.PATH };
      const servers = await acquireServers({
        env: kafkaOnly,
        localPostgresUrl: 'postgresql://postgres@127.0.0.1:1/postgres',
        embeddedDataDir: dataDir,
        log: (l) => lines.push(l),
      });
      try {
        assert.equal(servers.postgres.source, 'embedded', lines.join('\n'));
        assert.match(
          servers.postgres.detail,
          /nothing answered at postgresql:\/\/postgres@127\.0\.0\.1:1\/postgres/,
        );
        assert.equal(await pingDatabase(servers.env.DATABASE_URL), true);
        const db = await freshDatabase(servers.env.DATABASE_URL, 'testing.embedded');
        assert.equal(await pingDatabase(db.url), true);
        await db.drop();
      } finally {
        await servers.stop();
      }
      assert.equal(
        await pingDatabase(servers.env.DATABASE_URL, 1_000),
        false,
        'embedded Postgres still answers after stop()',
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
