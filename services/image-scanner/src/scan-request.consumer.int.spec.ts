// The image-scanner's engine without Kafka, on a fresh database of the real Postgres (DATABASE_URL, else the local
// one): an empty advisory database, then the example advisories (examples/payments/advisories, OSV records) matched
// against the example image built by examples/payments/image/build.mjs in both of its formats, the digest cache,
// and hostile archives written by writeTestImage.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ScanStatus,
  ScannerKind,
  Severity,
  TargetKind,
  create,
  FindingReportedSchema,
  InventoryObservedSchema,
  ScanRequestedSchema,
  type Finding,
  type ScanRequested,
} from '@vigil/contracts';
import { importOsvDump } from '@vigil/image-scan';
import { type ScanEngine, type ScanResult } from '@vigil/nest-kit';
import { createAdvisoryStore, createSql, runMigrations, type Sql } from '@vigil/store';
import { fixedClock, freshDatabase, repoRoot, writeTestImage, type FreshDatabase } from '@vigil/testing';
import { imageScannerEngine } from './index.js';
import { RegistryAuth } from './registry-auth.js';

const ADMIN_URL = process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';
const EXAMPLE = join(repoRoot(), 'examples/payments');
const ADVISORIES = join(EXAMPLE, 'advisories');
const ROOTFS = join(EXAMPLE, 'image/rootfs');
const IMAGE_REF = 'registry.example.com/acme/payment-api:1.4.2';

interface OsvRecord {
  id: string;
  aliases?: string[];
  affected: { package: { ecosystem: string; name: string }; ranges: { events: Record<string, string>[] }[] }[];
}

const records = readdirSync(ADVISORIES)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(ADVISORIES, f), 'utf8')) as OsvRecord);

function record(id: string): OsvRecord {
  const r = records.find((x) => x.id === id);
  assert.ok(r, `${ADVISORIES} has no record ${id}`);
  return r;
}

function fixedVersion(r: OsvRecord): string {
  const fixed = r.affected[0]?.ranges[0]?.events.find((e) => e['fixed'])?.['fixed'];
  assert.ok(fixed, `${r.id} names no fixed version`);
  return fixed;
}

/** Version of a package in the example image's dpkg status database. */
function dpkgVersion(name: string): string {
  const status = readFileSync(join(ROOTFS, 'var/lib/dpkg/status'), 'utf8');
  const stanza = status.split(/\n\n+/).find((s) => s.startsWith(`Package: ${name}\n`));
  const version = /^Version: (.+)$/m.exec(stanza ?? '')?.[1];
  assert.ok(version, `the example dpkg status has no package ${name}`);
  return version;
}

