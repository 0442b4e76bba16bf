// OSV parsing, dump reading, merging, the severity policy, fix states and enrichment, on the corpus's real records
// (../shared/corpus/image/advisories/records) and small real-shaped fixtures.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Severity } from '@vigil/contracts';
import { corpusPath } from '@vigil/testing';
import type { ExtractedPackage } from '../analyzers/analyzer.js';
import { loadEpss, loadKevCatalog, parseEpss, parseKevCatalog } from './enrichment.js';
import { cvesOf, matchPackages } from './match.js';
import { MemoryAdvisoryStore } from './memory-store.js';
import { DumpError, forEachDumpBatch, readOsvDump } from './osv-dump.js';
import { InvalidAdvisoryError, parseOsvRecord } from './osv-record.js';
import { SEVERITY_POLICY, chooseSeverity, scoreCvss } from './severity.js';
import { buildZip } from './zip-fixture.js';

const recordsDir = corpusPath('image', 'advisories', 'records');
const recordText = (file: string) => readFileSync(join(recordsDir, file), 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'vigil-vulndb-'));

function pkg(ecosystem: string, name: string, version: string, source?: [string, string]): ExtractedPackage {
  return {
    ecosystem,
    name,
    version,
    ...(source ? { sourceName: source[0], sourceVersion: source[1] } : {}),
    purl: `pkg:generic/${name}@${version}`,
    installedFiles: [],
    location: 'spec',
    foundBy: { id: 'spec', version: 1 },
  };
}

let corpus: MemoryAdvisoryStore;
before(async () => {
  corpus = new MemoryAdvisoryStore();
  await corpus.loadDump(recordsDir, { source: 'corpus' });
});

describe('parseOsvRecord', () => {
  it('reads a real record with every list filled in', () => {
    const r = parseOsvRecord(recordText('USN-5328-1.json'), 'USN-5328-1.json');
    assert.equal(r.id, 'USN-5328-1');
    assert.deepEqual(r.aliases, []);
    assert.deepEqual(r.upstream, ['UBUNTU-CVE-2022-0778']);
    assert.equal(r.affected[0]!.package!.ecosystem, 'Ubuntu:18.04:LTS');
    assert.ok(r.affected[0]!.versions.length > 10);
    assert.ok(r.references.length > 0);
  });

  it('keeps a record with "affected": [] (SUSE-SU-2015:0011-2) and a GIT-only entry (CVE-2016-10012)', () => {
    assert.deepEqual(parseOsvRecord(recordText('SUSE-SU-2015_0011-2.json'), 's').affected, []);
    const cve = parseOsvRecord(recordText('CVE-2016-10012.json'), 'c');
    assert.ok(cve.affected.some((a) => !a.package && a.ranges[0]!.type === 'GIT'));
  });

  it('names the file and the problem for invalid records', () => {
    const bad: [unknown, RegExp][] = [
      ['{not json', /^x\.json: not JSON/],
      ['[]', /^x\.json: an OSV record is a JSON object/],
      [{ modified: '2024-01-01T00:00:00Z' }, /^x\.json: "id" is missing/],
      [{ id: 'A-1' }, /^x\.json: "modified" is missing or not a string \(A-1\)/],
      [{ id: 'A-1', modified: 'yesterday' }, /"modified" is not an RFC 3339 timestamp/],
      [{ id: 'A-1', modified: '2024-01-01T00:00:00Z', affected: {} }, /"affected" is not a list/],
      [
        { id: 'A-1', modified: '2024-01-01T00:00:00Z', affected: [{ package: { name: 'x' } }] },
        /affected\[0\]\.package\.ecosystem is missing/,
      ],
      [
        {
          id: 'A-1',
          modified: '2024-01-01T00:00:00Z',
          affected: [
            {
              package: { ecosystem: 'npm', name: 'x' },
              ranges: [{ type: 'SEMVER', events: [{ introduced: '0', fixed: '1' }] }],
            },
          ],
        },
        /affected\[0\]\.ranges\[0\]\.events\[0\] must have exactly one of/,
      ],
      [
        { id: 'A-1', modified: '2024-01-01T00:00:00Z', aliases: ['x', 3] },
        /"aliases" is not a list of strings/,
      ],
      [
        { id: 'A-1', modified: '2024-01-01T00:00:00Z', severity: [{ type: 'CVSS_V3' }] },
        /severity\[0\] has no string "score"/,
      ],
    ];
    for (const [input, re] of bad) {
      assert.throws(
        () => parseOsvRecord(typeof input === 'string' ? input : JSON.stringify(input), 'x.json'),
        (err: Error) => err instanceof InvalidAdvisoryError && re.test(err.message),
        `${JSON.stringify(input)} should fail with ${re}`,
      );
    }
  });
});

