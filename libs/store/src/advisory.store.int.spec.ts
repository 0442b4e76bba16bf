// The advisory tables on the real Postgres at DATABASE_URL, on a fresh database: import, re-import of a newer and
// an older copy, a failed import that must leave the previous data whole, look-up and the DB build.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAdvisoryStore, type AdvisoryImportRow, type PgAdvisoryStore } from './advisory.store.js';
import { freshTestDatabase } from './int-test-database.js';
import { runMigrations } from './migrations.runner.js';
import { createSql } from './pg-sql.adapter.js';
import type { Sql } from './sql.port.js';

let db: { url: string; drop(): Promise<void> };
let sql: Sql;
let store: PgAdvisoryStore;

before(async () => {
  db = await freshTestDatabase('advisory_int');
  await runMigrations(db.url);
  sql = createSql(db.url, { max: 4 });
  store = createAdvisoryStore(sql);
});
after(async () => {
  await sql?.close();
  await db?.drop();
});

function row(
  id: string,
  modified: string,
  keys: [string, string][],
  extra: Record<string, unknown> = {},
): AdvisoryImportRow {
  return {
    id,
    modified,
    ...(typeof extra['withdrawn'] === 'string' ? { withdrawn: extra['withdrawn'] } : {}),
    keys: keys.map(([ecosystem, name]) => ({ ecosystem, name })),
    record: {
      id,
      modified,
      ...extra,
      affected: keys.map(([ecosystem, name]) => ({
        package: { ecosystem, name },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }],
      })),
    },
  };
}

const ids = (records: unknown[]) => records.map((r) => (r as { id: string }).id).sort();

