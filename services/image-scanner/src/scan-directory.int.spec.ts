// `vigil scan rootfs|fs` as the image-scanner engine runs them (option input=rootfs|fs, archive_path a directory)
// on a fresh database of the real Postgres (DATABASE_URL, else the local one) holding the example advisories, with
// the SBOM and package list stored through the store's real putBlob and read back from the blobs table. Inputs:
// the example image's root filesystem, a directory holding a corpus lockfile, and an empty directory.
//
// These scans used to fail on every input: the SBOM was asked for an image digest a directory does not have.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  FindingReportedSchema,
  InventoryObservedSchema,
  ScanRequestedSchema,
  ScanStatus,
  ScannerKind,
  TargetKind,
  create,
  type Finding,
} from '@vigil/contracts';
import { ROOTFS_SKIP, directoryDigest, importOsvDump, readDirectory } from '@vigil/image-scan';
import type { ScanResult } from '@vigil/nest-kit';
import { createAdvisoryStore, createSql, putBlob, runMigrations, type Sql } from '@vigil/store';
import { corpusPath, fixedClock, freshDatabase, repoRoot, type FreshDatabase } from '@vigil/testing';
import { SBOM_MEDIA_TYPE, imageScannerEngine } from './scan-request.consumer.js';

const ADMIN_URL = process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';
const EXAMPLE = join(repoRoot(), 'examples/payments');
const ROOTFS = join(EXAMPLE, 'image/rootfs');
const LOCKFILE_CASE = corpusPath('image', 'lockfiles', 'npm-lock-v2');
const EMPTY_SHA256 = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

type Json = Record<string, unknown>;

let db: FreshDatabase;
let sql: Sql;
const tmp = mkdtempSync(join(tmpdir(), 'vigil-image-dir-'));
const sourceTree = join(tmp, 'service');
const emptyDir = join(tmp, 'empty');

function request(scanId: string, dir: string, input: 'rootfs' | 'fs') {
  return create(ScanRequestedSchema, {
    scanId,
    scanner: ScannerKind.IMAGE,
    scope: { cluster: 'spec' },
    target: { kind: TargetKind.IMAGE, key: dir, ref: { case: 'image', value: { archivePath: dir } } },
    options: { input },
  });
}

function findingsOf(result: ScanResult): Finding[] {
  return (result.events ?? []).flatMap((e) =>
    e.payload.case === 'findingReported' ? [create(FindingReportedSchema, e.payload.value).finding!] : [],
  );
}

function inventoryOf(result: ScanResult) {
  const event = (result.events ?? []).find((e) => e.payload.case === 'inventoryObserved');
  assert.ok(event, 'the result carries an InventoryObserved event');
  return create(InventoryObservedSchema, event.payload.value as never);
}

/** The SBOM the scan stored, read back from the blobs table by the digest the inventory names. */
async function storedSbom(result: ScanResult): Promise<Json> {
  const ref = result.blobs?.find((b) => b.role === 'sbom');
  assert.ok(ref, `no sbom blob among ${JSON.stringify(result.blobs?.map((b) => b.role))}`);
  assert.equal(ref.mediaType, SBOM_MEDIA_TYPE);
  const { rows } = await sql.query<{ content: Buffer }>('SELECT content FROM blobs WHERE digest = $1', [
    ref.digest,
  ]);
  assert.equal(rows.length, 1, `blob ${ref.digest} is stored once`);
  return JSON.parse(rows[0]!.content.toString('utf8')) as Json;
}