describe('readOsvDump', () => {
  const good = ['GHSA-hrpp-h998-j3pp.json', 'PYSEC-2023-74.json', 'DLA-3008-1.json'];

  it('streams an OSV ecosystem zip, reporting bad members and loading the good ones', async () => {
    const path = join(tmp, 'all.zip');
    writeFileSync(
      path,
      buildZip([
        ...good.map((f) => ({ name: f.replace(/_/g, ':'), data: recordText(f) })),
        { name: 'BROKEN-1.json', data: '{"id": "BROKEN-1"' },
        { name: 'NOID-1.json', data: '{"modified": "2024-01-01T00:00:00Z"}' },
        { name: 'README.txt', data: 'not a record' },
      ]),
    );
    const store = new MemoryAdvisoryStore();
    const summary = await store.loadDump(path);
    assert.equal(summary.records, 3);
    assert.equal(summary.invalid, 2);
    assert.match(summary.invalidExamples[0]!, /^all\.zip:BROKEN-1\.json: not JSON/);
    assert.match(summary.invalidExamples[1]!, /^all\.zip:NOID-1\.json: "id" is missing/);
    const info = await store.info();
    assert.equal(info.records, 3);
    assert.equal(info.sources[0]!.name, path);
    // DLA-3008-1 is the newest of the three.
    assert.equal(info.sources[0]!.newestRecord?.toISOString(), '2026-03-09T01:23:33.375Z');
  });

  it('caps member size: an oversized member is reported, a lying header fails the archive', async () => {
    const big = join(tmp, 'big.zip');
    writeFileSync(
      big,
      buildZip([
        { name: 'HUGE-1.json', data: ' '.repeat(200_000) },
        { name: 'ok.json', data: recordText(good[0]!) },
      ]),
    );
    const entries: string[] = [];
    for await (const e of readOsvDump(big, { maxRecordBytes: 100_000 }))
      entries.push('error' in e ? e.error : e.record.id);
    assert.match(entries[0]!, /HUGE-1\.json: member inflates to 200000 bytes, over the 100000-byte limit/);
    assert.equal(entries[1], 'GHSA-hrpp-h998-j3pp');

    const liar = join(tmp, 'liar.zip');
    writeFileSync(liar, buildZip([{ name: 'BOMB-1.json', data: ' '.repeat(500_000), claimedSize: 100 }]));
    await assert.rejects(
      forEachDumpBatch(liar, () => undefined, { maxRecordBytes: 100_000 }),
      (err: Error) => err instanceof DumpError && /liar\.zip: member BOMB-1\.json:/.test(err.message),
    );
  });

  it('rejects what is not a dump, naming it', async () => {
    const junk = join(tmp, 'junk.bin');
    writeFileSync(junk, 'hello');
    await assert.rejects(
      forEachDumpBatch(junk, () => undefined),
      /junk\.bin: neither a zip archive/,
    );
    const truncated = join(tmp, 'truncated.zip');
    writeFileSync(truncated, buildZip([{ name: 'a.json', data: recordText(good[0]!) }]).subarray(0, 60));
    await assert.rejects(
      forEachDumpBatch(truncated, () => undefined),
      (e: Error) => e instanceof DumpError,
    );
    await assert.rejects(
      forEachDumpBatch(join(tmp, 'missing'), () => undefined),
      /missing: cannot read: ENOENT/,
    );
  });

  it('reads a directory tree recursively', async () => {
    const dir = join(tmp, 'tree');
    mkdirSync(join(dir, 'npm', 'qs'), { recursive: true });
    writeFileSync(join(dir, 'npm', 'qs', 'GHSA-hrpp-h998-j3pp.json'), recordText('GHSA-hrpp-h998-j3pp.json'));
    writeFileSync(join(dir, 'PYSEC-2023-74.json'), recordText('PYSEC-2023-74.json'));
    const ids: string[] = [];
    for await (const e of readOsvDump(dir)) if ('record' in e) ids.push(e.record.id);
    assert.deepEqual(ids.sort(), ['GHSA-hrpp-h998-j3pp', 'PYSEC-2023-74']);
  });
});