describe('Postgres advisory store', () => {
  it('imports a source and looks records up by (ecosystem, name)', async () => {
    const r = await store.importSource(
      'osv:Debian',
      [
        [
          row('DSA-1-1', '2024-01-01T00:00:00Z', [
            ['Debian:12', 'openssl'],
            ['Debian:11', 'openssl'],
          ]),
        ],
        [
          row('DLA-2-1', '2024-02-01T00:00:00Z', [['Debian:11', 'openssl']]),
          row('CVE-2024-0001', '2024-03-01T00:00:00.123456Z', [['Debian:12', 'wget']], {
            withdrawn: '2024-04-01T00:00:00Z',
          }),
        ],
      ],
      { invalidRecords: () => 2 },
    );
    assert.deepEqual(r, { source: 'osv:Debian', received: 3, inserted: 3, replaced: 0, unchanged: 0 });
    assert.deepEqual(ids(await store.lookup([{ ecosystem: 'Debian:11', name: 'openssl' }])), [
      'DLA-2-1',
      'DSA-1-1',
    ]);
    assert.deepEqual(
      ids(
        await store.lookup([
          { ecosystem: 'Debian:12', name: 'openssl' },
          { ecosystem: 'Debian:12', name: 'wget' },
          { ecosystem: 'npm', name: 'openssl' },
        ]),
      ),
      ['CVE-2024-0001', 'DSA-1-1'],
    );
    assert.deepEqual(await store.lookup([]), []);
    const [withdrawn] = (await store.lookup([{ ecosystem: 'Debian:12', name: 'wget' }])) as {
      withdrawn?: string;
    }[];
    assert.equal(withdrawn!.withdrawn, '2024-04-01T00:00:00Z', 'the record comes back as it was given');
    const info = await store.info();
    assert.equal(info.records, 3);
    assert.equal(info.sources.length, 1);
    assert.equal(info.sources[0]!.name, 'osv:Debian');
    assert.equal(info.sources[0]!.records, 3);
    assert.equal(info.sources[0]!.invalidRecords, 2);
    assert.equal(info.sources[0]!.newestRecord?.toISOString(), '2024-03-01T00:00:00.123Z');
    assert.ok(info.updatedAt instanceof Date);
    assert.match(info.build, /^osv-1-[0-9a-f]{12}$/);
  });

  it('re-import: the same copy changes nothing, an older one is ignored, a newer one replaces it and its keys', async () => {
    const before = await store.info();
    const same = await store.importSource('osv:Debian', [
      [row('DSA-1-1', '2024-01-01T00:00:00Z', [['Debian:12', 'openssl']])],
    ]);
    assert.equal(same.unchanged, 1);
    assert.equal((await store.info()).build, before.build, 'nothing changed, so the build is the same');

    const older = await store.importSource('osv:Debian', [
      [row('DLA-2-1', '2023-01-01T00:00:00Z', [['Debian:11', 'gnutls28']])],
    ]);
    assert.deepEqual([older.replaced, older.unchanged], [0, 1]);
    assert.deepEqual(ids(await store.lookup([{ ecosystem: 'Debian:11', name: 'gnutls28' }])), []);

    const newer = await store.importSource('osv:Debian', [
      [
        row('DLA-2-1', '2025-01-01T00:00:00Z', [['Debian:11', 'gnutls28']], { summary: 'newer' }),
        // The same id twice in one batch: the newest copy wins.
        row('DLA-3-1', '2025-01-01T00:00:00Z', [['Debian:11', 'curl']], { summary: 'first' }),
        row('DLA-3-1', '2025-02-01T00:00:00Z', [['Debian:11', 'curl']], { summary: 'second' }),
      ],
    ]);
    assert.deepEqual([newer.inserted, newer.replaced, newer.unchanged], [1, 1, 1]);
    assert.deepEqual(
      ids(await store.lookup([{ ecosystem: 'Debian:11', name: 'openssl' }])),
      ['DSA-1-1'],
      'DLA-2-1 lost its old key',
    );
    const [dla2] = (await store.lookup([{ ecosystem: 'Debian:11', name: 'gnutls28' }])) as {
      summary: string;
    }[];
    assert.equal(dla2!.summary, 'newer');
    const [dla3] = (await store.lookup([{ ecosystem: 'Debian:11', name: 'curl' }])) as { summary: string }[];
    assert.equal(dla3!.summary, 'second');
    const after = await store.info();
    assert.notEqual(after.build, before.build);
    assert.equal(after.records, 4);
  });

  it('a failed import leaves the previous data whole', async () => {
    const before = await store.info();
    async function* failing(): AsyncGenerator<AdvisoryImportRow[]> {
      yield [row('GHSA-aaaa-bbbb-cccc', '2026-01-01T00:00:00Z', [['npm', 'left-pad']])];
      yield [row('DSA-1-1', '2030-01-01T00:00:00Z', [['Debian:12', 'nothing']])];
      throw new Error('the archive is truncated');
    }
    await assert.rejects(store.importSource('osv:npm', failing()), /the archive is truncated/);
    assert.deepEqual(await store.lookup([{ ecosystem: 'npm', name: 'left-pad' }]), []);
    assert.deepEqual(ids(await store.lookup([{ ecosystem: 'Debian:12', name: 'openssl' }])), ['DSA-1-1']);
    const after = await store.info();
    assert.deepEqual(after, before);
    assert.equal(
      after.sources.some((s) => s.name === 'osv:npm'),
      false,
    );
  });

  it('a record filed split comes back with the entries of the keys asked for only', async () => {
    const entry = (ecosystem: string) => ({
      package: { ecosystem, name: 'zlib' },
      versions: [`${ecosystem}-v1`],
    });
    await store.importSource('osv:Ubuntu', [
      [
        {
          id: 'UBUNTU-CVE-2099-1',
          modified: '2026-01-01T00:00:00Z',
          keys: [
            { ecosystem: 'Ubuntu:18.04:LTS', name: 'zlib', entries: [entry('Ubuntu:18.04:LTS')] },
            { ecosystem: 'Ubuntu:20.04:LTS', name: 'zlib', entries: [entry('Ubuntu:20.04:LTS')] },
            { ecosystem: 'Ubuntu:22.04:LTS', name: 'zlib', entries: [entry('Ubuntu:22.04:LTS')] },
          ],
          record: {
            id: 'UBUNTU-CVE-2099-1',
            modified: '2026-01-01T00:00:00Z',
            affected: [{ ranges: [{ type: 'GIT', events: [] }] }],
          },
        },
      ],
    ]);
    const [one] = (await store.lookup([{ ecosystem: 'Ubuntu:20.04:LTS', name: 'zlib' }])) as {
      affected: unknown[];
    }[];
    assert.deepEqual(one!.affected, [{ ranges: [{ type: 'GIT', events: [] }] }, entry('Ubuntu:20.04:LTS')]);
    const [two] = (await store.lookup([
      { ecosystem: 'Ubuntu:18.04:LTS', name: 'zlib' },
      { ecosystem: 'Ubuntu:22.04:LTS', name: 'zlib' },
    ])) as { affected: { package?: { ecosystem: string } }[] }[];
    assert.deepEqual(two!.affected.map((a) => a.package?.ecosystem).sort(), [
      'Ubuntu:18.04:LTS',
      'Ubuntu:22.04:LTS',
      undefined,
    ]);
  });

  it('two sources: counts per source, and a newer copy from another source moves the record', async () => {
    await store.importSource('osv:npm', [
      [
        row('GHSA-aaaa-bbbb-cccc', '2026-01-01T00:00:00Z', [['npm', 'left-pad']]),
        row('DSA-1-1', '2030-01-01T00:00:00Z', [['Debian:12', 'openssl']]),
      ],
    ]);
    const info = await store.info();
    assert.deepEqual(
      info.sources.map((s) => [s.name, s.records]),
      [
        ['osv:Debian', 3],
        ['osv:Ubuntu', 1],
        ['osv:npm', 2],
      ],
    );
    assert.equal(info.records, 6);
    assert.deepEqual(ids(await store.lookup([{ ecosystem: 'npm', name: 'left-pad' }])), [
      'GHSA-aaaa-bbbb-cccc',
    ]);
  });
});

