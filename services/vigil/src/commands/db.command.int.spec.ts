// `vigil db import|update|status` on a fresh database of the real Postgres (DATABASE_URL, else the local one):
// the corpus's records imported as a directory and as a zip with bad members, `update` from a local server in
// OSV's layout, `update` when nothing answers (exit-2 error, data unchanged), and matching through the stored data.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildOsvZip, matchPackages, type ExtractedPackage } from '@vigil/image-scan';
import { createAdvisoryStore, createSql, runMigrations, type Sql } from '@vigil/store';
import { corpusPath, freshDatabase, type FreshDatabase } from '@vigil/testing';
import type { Output } from '../output.js';
import { UsageError } from '../usage-error.js';
import { dbCommand } from './db.command.js';

const ADMIN_URL = process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';
const recordsDir = corpusPath('image', 'advisories', 'records');
const recordCount = readdirSync(recordsDir).length;

function capture(): Output & { results: string[]; warnings: string[] } {
  const results: string[] = [];
  const warnings: string[] = [];
  return {
    results,
    warnings,
    result: (t) => results.push(t),
    progress: () => undefined,
    warn: (l) => warnings.push(l),
  };
}

let db: FreshDatabase;
let sql: Sql;
let server: Server;
let base: string;
const tmp = mkdtempSync(join(tmpdir(), 'vigil-db-cli-'));
const alpineFiles = readdirSync(recordsDir).filter((f) => f.startsWith('ALPINE-'));
const alpineZip = buildOsvZip(alpineFiles.map((f) => ({ name: f, data: readFileSync(join(recordsDir, f)) })));