describe('MemoryAdvisoryStore', () => {
  it('replaces a record only with a newer modified, and the build changes with the data', async () => {
    const r = parseOsvRecord(recordText('GHSA-hrpp-h998-j3pp.json'), 'r');
    const store = new MemoryAdvisoryStore();
    store.add([r], 'a');
    const b1 = (await store.info()).build;
    assert.equal(store.add([{ ...r, modified: '2020-01-01T00:00:00Z', summary: 'older' }], 'a'), 0);
    assert.equal((await store.info()).build, b1);
    assert.equal(store.add([{ ...r, modified: '2030-01-01T00:00:00Z', summary: 'newer' }], 'a'), 1);
    assert.notEqual((await store.info()).build, b1);
    const [got] = (await store.lookup([{ ecosystem: 'npm', name: 'qs' }])) as { summary: string }[];
    assert.equal(got!.summary, 'newer');
  });
});

describe('merging records of one vulnerability', () => {
  it('one match per CVE: the per-CVE Ubuntu record and the USN merge, CVE id first', async () => {
    const ms = await matchPackages(
      [pkg('Ubuntu:18.04:LTS', 'gzip', '1.6-5ubuntu1', ['gzip', '1.6-5ubuntu1'])],
      corpus,
    );
    assert.equal(ms.length, 1);
    assert.equal(ms[0]!.vulnerabilityId, 'CVE-2022-1271');
    assert.deepEqual(ms[0]!.records, ['UBUNTU-CVE-2022-1271', 'USN-5378-1']);
    assert.deepEqual(ms[0]!.aliases, ['UBUNTU-CVE-2022-1271', 'USN-5378-1']);
    assert.equal(ms[0]!.fixedVersion, '1.6-5ubuntu1.2');
  });

  it("a notice fixing several CVEs is one match per CVE, each merged with that CVE's own record", async () => {
    const ms = await matchPackages(
      [pkg('Ubuntu:18.04:LTS', 'libprocps6', '3.3.12-3ubuntu1.1', ['procps', '3.3.12-3ubuntu1.1'])],
      corpus,
    );
    assert.deepEqual(
      ms.map((m) => m.vulnerabilityId),
      ['CVE-2018-1122', 'CVE-2018-1123', 'CVE-2018-1124', 'CVE-2018-1125', 'CVE-2018-1126'],
    );
    const c1124 = ms.find((m) => m.vulnerabilityId === 'CVE-2018-1124')!;
    assert.deepEqual(c1124.records, ['UBUNTU-CVE-2018-1124', 'USN-3658-1']);
    assert.deepEqual(c1124.aliases, ['UBUNTU-CVE-2018-1124', 'USN-3658-1']);
    assert.equal(
      ms.find((m) => m.vulnerabilityId === 'CVE-2018-1122')!.aliases.includes('UBUNTU-CVE-2018-1124'),
      false,
    );
    assert.ok(ms.every((m) => m.matchType === 'source' && m.package.name === 'libprocps6'));
  });

  it('RustSec and GitHub copies merge through a shared alias, with or without a CVE', async () => {
    const [time] = await matchPackages([pkg('crates.io', 'time', '0.1.43')], corpus);
    assert.equal(time!.vulnerabilityId, 'CVE-2020-26235');
    assert.deepEqual(time!.aliases, ['GHSA-wcg3-cvx6-7396', 'RUSTSEC-2020-0071']);
    const [rda] = await matchPackages([pkg('crates.io', 'remove_dir_all', '0.7.0')], corpus);
    assert.equal(rda!.vulnerabilityId, 'GHSA-mc8h-8q98-g5hr');
    assert.deepEqual(rda!.records, ['GHSA-mc8h-8q98-g5hr', 'RUSTSEC-2023-0018']);
  });

  it("CVE ids from aliases, upstream, embedded ids and distro advisories' related lists", () => {
    const rec = (f: string) => parseOsvRecord(recordText(f), f);
    assert.deepEqual(cvesOf(rec('DLA-3008-1.json')), ['CVE-2022-1292']);
    assert.deepEqual(cvesOf(rec('USN-5328-1.json')), ['CVE-2022-0778']);
    assert.deepEqual(cvesOf(rec('UBUNTU-CVE-2022-1664.json')), ['CVE-2022-1664']);
    assert.deepEqual(cvesOf(rec('ALSA-2023_4520.json')), ['CVE-2023-32681']);
    // GO-2024-3106 names CVE-2022-30635 as related: a different flaw, not an alias.
    assert.deepEqual(cvesOf(rec('GO-2024-3106.json')), ['CVE-2024-34156']);
    assert.deepEqual(cvesOf(rec('DSA-5474-1.json')), []);
  });
});