describe('Postgres advisory store: versions lists tested in SQL', () => {
  // Keys as libs/image-scan's importer writes them (versions/version-key.ts): the store only compares strings.
  const listed = ['1.0-1', '1.0-2', '1:2.0-1'];
  const keysOf = (versions: string[]) => versions.map((v) => `k:${v.includes(':') ? v : `0:${v}`}`);
  const entry = (ecosystem: string, versions: string[]) => ({
    package: { ecosystem, name: 'libxml2' },
    ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.0-1' }] }],
    versions,
  });
  const keyedRow = (modified: string, versions: string[], keyed = true): AdvisoryImportRow => ({
    id: 'DEBIAN-CVE-2099-7',
    modified,
    keys: [
      {
        ecosystem: 'Debian:12',
        name: 'libxml2',
        entries: [entry('Debian:12', versions), entry('Debian:12', ['odd version'])],
        // The second entry's scheme "has no canonical form": it keeps its list.
        ...(keyed ? { versionKeys: [keysOf(versions), null] } : {}),
      },
      { ecosystem: 'Debian:11', name: 'libxml2', entries: [entry('Debian:11', versions)] },
    ],
    record: { id: 'DEBIAN-CVE-2099-7', modified, affected: [] },
  });
  type Entry = Record<string, unknown> & { package: { ecosystem: string } };
  const lookedUp = async (keys: { ecosystem: string; name: string; versionKey?: string }[]) => {
    const [record, ...more] = (await store.lookupVersions(keys)) as { id: string; affected: Entry[] }[];
    assert.equal(more.length, 0);
    return record!;
  };

  it('answers which asked keys a keyed list holds, without sending the list', async () => {
    await store.importSource('osv:Debian-keys', [[keyedRow('2026-02-01T00:00:00Z', listed)]]);
    const r = await lookedUp([
      { ecosystem: 'Debian:12', name: 'libxml2', versionKey: 'k:0:1.0-2' },
      { ecosystem: 'Debian:12', name: 'libxml2', versionKey: 'k:0:2.5-1' },
      { ecosystem: 'Debian:12', name: 'libxml2', versionKey: 'k:1:2.0-1' },
    ]);
    assert.equal(r.id, 'DEBIAN-CVE-2099-7');
    const { versions: _versions, ...slim } = entry('Debian:12', listed);
    assert.deepEqual(r.affected, [
      { ...slim, 'vigil:versions': { count: 3, found: ['k:0:1.0-2', 'k:1:2.0-1'] } },
      entry('Debian:12', ['odd version']),
    ]);
    // A package whose version the list does not hold, and one asked without a key: the count, nothing found.
    const none = await lookedUp([{ ecosystem: 'Debian:12', name: 'libxml2', versionKey: 'k:0:9-9' }]);
    assert.deepEqual(none.affected[0]!['vigil:versions'], { count: 3, found: [] });
    const unkeyed = await lookedUp([{ ecosystem: 'Debian:12', name: 'libxml2' }]);
    assert.deepEqual(unkeyed.affected[0]!['vigil:versions'], { count: 3, found: [] });
    // Another key of the record, imported without version keys, comes whole.
    const other = await lookedUp([{ ecosystem: 'Debian:11', name: 'libxml2', versionKey: 'k:0:1.0-1' }]);
    assert.deepEqual(other.affected, [entry('Debian:11', listed)]);
    // The plain look-up is unchanged: the lists as imported.
    const [plain] = (await store.lookup([{ ecosystem: 'Debian:12', name: 'libxml2' }])) as {
      affected: unknown[];
    }[];
    assert.deepEqual(plain!.affected, [entry('Debian:12', listed), entry('Debian:12', ['odd version'])]);
    assert.deepEqual(await store.lookupVersions([]), []);
  });

  it('a newer copy replaces the stored keys', async () => {
    const r = await store.importSource('osv:Debian-keys', [[keyedRow('2026-03-01T00:00:00Z', ['1.0-3'])]]);
    assert.equal(r.replaced, 1);
    const after = await lookedUp([
      { ecosystem: 'Debian:12', name: 'libxml2', versionKey: 'k:0:1.0-2' },
      { ecosystem: 'Debian:12', name: 'libxml2', versionKey: 'k:0:1.0-3' },
    ]);
    assert.deepEqual(after.affected[0]!['vigil:versions'], { count: 1, found: ['k:0:1.0-3'] });
    const rows = await sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM advisory_versions WHERE advisory_id = 'DEBIAN-CVE-2099-7'`,
    );
    assert.equal(rows.rows[0]!.n, 1, 'the old copy left no keys behind');
  });

  it('rows stored without keys come whole, and importing the same copy again keys them', async () => {
    const id = 'DEBIAN-CVE-2099-7';
    await store.importSource('osv:Debian-keys', [[keyedRow('2026-04-01T00:00:00Z', listed, false)]]);
    const asked = [{ ecosystem: 'Debian:12', name: 'libxml2', versionKey: 'k:0:1.0-1' }];
    assert.deepEqual((await lookedUp(asked)).affected[0], entry('Debian:12', listed));
    const again = await store.importSource('osv:Debian-keys', [[keyedRow('2026-04-01T00:00:00Z', listed)]]);
    assert.deepEqual([again.inserted, again.replaced, again.unchanged], [0, 0, 1]);
    assert.deepEqual((await lookedUp(asked)).affected[0]!['vigil:versions'], {
      count: 3,
      found: ['k:0:1.0-1'],
    });
    // And once more: nothing is keyed twice.
    await store.importSource('osv:Debian-keys', [[keyedRow('2026-04-01T00:00:00Z', listed)]]);
    const rows = await sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM advisory_versions WHERE advisory_id = $1`,
      [id],
    );
    assert.equal(rows.rows[0]!.n, 1);
  });

  it('refuses keys that do not line up with the entries, naming the record, and keeps the data whole', async () => {
    const before = await store.info();
    const bad = keyedRow('2026-05-01T00:00:00Z', listed);
    bad.keys[0]!.versionKeys = [keysOf(listed).slice(1), null];
    await assert.rejects(
      store.importSource('osv:Debian-keys', [[bad]]),
      /record "DEBIAN-CVE-2099-7", package Debian:12\/libxml2: entry 0 has 2 version keys for 3 listed versions/,
    );
    bad.keys[0]!.versionKeys = [keysOf(listed)];
    await assert.rejects(
      store.importSource('osv:Debian-keys', [[bad]]),
      /record "DEBIAN-CVE-2099-7", package Debian:12\/libxml2: 1 versionKeys lists for 2 entries/,
    );
    assert.deepEqual(await store.info(), before);
  });
});