function lockVersion(name: string): string {
  const lock = JSON.parse(readFileSync(join(ROOTFS, 'app/package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string }>;
  };
  const version = lock.packages[`node_modules/${name}`]?.version;
  assert.ok(version, `the example package-lock has no ${name}`);
  return version;
}

function request(scanId: string, archivePath: string): ScanRequested {
  return create(ScanRequestedSchema, {
    scanId,
    scanner: ScannerKind.IMAGE,
    scope: { cluster: 'spec' },
    target: { kind: TargetKind.IMAGE, key: IMAGE_REF, ref: { case: 'image', value: { archivePath } } },
  });
}

function findingsOf(result: ScanResult): Finding[] {
  // The engine builds its events with create(), so create() here hands back the same messages, typed.
  return (result.events ?? []).flatMap((e) =>
    e.payload.case === 'findingReported' ? [create(FindingReportedSchema, e.payload.value).finding!] : [],
  );
}

function evidence(f: Finding, key: string): string | undefined {
  return f.evidence.find((e) => e.key === key)?.value;
}

/** The vulnerability finding on one package for one advisory, found by its package identity evidence. */
function vulnerability(findings: Finding[], advisory: string, purlPrefix: string): Finding {
  const f = findings.find(
    (x) => x.aliases.includes(advisory) && (evidence(x, 'package-identity') ?? '').startsWith(purlPrefix),
  );
  assert.ok(
    f,
    `no finding for ${advisory} on ${purlPrefix}; got ${findings.map((x) => `${x.ruleId}/${evidence(x, 'package-identity') ?? '-'}`).join(', ')}`,
  );
  return f;
}

let db: FreshDatabase;
let sql: Sql;
const clock = fixedClock('2026-12-01T00:00:00Z');
const tmp = mkdtempSync(join(tmpdir(), 'vigil-image-engine-'));
const dockerArchive = join(tmp, 'payment-api.tar');
const ociLayout = join(tmp, 'payment-api-oci');

before(async () => {
  db = await freshDatabase(ADMIN_URL, 'vigil_image_engine');
  await runMigrations(db.url);
  sql = createSql(db.url, { max: 2 });
  execFileSync(process.execPath, [join(EXAMPLE, 'image/build.mjs'), tmp], { stdio: 'ignore' });
});
after(async () => {
  await sql?.close();
  await db?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('imageScannerEngine on Postgres', () => {
  let engine: ScanEngine;
  let dockerResult: ScanResult;

  it('a migrated database without records: UNAVAILABLE, saying the advisory database is empty', async () => {
    engine = imageScannerEngine({ sql, clock });
    const result = await engine.scan(request('empty', dockerArchive));
    assert.equal(result.status, ScanStatus.UNAVAILABLE);
    assert.match(result.error, /advisory database has no records/);
    assert.match(result.error, /vigil db import/);
    assert.equal(result.findingIds, undefined);
    assert.equal(result.events, undefined);
  });

  it('the example advisories imported: the docker archive scans OK with the advisories its packages match', async () => {
    const imported = await importOsvDump(ADVISORIES, createAdvisoryStore(sql), { source: 'examples/payments' });
    assert.equal(imported.records, records.length);
    assert.equal(imported.invalid, 0);

    dockerResult = await engine.scan(request('docker', dockerArchive));
    assert.equal(dockerResult.status, ScanStatus.OK, dockerResult.error);
    assert.equal(dockerResult.error, '');
    const findings = findingsOf(dockerResult);
    assert.deepEqual(
      dockerResult.findingIds,
      findings.map((f) => f.id),
      'one FindingReported per finding id, in the same order',
    );
    assert.equal(new Set(dockerResult.findingIds).size, dockerResult.findingIds!.length, 'finding ids are unique');
    assert.equal(dockerResult.counts?.total, findings.length);

    // DSA-5532-1 (CVE-2023-5363) on both binary packages of source openssl, installed below its fixed version.
    const dsa = record('DSA-5532-1');
    const opensslFixed = fixedVersion(dsa);
    assert.equal(opensslFixed, '3.0.11-1~deb12u2');
    assert.equal(dpkgVersion('libssl3'), '3.0.11-1~deb12u1');
    assert.equal(dpkgVersion('openssl'), '3.0.11-1~deb12u1');
    const libssl = vulnerability(findings, 'DSA-5532-1', 'pkg:deb/debian/libssl3?');
    assert.equal(libssl.ruleId, dsa.aliases![0]);
    assert.equal(libssl.ruleId, 'CVE-2023-5363');
    assert.equal(libssl.severity, Severity.HIGH);
    assert.equal(evidence(libssl, 'ecosystem'), 'Debian:12');
    assert.equal(evidence(libssl, 'fix-state'), 'fixed');
    assert.ok(libssl.locations.includes('/usr/lib/x86_64-linux-gnu/libssl.so.3'), libssl.locations.join(', '));
    assert.ok(libssl.locations.includes('/var/lib/dpkg/status'));
    assert.equal(
      libssl.remediation?.patch,
      `RUN apt-get update && apt-get install -y --only-upgrade libssl3=${opensslFixed} openssl=${opensslFixed} && rm -rf /var/lib/apt/lists/*`,
    );
    assert.equal(libssl.asset?.imageRef, IMAGE_REF);
    assert.equal(libssl.asset?.cluster, 'spec');
    const openssl = vulnerability(findings, 'DSA-5532-1', 'pkg:deb/debian/openssl?');
    assert.match(openssl.remediation?.patch ?? '', new RegExp(`openssl=${opensslFixed.replace(/[+~.]/g, '\\$&')} libssl3=`));

    // DSA-5770-1 lists three CVEs; each is its own finding on libexpat1.
    const expat = findings.filter((f) => f.aliases.includes('DSA-5770-1'));
    assert.deepEqual(expat.map((f) => f.ruleId).sort(), ['CVE-2024-45490', 'CVE-2024-45491', 'CVE-2024-45492']);
    const expatFixed = fixedVersion(record('DSA-5770-1'));
    for (const f of expat) assert.match(f.remediation?.patch ?? '', new RegExp(`libexpat1=${expatFixed.replace(/[+.]/g, '\\$&')} `));

    // npm: the GHSA records against /app/package-lock.json, each with the record's fixed version.
    assert.equal(lockVersion('lodash'), '4.17.20');
    const lodashFixed = fixedVersion(record('GHSA-35jh-r3h4-6jhm'));
    const lodash = vulnerability(findings, 'GHSA-35jh-r3h4-6jhm', 'pkg:npm/lodash');
    assert.equal(lodash.ruleId, 'CVE-2021-23337');
    assert.deepEqual(lodash.locations, ['/app/package-lock.json']);
    assert.equal(lodash.remediation?.patch, `npm install lodash@^${lodashFixed}`);
    assert.equal(lockVersion('minimist'), '1.2.5');
    const minimist = vulnerability(findings, 'GHSA-xvch-5gv4-984h', 'pkg:npm/minimist');
    assert.equal(minimist.severity, Severity.CRITICAL);
    assert.equal(minimist.remediation?.patch, `npm install minimist@^${fixedVersion(record('GHSA-xvch-5gv4-984h'))}`);
    assert.equal(lockVersion('jsonwebtoken'), '8.5.1');
    const jwt = vulnerability(findings, 'GHSA-qwph-4952-7xr6', 'pkg:npm/jsonwebtoken');
    assert.equal(jwt.remediation?.patch, `npm install jsonwebtoken@^${fixedVersion(record('GHSA-qwph-4952-7xr6'))}`);

    // Every record matched something in this image: the example is built so that none is left over.
    for (const r of records)
      assert.ok(findings.some((f) => f.aliases.includes(r.id)), `no finding from ${r.id}`);

    // The image config: no User (build.mjs says so), a literal credential in Env, a reference by tag only.
    const rules = findings.filter((f) => f.ruleId.startsWith('image/')).map((f) => f.ruleId).sort();
    assert.deepEqual(rules, ['image/mutable-tag', 'image/runs-as-root', 'image/secrets-in-env']);
    const root = findings.find((f) => f.ruleId === 'image/runs-as-root')!;
    assert.equal(evidence(root, 'actual'), '(unset)');
    const secret = findings.find((f) => f.ruleId === 'image/secrets-in-env')!;
    assert.equal(evidence(secret, 'variable'), 'ACQUIRER_API_KEY');

    // The inventory: the image by its config digest (a docker archive has no manifest digest), distro from os-release.
    const inventory = (dockerResult.events ?? []).filter((e) => e.payload.case === 'inventoryObserved');
    assert.equal(inventory.length, 1);
    const payload = inventory[0]!.payload;
    const item =
      payload.case === 'inventoryObserved' ? create(InventoryObservedSchema, payload.value).items[0]?.item : undefined;
    assert.equal(item?.case, 'image');
    if (item?.case !== 'image') return;
    assert.equal(item.value.ref, IMAGE_REF);
    assert.match(item.value.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(item.value.digest, libssl.asset?.imageDigest);
    assert.equal(item.value.distro, 'debian 12.2');
    assert.equal(item.value.architecture, 'amd64');
    assert.equal(inventory[0]!.subjectKey, item.value.digest);
    assert.equal(dockerResult.target?.ref.case === 'image' ? dockerResult.target.ref.value.archivePath : '', dockerArchive);
    assert.deepEqual(
      dockerResult.units?.map((u) => u.id),
      ['dpkg', 'npm', 'osv-matcher', 'image-config-checks'],
    );
  });

  it('the OCI layout of the same image gives the same finding ids', async () => {
    const result = await engine.scan(request('oci', ociLayout));
    assert.equal(result.status, ScanStatus.OK, result.error);
    assert.deepEqual([...result.findingIds!].sort(), [...dockerResult.findingIds!].sort());
    // The OCI layout has a manifest, so the scanned target names the manifest digest.
    const target = result.target?.ref.case === 'image' ? result.target.ref.value : undefined;
    const manifestDigest = (
      JSON.parse(readFileSync(join(ociLayout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] }
    ).manifests[0]!.digest;
    assert.equal(target?.digest, manifestDigest);
    assert.equal(target?.ref, IMAGE_REF);
  });

  it('a second scan of the same digest is served from the cache: same ids, the first scan\'s report', async () => {
    // The clock moves on between the scans: a report computed again would carry the new time as first_seen, the
    // cached one keeps the time of the first scan.
    clock.advance(3_600_000);
    const again = await engine.scan(request('docker-again', dockerArchive));
    assert.equal(again.status, ScanStatus.OK, again.error);
    assert.deepEqual(again.findingIds, dockerResult.findingIds);
    const seconds = (r: ScanResult) => findingsOf(r).map((f) => Number(f.firstSeen?.seconds));
    assert.deepEqual(seconds(again), seconds(dockerResult));
    assert.ok(seconds(again).every((s) => s === Date.parse('2026-12-01T00:00:00Z') / 1000));
    assert.ok(
      findingsOf(again).length > 0 &&
        (again.events ?? []).every((e) => e.payload.case !== 'findingReported' || e.payload.value.scanId === 'docker-again'),
      'cached findings are reported under the new scan id',
    );

    const fresh = imageScannerEngine({ sql, clock });
    const uncached = await fresh.scan(request('docker-fresh', dockerArchive));
    assert.deepEqual(uncached.findingIds, dockerResult.findingIds, 'a fresh engine computes the same ids');
    assert.ok(seconds(uncached).every((s) => s === Date.parse('2026-12-01T01:00:00Z') / 1000), 'and is not cached');
  });

  it('hostile archives fail the scan with an error naming the image, and the next scan still works', async () => {
    const status = readFileSync(join(ROOTFS, 'var/lib/dpkg/status'));
    const osRelease = readFileSync(join(ROOTFS, 'etc/os-release'));
    const layers = [
      { files: [{ path: 'etc/os-release', content: osRelease }] },
      { files: [{ path: 'var/lib/dpkg/status', content: status }] },
    ];
    const mismatch = join(tmp, 'digest-mismatch.tar');
    await writeTestImage(mismatch, {
      format: 'docker-archive',
      dockerLayout: 'blobs',
      repoTag: 'registry.example.com/acme/hostile:digest',
      layers,
      corrupt: { layerDigest: 1 },
    });
    const truncated = join(tmp, 'truncated.tar');
    const truncatedImage = await writeTestImage(truncated, {
      format: 'docker-archive',
      repoTag: 'registry.example.com/acme/hostile:truncated',
      layers: layers.map((l) => ({ ...l, compression: 'gzip' as const })),
      corrupt: { truncateLayer: 1 },
    });
    const diffId = join(tmp, 'diff-id.tar');
    const diffIdImage = await writeTestImage(diffId, {
      format: 'docker-archive',
      repoTag: 'registry.example.com/acme/hostile:diffid',
      layers,
      corrupt: { diffId: 1 },
    });
    for (const [path, problem] of [
      [mismatch, /: layer 2 \(sha256:0{64}\): blob digest mismatch: expected sha256:0{64}, got sha256:[0-9a-f]{64}$/],
      // Errors count layers from 1, as the findings do; the corrupt option indexes them from 0.
      [truncated, new RegExp(`: layer 2 \\(${truncatedImage.layers[1]!.digest}\\): corrupt or truncated gzip data`)],
      [diffId, new RegExp(`: layer 2 \\(${diffIdImage.layers[1]!.digest}\\): diff_id mismatch: expected sha256:0{64}, got ${diffIdImage.layers[1]!.diffId}$`)],
    ] as const) {
      const result = await engine.scan(request(`hostile-${path}`, path));
      assert.equal(result.status, ScanStatus.FAILED, `${path}: ${result.status} ${result.error}`);
      assert.ok(result.error.startsWith(`${path}: `), `the error names the image: ${result.error}`);
      assert.match(result.error, problem);
      assert.equal(result.findingIds, undefined);
    }

    const after = await engine.scan(request('after-hostile', ociLayout));
    assert.equal(after.status, ScanStatus.OK, after.error);
    assert.deepEqual([...after.findingIds!].sort(), [...dockerResult.findingIds!].sort());
  });

  it('a registry request whose pull-secrets option is not namespace/name fails naming the option', async () => {
    const withAuth = imageScannerEngine({ sql, clock, registryAuth: new RegistryAuth() });
    const result = await withAuth.scan(
      create(ScanRequestedSchema, {
        scanId: 'bad-pull-secrets',
        scanner: ScannerKind.IMAGE,
        scope: { cluster: 'int-spec' },
        target: { kind: TargetKind.IMAGE, key: IMAGE_REF, ref: { case: 'image', value: { ref: IMAGE_REF } } },
        options: { 'pull-secrets': 'acme-registry' },
      }),
    );
    assert.deepEqual(result, {
      status: ScanStatus.FAILED,
      error: 'scan bad-pull-secrets: option pull-secrets: "acme-registry" is not namespace/name of a Secret',
    });
  });
});