describe('distro matching rules', () => {
  it('an OS package is matched on its source package, only in its own release', async () => {
    const [m] = await matchPackages(
      [pkg('Alpine:v3.18', 'musl-utils', '1.2.4-r0', ['musl', '1.2.4-r0'])],
      corpus,
    );
    assert.equal(m!.vulnerabilityId, 'CVE-2025-26519');
    assert.equal(m!.matchType, 'source');
    assert.equal(m!.fixedVersion, '1.2.4-r3');
    assert.equal(m!.matchedRange, 'Alpine:v3.18 >= 0.9.13, < 1.2.4-r3');
    assert.deepEqual(await matchPackages([pkg('Debian:10', 'dpkg', '1.18.25')], corpus), []);
  });

  it('withdrawn records never match (unless withdrawn after "now")', async () => {
    const tpp = pkg('Ubuntu:14.04:LTS', 'tpp', '1.3.1-2', ['tpp', '1.3.1-2']);
    assert.deepEqual(await matchPackages([tpp], corpus), []);
    const before = await matchPackages([tpp], corpus, { now: new Date('2025-01-01T00:00:00Z') });
    assert.deepEqual(
      before.map((m) => m.records),
      [['UBUNTU-CVE-2013-2208']],
    );
  });

  it('Ubuntu Pro: a Pro host also gets the Ubuntu:Pro:<release> entries', async () => {
    const dpkg = pkg('Ubuntu:18.04:LTS', 'dpkg', '1.19.0.5ubuntu2', ['dpkg', '1.19.0.5ubuntu2']);
    assert.deepEqual(
      (await matchPackages([dpkg], corpus)).map((m) => m.vulnerabilityId),
      ['CVE-2022-1664'],
    );
    const pro = await matchPackages([dpkg], corpus, { ubuntuPro: true });
    assert.deepEqual(
      pro.map((m) => m.vulnerabilityId),
      ['CVE-2022-1664', 'CVE-2025-6297'],
    );
    assert.equal(pro[1]!.matchedRange, 'Ubuntu:Pro:18.04:LTS >= 0');
  });
});