before(async () => {
  db = await freshDatabase(ADMIN_URL, 'vigil_image_dir');
  await runMigrations(db.url);
  sql = createSql(db.url, { max: 2 });
  const imported = await importOsvDump(join(EXAMPLE, 'advisories'), createAdvisoryStore(sql), {
    source: 'examples/payments',
  });
  assert.ok(imported.records > 0 && imported.invalid === 0, JSON.stringify(imported));
  // A service checkout: the corpus lockfile, the example's lockfile (whose packages the advisories name) in a
  // subproject, and a .git directory that fs scans skip.
  mkdirSync(join(sourceTree, 'web'), { recursive: true });
  mkdirSync(join(sourceTree, '.git', 'x'), { recursive: true });
  copyFileSync(join(LOCKFILE_CASE, 'package-lock.json'), join(sourceTree, 'package-lock.json'));
  copyFileSync(join(ROOTFS, 'app/package-lock.json'), join(sourceTree, 'web/package-lock.json'));
  copyFileSync(join(ROOTFS, 'app/package-lock.json'), join(sourceTree, '.git/x/package-lock.json'));
  mkdirSync(emptyDir);
});
after(async () => {
  await sql?.close();
  await db?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('imageScannerEngine on directories', () => {
  const engine = () =>
    imageScannerEngine({
      sql,
      clock: fixedClock('2026-12-01T00:00:00Z'),
      putBlob: (content, mediaType) => putBlob(sql, content, mediaType),
    });

  it('input rootfs on the example root filesystem: OK, OS and npm findings, a file-component SBOM', async () => {
    const result = await engine().scan(request('rootfs', ROOTFS, 'rootfs'));
    assert.equal(result.status, ScanStatus.OK, result.error);
    const { files } = await readDirectory(ROOTFS, { skip: ROOTFS_SKIP });
    const digest = await directoryDigest(files);
    assert.match(digest, /^sha256:[0-9a-f]{64}$/);
    assert.notEqual(digest, EMPTY_SHA256);

    const findings = findingsOf(result);
    const rules = findings.map((f) => `${f.ruleId}:${f.package?.name ?? ''}`);
    assert.ok(rules.includes('CVE-2023-5363:libssl3'), rules.join(', '));
    assert.ok(rules.includes('CVE-2021-23337:lodash'), rules.join(', '));
    for (const f of findings) assert.equal(f.asset?.imageDigest, digest, `${f.id} names the content digest`);

    const inventory = inventoryOf(result);
    const item = inventory.items[0]?.item;
    assert.equal(item?.case, 'image');
    assert.equal(item.value.digest, digest);
    assert.equal(item.value.distro, 'debian 12.2');

    const sbom = await storedSbom(result);
    const component = (sbom['metadata'] as Json)['component'] as Json;
    assert.equal(component['type'], 'file');
    assert.equal(component['name'], ROOTFS);
    assert.equal(component['version'], digest);
    assert.equal(component['bom-ref'], `directory:rootfs:${digest}`);
    const purls = (sbom['components'] as Json[]).map((c) => c['purl'] as string | undefined);
    assert.ok(
      purls.some((p) => p?.startsWith('pkg:deb/debian/openssl@3.0.11-1~deb12u1')),
      purls.join(', '),
    );
    assert.ok(purls.includes('pkg:npm/minimist@1.2.5'), purls.join(', '));
    const vulns = (sbom['vulnerabilities'] as Json[]).map((v) => v['id']);
    assert.ok(vulns.includes('CVE-2023-5363'), vulns.join(', '));
  });

  it('input fs on a source tree: every lockfile package listed, advisories matched, .git skipped', async () => {
    const result = await engine().scan(request('fs', sourceTree, 'fs'));
    assert.equal(result.status, ScanStatus.OK, result.error);
    const { files } = await readDirectory(sourceTree, { skipNames: ['.git'] });
    assert.deepEqual(
      files.map((f) => f.path),
      ['package-lock.json', 'web/package-lock.json'],
    );
    const digest = await directoryDigest(files);

    const findings = findingsOf(result);
    assert.ok(findings.length > 0);
    assert.deepEqual(
      [...new Set(findings.flatMap((f) => f.locations))],
      ['/web/package-lock.json'],
      'the example advisories match only the example lockfile, and nothing under .git is read',
    );
    assert.ok(findings.some((f) => f.ruleId === 'CVE-2021-23337' && f.package?.name === 'lodash'));

    const sbom = await storedSbom(result);
    const component = (sbom['metadata'] as Json)['component'] as Json;
    assert.equal(component['type'], 'file');
    assert.equal(component['version'], digest);
    assert.equal(component['bom-ref'], `directory:fs:${digest}`);
    const expected = JSON.parse(readFileSync(join(LOCKFILE_CASE, 'expected.json'), 'utf8')) as {
      packages: { name: string; version: string }[];
    };
    const atRoot = (sbom['components'] as Json[])
      .filter((c) =>
        (c['properties'] as { name: string; value: string }[]).some(
          (p) => p.name === 'vigil:package:location' && p.value === 'package-lock.json',
        ),
      )
      .map((c) => `${c['name'] as string}@${c['version'] as string}`);
    assert.deepEqual(
      [...new Set(atRoot)].sort(),
      [...new Set(expected.packages.map((p) => `${p.name}@${p.version}`))].sort(),
    );
  });

  it('the same content elsewhere has the same digest; a changed file changes it', async () => {
    const copy = join(tmp, 'copy');
    mkdirSync(copy);
    copyFileSync(join(LOCKFILE_CASE, 'package-lock.json'), join(copy, 'package-lock.json'));
    const first = await engine().scan(request('copy-1', copy, 'fs'));
    assert.equal(first.status, ScanStatus.OK, first.error);
    const lock = readFileSync(join(copy, 'package-lock.json'), 'utf8');
    const line = `package-lock.json\0sha256:${createHash('sha256').update(lock).digest('hex')}\n`;
    const expected = `sha256:${createHash('sha256').update(line).digest('hex')}`;
    assert.equal(first.target?.ref.case === 'image' ? first.target.ref.value.digest : '', expected);

    writeFileSync(join(copy, 'package-lock.json'), `${lock}\n`);
    const second = await engine().scan(request('copy-2', copy, 'fs'));
    assert.equal(second.status, ScanStatus.OK, second.error);
    const changed = second.target?.ref.case === 'image' ? second.target.ref.value.digest : '';
    assert.match(changed, /^sha256:[0-9a-f]{64}$/);
    assert.notEqual(changed, expected);
  });

  for (const input of ['rootfs', 'fs'] as const) {
    it(`input ${input} on an empty directory: OK, no packages, no findings, an empty SBOM`, async () => {
      const result = await engine().scan(request(`empty-${input}`, emptyDir, input));
      assert.equal(result.status, ScanStatus.OK, result.error);
      assert.equal(result.error, '');
      assert.deepEqual(result.findingIds, []);
      assert.equal(result.counts?.total, 0);
      const item = inventoryOf(result).items[0]?.item;
      assert.equal(item?.case === 'image' ? item.value.digest : undefined, EMPTY_SHA256);
      const sbom = await storedSbom(result);
      assert.equal(
        ((sbom['metadata'] as Json)['component'] as Json)['bom-ref'],
        `directory:${input}:${EMPTY_SHA256}`,
      );
      assert.deepEqual(sbom['components'] ?? [], []);
      const list = result.blobs?.find((b) => b.role === 'package-list');
      assert.ok(list);
      const { rows } = await sql.query<{ content: Buffer }>('SELECT content FROM blobs WHERE digest = $1', [
        list.digest,
      ]);
      assert.deepEqual(JSON.parse(rows[0]!.content.toString('utf8')), []);
    });
  }

  it('a directory that does not exist: FAILED, naming it', async () => {
    const missing = join(tmp, 'nope');
    const result = await engine().scan(request('missing', missing, 'fs'));
    assert.equal(result.status, ScanStatus.FAILED);
    assert.equal(result.error, `${missing}: no such directory`);
  });
});