before(async () => {
  db = await freshDatabase(ADMIN_URL, 'vigil_db_cli');
  sql = createSql(db.url, { max: 2 });
  server = createServer((req, res) => {
    if (req.url === '/Alpine/all.zip')
      res.writeHead(200, { etag: '"a1"', 'content-length': String(alpineZip.length) }).end(alpineZip);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await sql?.close();
  await db?.drop();
});

const pkg = (ecosystem: string, name: string, version: string, source: string): ExtractedPackage => ({
  ecosystem,
  name,
  version,
  sourceName: source,
  sourceVersion: version,
  purl: `pkg:generic/${name}@${version}`,
  installedFiles: [],
  location: 'spec',
  foundBy: { id: 'spec', version: 1 },
});

describe('vigil db', () => {
  it('import: a directory of records, then status shows the source', async () => {
    const out = capture();
    assert.equal(await dbCommand('import', db.url, 'json', out, { args: [recordsDir] }), 0);
    const imported = JSON.parse(out.results[0]!) as {
      imported: { records: number; inserted: number; invalid: number }[];
    };
    assert.equal(imported.imported[0]!.records, recordCount);
    assert.equal(imported.imported[0]!.inserted, recordCount);
    assert.equal(imported.imported[0]!.invalid, 0);

    const again = capture();
    await dbCommand('import', db.url, 'json', again, { args: [recordsDir] });
    assert.equal(
      (JSON.parse(again.results[0]!) as { imported: { unchanged: number }[] }).imported[0]!.unchanged,
      recordCount,
    );

    const status = capture();
    await dbCommand('status', db.url, 'json', status, { now: () => new Date('2030-01-01T00:00:00Z') });
    const s = JSON.parse(status.results[0]!) as {
      pending: string[];
      vulnerabilityDb: { records: number; sources: { name: string; records: number }[]; ageSeconds: number };
    };
    assert.deepEqual(s.pending, []);
    assert.equal(s.vulnerabilityDb.records, recordCount);
    assert.deepEqual(
      s.vulnerabilityDb.sources.map((x) => [x.name, x.records]),
      [[recordsDir, recordCount]],
    );
    assert.ok(s.vulnerabilityDb.ageSeconds > 0);
    const table = capture();
    await dbCommand('status', db.url, 'table', table);
    assert.match(
      table.results.join('\n'),
      new RegExp(`vulnerability database: ${recordCount} records, build osv-1-`),
    );
  });

  it('matching reads the imported records back (openssl, CVE-2022-0778 via USN-5328-1)', async () => {
    const store = createAdvisoryStore(sql);
    const ms = await matchPackages(
      [pkg('Ubuntu:18.04:LTS', 'libssl1.1', '1.1.1-1ubuntu2.1~18.04.14', 'openssl')],
      store,
    );
    assert.deepEqual(
      ms.map((m) => [m.vulnerabilityId, m.fixedVersion, m.records.join()]),
      [['CVE-2022-0778', '1.1.1-1ubuntu2.1~18.04.15', 'USN-5328-1']],
    );
  });

  it('every match-* corpus query gives the expected records through the Postgres store', async () => {
    const store = createAdvisoryStore(sql);
    const root = corpusPath('image', 'advisories');
    const wrong: string[] = [];
    let n = 0;
    for (const c of readdirSync(root).filter((d) => d.startsWith('match-'))) {
      const { queries } = JSON.parse(readFileSync(join(root, c, 'expected.json'), 'utf8')) as {
        queries: {
          ecosystem: string;
          name: string;
          name_as_found?: string;
          version: string;
          binary?: { name: string; version: string };
          affected_by: string[];
          not_affected_by: string[];
        }[];
      };
      for (const q of queries) {
        n++;
        const p: ExtractedPackage = {
          ...pkg(
            q.ecosystem,
            q.binary?.name ?? q.name_as_found ?? q.name,
            q.binary?.version ?? q.version,
            q.name,
          ),
          ...(q.binary ? {} : { sourceName: q.name_as_found ?? q.name }),
        };
        const got = new Set((await matchPackages([p], store)).flatMap((m) => m.records));
        for (const id of q.affected_by)
          if (!got.has(id)) wrong.push(`${c} ${q.name}@${q.version}: missing ${id}`);
        for (const id of q.not_affected_by)
          if (got.has(id)) wrong.push(`${c} ${q.name}@${q.version}: unexpected ${id}`);
      }
    }
    assert.ok(n >= 130);
    assert.deepEqual(wrong, []);
  });

  it('import: a zip with bad members loads the good ones and names the bad', async () => {
    const zip = join(tmp, 'mixed.zip');
    writeFileSync(
      zip,
      buildOsvZip([
        {
          name: 'GHSA-hrpp-h998-j3pp.json',
          data: readFileSync(join(recordsDir, 'GHSA-hrpp-h998-j3pp.json')),
        },
        { name: 'BAD-1.json', data: '{"id": "BAD-1", "modified": "not a date"}' },
      ]),
    );
    const out = capture();
    assert.equal(await dbCommand('import', db.url, 'table', out, { args: [zip] }), 0);
    assert.match(out.results[0]!, /mixed\.zip\s+1\s+0\s+0\s+1\s+1/);
    assert.match(
      out.warnings.join('\n'),
      /1 invalid record\(s\) left out[\s\S]*mixed\.zip:BAD-1\.json: "modified" is not an RFC 3339 timestamp/,
    );
  });

  it('import: bad paths and broken archives are exit-2 errors that import nothing', async () => {
    await assert.rejects(dbCommand('import', db.url, 'table', capture(), { args: [] }), UsageError);
    await assert.rejects(
      dbCommand('import', db.url, 'table', capture(), { args: [join(tmp, 'nope.zip')] }),
      /nope\.zip: no such file or directory/,
    );
    const broken = join(tmp, 'broken.zip');
    writeFileSync(broken, alpineZip.subarray(0, 200));
    const before = await createAdvisoryStore(sql).info();
    await assert.rejects(
      dbCommand('import', db.url, 'table', capture(), { args: [broken] }),
      (e: Error) => e instanceof UsageError && /broken\.zip/.test(e.message),
    );
    assert.deepEqual(await createAdvisoryStore(sql).info(), before);
  });

  it('update: downloads from --url into the data dir and imports each ecosystem as osv:<Ecosystem>', async () => {
    const dataDir = join(tmp, 'data');
    const out = capture();
    assert.equal(
      await dbCommand('update', db.url, 'json', out, { ecosystems: ['Alpine'], baseUrl: base, dataDir }),
      0,
    );
    const r = JSON.parse(out.results[0]!) as { imported: { source: string; records: number }[] };
    assert.deepEqual(
      r.imported.map((i) => [i.source, i.records]),
      [['osv:Alpine', alpineFiles.length]],
    );
    assert.ok(readFileSync(join(dataDir, 'vulndb', 'Alpine-all.zip')).equals(alpineZip));
    const info = await createAdvisoryStore(sql).info();
    assert.ok(info.sources.some((s) => s.name === 'osv:Alpine'));
  });

  it('update: when nothing answers, a clear exit-2 error and the database unchanged', async () => {
    const before = await createAdvisoryStore(sql).info();
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await assert.rejects(
      dbCommand('update', db.url, 'table', capture(), {
        ecosystems: ['Alpine'],
        baseUrl: `http://127.0.0.1:${port}`,
        dataDir: join(tmp, 'data'),
      }),
      (e: Error) =>
        e instanceof UsageError &&
        /cannot download.*reachable.*the vulnerability database is unchanged/.test(e.message),
    );
    await assert.rejects(
      dbCommand('update', db.url, 'table', capture(), {
        ecosystems: ['Nope'],
        baseUrl: base,
        dataDir: join(tmp, 'data'),
      }),
      /Nope\/all\.zip: HTTP 404/,
    );
    assert.deepEqual(await createAdvisoryStore(sql).info(), before);
  });

  it('migrations are applied by import (the db was fresh)', async () => {
    assert.deepEqual(await runMigrations(db.url), []);
  });
});