describe('fix state and fixed version', () => {
  it('Debian 12 without a fix while Debian 13 has one (CVE-2024-10524)', async () => {
    const [d12] = await matchPackages([pkg('Debian:12', 'wget', '1.21.3-1+deb12u1')], corpus);
    assert.equal(d12!.fixState, 'affected');
    assert.equal(d12!.fixedVersion, undefined);
    assert.deepEqual(d12!.vendorRatings, [{ source: 'debian', rating: 'not yet assigned' }]);
    const [d13] = await matchPackages([pkg('Debian:13', 'wget', '1.24.5-2')], corpus);
    assert.equal(d13!.fixState, 'fixed');
    assert.equal(d13!.fixedVersion, '1.25.0-1');
  });

  it('the lowest fix above the installed version, among several fix lines (qs)', async () => {
    const got = await matchPackages(
      [pkg('npm', 'qs', '6.2.3'), pkg('npm', 'qs', '6.5.2'), pkg('npm', 'qs', '6.10.2')],
      corpus,
    );
    assert.deepEqual(
      got.map((m) => m.fixedVersion),
      ['6.2.4', '6.5.3', '6.10.3'],
    );
    assert.equal(got[0]!.fixPublished?.toISOString(), '2022-11-27T00:30:50.000Z');
  });

  it('no fix, last_affected only, and a stated "will not fix"', async () => {
    const store = new MemoryAdvisoryStore();
    const base = { modified: '2025-01-01T00:00:00Z', published: '2024-12-01T00:00:00Z' };
    store.add(
      [
        parseOsvRecord(
          {
            ...base,
            id: 'GHSA-aaaa-bbbb-cccc',
            aliases: ['CVE-2099-0001'],
            affected: [
              {
                package: { ecosystem: 'npm', name: 'left' },
                ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }],
              },
            ],
          },
          'a',
        ),
        parseOsvRecord(
          {
            ...base,
            id: 'GHSA-dddd-eeee-ffff',
            affected: [
              {
                package: { ecosystem: 'npm', name: 'right' },
                ranges: [{ type: 'SEMVER', events: [{ introduced: '1.0.0' }, { last_affected: '1.4.0' }] }],
              },
            ],
          },
          'b',
        ),
        parseOsvRecord(
          {
            ...base,
            id: 'RHSA-2099:0001',
            related: ['CVE-2099-0002'],
            affected: [
              {
                package: { ecosystem: 'Red Hat:enterprise_linux:9::baseos', name: 'kernel' },
                ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }],
                ecosystem_specific: { status: 'Will not fix' },
              },
            ],
          },
          'c',
        ),
      ],
      'synthetic',
    );
    const got = await matchPackages(
      [
        pkg('npm', 'left', '2.0.0'),
        pkg('npm', 'right', '1.2.0'),
        pkg('Red Hat:enterprise_linux:9::baseos', 'kernel', '5.14.0-70.el9'),
      ],
      store,
    );
    assert.deepEqual(
      got.map((m) => [m.vulnerabilityId, m.fixState, m.matchedRange]),
      [
        ['CVE-2099-0001', 'no_fix', 'npm >= 0'],
        ['GHSA-dddd-eeee-ffff', 'unknown', 'npm >= 1.0.0, <= 1.4.0'],
        ['CVE-2099-0002', 'will_not_fix', 'Red Hat:enterprise_linux:9::baseos >= 0'],
      ],
    );
  });
});

