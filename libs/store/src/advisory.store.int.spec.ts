// The advisory tables on the real Postgres at DATABASE_URL, on a fresh database: import, re-import of a newer and
// an older copy, a failed import that must leave the previous data whole, look-up and the DB build.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAdvisoryStore, type AdvisoryImportRow, type PgAdvisoryStore } from './advisory.store.js';
import type { QueryRunner } from 'typeorm';
import { freshTestDatabase } from './int-test-database.js';
import { AdvisoryMatchEntries1765600000000 } from './migrations/1765600000000-advisory-match-entries.js';
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

describe('Postgres advisory store: two-step look-up', () => {
  const entry = (ecosystem: string, name: string, fixed: string) => ({
    package: { ecosystem, name },
    ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }],
    versions: ['1.0-1', '1.0-2'],
    ecosystem_specific: { urgency: 'high', binaries: ['libxml2', 'libxml2-dev'] },
  });
  // As libs/image-scan's importer writes them: each entry without package, severity and ecosystem_specific.
  const slim = ({ package: _p, ecosystem_specific: _e, ...rest }: ReturnType<typeof entry>) => rest;
  const splitRow = (id: string, modified: string, names: string[], extra: Record<string, unknown> = {}) => ({
    id,
    modified,
    ...(typeof extra['withdrawn'] === 'string' ? { withdrawn: extra['withdrawn'] } : {}),
    keys: names.map((name) => {
      const entries = [entry('Debian:12', name, '2.0-1')];
      return { ecosystem: 'Debian:12', name, entries, matchEntries: entries.map(slim) };
    }),
    record: {
      id,
      modified,
      details: `the long text of ${id}`,
      references: [{ type: 'WEB', url: `https://example.org/${id}` }],
      ...extra,
      affected: [],
    },
  });

  it('sends each candidate as (id, key, match entries) and the records asked for whole', async () => {
    await store.importSource('osv:two-step', [
      [
        splitRow('DEBIAN-CVE-2099-10', '2026-01-01T00:00:00Z', ['libxml2', 'libxslt']),
        splitRow('DEBIAN-CVE-2099-11', '2026-01-01T00:00:00Z', ['libxml2'], {
          withdrawn: '2026-01-02T00:00:00Z',
        }),
      ],
    ]);
    const keys = [
      { ecosystem: 'Debian:12', name: 'libxml2' },
      { ecosystem: 'Debian:12', name: 'libxslt' },
    ];
    const candidates = await store.lookupCandidates(keys);
    const byPair = (c: { id: string; name: string }) => `${c.id} ${c.name}`;
    assert.deepEqual(
      candidates.sort((x, y) => byPair(x).localeCompare(byPair(y))),
      [
        {
          id: 'DEBIAN-CVE-2099-10',
          ecosystem: 'Debian:12',
          name: 'libxml2',
          entries: [slim(entry('Debian:12', 'libxml2', '2.0-1'))],
        },
        {
          id: 'DEBIAN-CVE-2099-10',
          ecosystem: 'Debian:12',
          name: 'libxslt',
          entries: [slim(entry('Debian:12', 'libxslt', '2.0-1'))],
        },
        // Withdrawn records are candidates too: whether one counts is the matcher's call.
        {
          id: 'DEBIAN-CVE-2099-11',
          ecosystem: 'Debian:12',
          name: 'libxml2',
          entries: [slim(entry('Debian:12', 'libxml2', '2.0-1'))],
        },
      ],
    );
    assert.deepEqual(await store.lookupCandidates([]), []);
    // The hit, whole: its own fields and the asked keys' full entries; the other record does not move.
    const [hit, ...more] = (await store.lookupRecords(['DEBIAN-CVE-2099-10'], keys.slice(0, 1))) as {
      id: string;
      details: string;
      affected: unknown[];
    }[];
    assert.equal(more.length, 0);
    assert.equal(hit!.details, 'the long text of DEBIAN-CVE-2099-10');
    assert.deepEqual(hit!.affected, [entry('Debian:12', 'libxml2', '2.0-1')]);
    const [withdrawn] = (await store.lookupRecords(['DEBIAN-CVE-2099-11'], keys)) as { withdrawn?: string }[];
    assert.equal(withdrawn!.withdrawn, '2026-01-02T00:00:00Z');
    assert.deepEqual(await store.lookupRecords([], keys), []);
    assert.deepEqual(
      await store.lookupRecords(['DEBIAN-CVE-2099-10'], [{ ecosystem: 'Debian:11', name: 'libxml2' }]),
      [],
    );
  });

  it('a package with many records: every one a candidate, only the asked ids fetched', async () => {
    const rows = Array.from({ length: 600 }, (_, i) =>
      splitRow(`DEBIAN-CVE-2098-${1000 + i}`, '2026-01-01T00:00:00Z', ['busybox']),
    );
    await store.importSource('osv:two-step', [rows.slice(0, 300), rows.slice(300)]);
    const keys = [{ ecosystem: 'Debian:12', name: 'busybox' }];
    const candidates = await store.lookupCandidates(keys);
    assert.equal(candidates.length, 600);
    assert.deepEqual(new Set(candidates.map((c) => c.id)), new Set(rows.map((r) => r.id)));
    const some = rows.filter((_, i) => i % 7 === 0).map((r) => r.id);
    assert.deepEqual(ids(await store.lookupRecords(some, keys)), some.slice().sort());
  });

  it("rows given without match entries: the entries themselves, or the whole record's for the key", async () => {
    const full = entry('Debian:12', 'zlib', '1.3-1');
    await store.importSource('osv:two-step', [
      [
        {
          ...splitRow('DEBIAN-CVE-2099-20', '2026-01-01T00:00:00Z', []),
          keys: [{ ecosystem: 'Debian:12', name: 'zlib', entries: [full] }],
        },
        // Imported whole: the record holds its entries, of two packages.
        {
          id: 'DEBIAN-CVE-2099-21',
          modified: '2026-01-01T00:00:00Z',
          keys: [
            { ecosystem: 'Debian:12', name: 'zlib' },
            { ecosystem: 'Debian:12', name: 'minizip' },
          ],
          record: {
            id: 'DEBIAN-CVE-2099-21',
            modified: '2026-01-01T00:00:00Z',
            affected: [full, entry('Debian:12', 'minizip', '1.3-1')],
          },
        },
      ],
    ]);
    const candidates = await store.lookupCandidates([{ ecosystem: 'Debian:12', name: 'zlib' }]);
    assert.deepEqual(
      candidates.sort((x, y) => x.id.localeCompare(y.id)).map((c) => [c.id, c.entries]),
      [
        ['DEBIAN-CVE-2099-20', [full]],
        ['DEBIAN-CVE-2099-21', [full]],
      ],
    );
  });

  it("the migration fills match entries for rows stored before it, by the importer's rule", async () => {
    const migration = new AdvisoryMatchEntries1765600000000();
    const runner = { query: (text: string) => sql.query(text) } as unknown as QueryRunner;
    const keys = [
      { ecosystem: 'Debian:12', name: 'libxml2' },
      { ecosystem: 'Debian:12', name: 'zlib' },
    ];
    const candidates = async () =>
      Object.fromEntries((await store.lookupCandidates(keys)).map((c) => [`${c.id} ${c.name}`, c.entries]));
    const before = await candidates();
    await migration.down(runner);
    await migration.up(runner);
    const full = entry('Debian:12', 'zlib', '1.3-1');
    assert.deepEqual(await candidates(), {
      ...before,
      // Imported with entries but without match entries (stored as the entries): reduced by the rule now.
      'DEBIAN-CVE-2099-20 zlib': [slim(full)],
      // Imported whole: the record's own entry for the key, as the store writes it.
      'DEBIAN-CVE-2099-21 zlib': [full],
    });
    assert.ok(Object.keys(before).length >= 4);
  });

  it('the version keys are gone: their table and column dropped by the migration', async () => {
    const t = await sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'advisory_versions'`,
    );
    assert.equal(t.rows[0]!.n, 0);
    const c = await sql.query<{ column_name: string; data_type: string; is_nullable: string }>(
      `SELECT column_name, data_type, is_nullable FROM information_schema.columns
        WHERE table_name = 'advisory_packages' AND column_name IN ('lookup_entries', 'match_entries')`,
    );
    assert.deepEqual(c.rows, [{ column_name: 'match_entries', data_type: 'json', is_nullable: 'NO' }]);
  });
});