describe('severity policy', () => {
  it('documents an order for OS and language packages', () => {
    assert.equal(SEVERITY_POLICY.os[0], 'distro');
    assert.equal(SEVERITY_POLICY.language[0], 'cvss:4.0');
  });

  it('OS packages: the distro rating, even when CVSS says otherwise', async () => {
    const [ossl] = await matchPackages(
      [
        pkg('Ubuntu:18.04:LTS', 'libssl1.1', '1.1.1-1ubuntu2.1~18.04.14', [
          'openssl',
          '1.1.1-1ubuntu2.1~18.04.14',
        ]),
      ],
      corpus,
    );
    assert.equal(ossl!.vulnerabilityId, 'CVE-2022-0778');
    assert.equal(ossl!.severity, Severity.HIGH);
    assert.equal(ossl!.severitySource, 'ubuntu');
    // The CVSS 3.1 vector of the notice's cves_map, scored.
    assert.deepEqual(ossl!.cvss, [
      {
        version: '3.1',
        vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H',
        score: 7.5,
        source: 'ubuntu',
      },
    ]);
    const [dpkg] = await matchPackages(
      [pkg('Ubuntu:18.04:LTS', 'dpkg', '1.19.0.5ubuntu2', ['dpkg', '1.19.0.5ubuntu2'])],
      corpus,
    );
    assert.equal(dpkg!.cvss[0]!.score, 9.8);
    assert.equal(dpkg!.severity, Severity.MEDIUM);
    assert.equal(dpkg!.severitySource, 'ubuntu');
    const [odbc] = await matchPackages([pkg('Debian:10', 'unixodbc', '2.3.6-0.1')], corpus);
    assert.equal(odbc!.severity, Severity.LOW);
    assert.equal(odbc!.severitySource, 'debian');
    const [maria] = await matchPackages(
      [pkg('AlmaLinux:8', 'mariadb', '3:10.3.35-1.module_el8.6.0+2866+5fa5ec1c')],
      corpus,
    );
    assert.equal(maria!.severity, Severity.MEDIUM);
    assert.equal(maria!.severitySource, 'almalinux');
  });

  it('OS packages without a distro rating fall back to CVSS; the API copy of an Ubuntu priority has no type', async () => {
    const [musl] = await matchPackages(
      [pkg('Alpine:v3.18', 'musl', '1.2.4-r0', ['musl', '1.2.4-r0'])],
      corpus,
    );
    assert.equal(musl!.severitySource, 'cvss:3.1');
    assert.equal(musl!.severity, Severity.HIGH);
    const [p] = await matchPackages(
      [pkg('Ubuntu:Pro:18.04:LTS', 'dpkg', '1.19.0.5ubuntu2', ['dpkg', '1.19.0.5ubuntu2'])],
      corpus,
    );
    assert.equal(p!.vulnerabilityId, 'CVE-2025-6297');
    assert.deepEqual([p!.severity, p!.severitySource], [Severity.LOW, 'ubuntu']);
  });

  it("language packages: CVSS, then the database's word, else UNKNOWN", async () => {
    const [qs] = await matchPackages([pkg('npm', 'qs', '6.5.2')], corpus);
    assert.deepEqual([qs!.severity, qs!.severitySource], [Severity.HIGH, 'cvss:3.1']);
    const [rda] = await matchPackages([pkg('crates.io', 'remove_dir_all', '0.7.0')], corpus);
    assert.deepEqual([rda!.severity, rda!.severitySource], [Severity.LOW, 'ghsa']);
    const [go] = await matchPackages([pkg('Go', 'stdlib', 'v1.22.5')], corpus);
    assert.deepEqual([go!.severity, go!.severitySource], [Severity.UNKNOWN, 'none']);
  });

  it('CVSS v4.0 before v3.x, and v2 last', () => {
    const v3 = scoreCvss('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'nvd')!;
    const v4 = scoreCvss('CVSS:4.0/AV:N/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N', 'ghsa')!;
    const v2 = scoreCvss('AV:N/AC:L/Au:N/C:C/I:C/A:C', 'nvd')!;
    assert.equal(v3.score, 9.8);
    assert.equal(v2.version, '2.0');
    assert.equal(v2.score, 10);
    assert.ok(v4.score < 4);
    assert.deepEqual(
      chooseSeverity({ cvss: [v3, v4, v2], vendorRatings: [], advisoryRatings: [] }, 'language'),
      { severity: Severity.LOW, source: 'cvss:4.0' },
    );
    assert.deepEqual(chooseSeverity({ cvss: [v2], vendorRatings: [], advisoryRatings: [] }, 'language'), {
      severity: Severity.HIGH,
      source: 'cvss:2.0',
    });
    assert.equal(scoreCvss('CVSS:3.1/AV:Q', 'x'), undefined);
  });
});

describe('KEV and EPSS enrichment', () => {
  const kevJson = JSON.stringify({
    title: 'CISA Catalog of Known Exploited Vulnerabilities',
    catalogVersion: '2026.12.01',
    dateReleased: '2026-12-01T17:01:22.5427Z',
    count: 2,
    vulnerabilities: [
      {
        cveID: 'CVE-2022-24999',
        vendorProject: 'qs project',
        product: 'qs',
        vulnerabilityName: 'qs Prototype Pollution',
        dateAdded: '2026-11-20',
        shortDescription: 'qs before 6.10.3 allows prototype pollution.',
        requiredAction: 'Apply mitigations per vendor instructions or discontinue use of the product.',
        dueDate: '2026-12-11',
        knownRansomwareCampaignUse: 'Unknown',
        notes: 'https://nvd.nist.gov/vuln/detail/CVE-2022-24999',
        cwes: ['CWE-1321'],
      },
      {
        cveID: 'CVE-2022-0778',
        vendorProject: 'OpenSSL',
        product: 'OpenSSL',
        vulnerabilityName: 'OpenSSL Infinite Loop',
        dateAdded: '2026-10-01',
        shortDescription: 'BN_mod_sqrt() can loop forever for non-prime moduli.',
        requiredAction: 'Apply updates per vendor instructions.',
        dueDate: '2026-10-22',
        knownRansomwareCampaignUse: 'Known',
        notes: '',
        cwes: ['CWE-835'],
      },
    ],
  });
  const epssCsv = [
    '#model_version:v2025.03.14,score_date:2026-12-02T00:00:00+0000',
    'cve,epss,percentile',
    'CVE-2022-0778,0.04207,0.88215',
    'CVE-2022-24999,0.01234,0.79001',
  ].join('\n');

  it('parses the catalog and the CSV with its comment line, from files (gzip too)', async () => {
    const kevPath = join(tmp, 'known_exploited_vulnerabilities.json');
    writeFileSync(kevPath, kevJson);
    const epssPath = join(tmp, 'epss_scores-current.csv.gz');
    writeFileSync(epssPath, gzipSync(epssCsv));
    const kev = await loadKevCatalog(kevPath);
    assert.equal(kev.version, '2026.12.01');
    assert.deepEqual(kev.entries.get('CVE-2022-0778'), {
      dateAdded: '2026-10-01',
      dueDate: '2026-10-22',
      ransomware: true,
    });
    const epss = await loadEpss(epssPath);
    assert.equal(epss.model, 'v2025.03.14');
    assert.equal(epss.date, '2026-12-02T00:00:00+0000');
    assert.deepEqual(epss.scores.get('CVE-2022-24999'), { score: 0.01234, percentile: 0.79001 });

    const [ossl] = await matchPackages(
      [
        pkg('Ubuntu:18.04:LTS', 'libssl1.1', '1.1.1-1ubuntu2.1~18.04.14', [
          'openssl',
          '1.1.1-1ubuntu2.1~18.04.14',
        ]),
      ],
      corpus,
      { kev, epss },
    );
    assert.deepEqual(ossl!.knownExploited, {
      dateAdded: '2026-10-01',
      dueDate: '2026-10-22',
      ransomware: true,
    });
    assert.deepEqual(ossl!.epss, { score: 0.04207, percentile: 0.88215, date: '2026-12-02T00:00:00+0000' });
    const [go] = await matchPackages([pkg('Go', 'stdlib', 'v1.22.5')], corpus, { kev, epss });
    assert.equal(go!.knownExploited, undefined);
    assert.equal(go!.epss, undefined);
  });

  it('names the file and the problem for bad enrichment files', () => {
    assert.throws(
      () => parseKevCatalog('{"title": "x"}', 'kev.json'),
      /^Error: kev\.json: not a KEV catalog|kev\.json: not a KEV catalog/,
    );
    assert.throws(
      () => parseKevCatalog('{"vulnerabilities": [{"cveID": "nope"}]}', 'kev.json'),
      /kev\.json: vulnerabilities\[0\] has no valid "cveID"/,
    );
    assert.throws(
      () => parseEpss('cve,score\n', 'e.csv'),
      /e\.csv: line 1: expected a header "cve,epss,percentile"/,
    );
    assert.throws(
      () => parseEpss('cve,epss,percentile\nCVE-2022-0778,high,0.1\n', 'e.csv'),
      /e\.csv: line 2: not "CVE-id,score,percentile"/,
    );
  });
});
