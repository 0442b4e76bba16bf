// The CycloneDX SBOM of real analyzer output: the packages extractPackages finds in the corpus's Debian 12 root
// (dpkg status + info files) with an npm lockfile placed at /app, and the corpus's Alpine 3.18 root (licenses).
//
// Schema check: the real CycloneDX 1.6 JSON schema (../shared/schemas/cyclonedx/1.6, with its spdx and jsf
// schemas), compiled by ajv 8 with ajv-formats; the two formats ajv-formats lacks (iri-reference, idn-email) are
// defined below.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { PackageURL } from 'packageurl-js';
import { Severity } from '@vigil/contracts';
import { corpusPath, repoRoot } from '@vigil/testing';
import type { FileEntry } from '../analyzers/analyzer.js';
import { extractPackages } from '../analyzers/extract.js';
import type { VulnerabilityMatch } from '../vulndb/match.types.js';
import { MemoryAdvisoryStore } from '../vulndb/memory-store.js';
import { ROOTFS_SKIP, directoryDigest, readDirectory } from '../scan/directory.js';
import { scanFiles, type ScanReport } from '../scan/scan.js';
import {
  cycloneDxSbom,
  serialNumberOf,
  SBOM_PROPERTY,
  toCycloneDx,
  type SbomInput,
  type SbomPackage,
} from './cyclonedx.js';

type Json = Record<string, unknown>;

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

function rootFiles(root: string, prefix = ''): FileEntry[] {
  return walk(root).map((abs) => ({
    path: prefix + relative(root, abs),
    read: async () => new Uint8Array(readFileSync(abs)),
  }));
}

const schemaDir = join(repoRoot(), '..', 'shared', 'schemas', 'cyclonedx', '1.6');
const ajv = new Ajv({ allErrors: true, strict: false, logger: false });
// ajv-formats is CommonJS: under NodeNext its default import is the module object.
const addFormats = addFormatsModule as unknown as { default: (a: Ajv) => void };
addFormats.default(ajv);
ajv.addFormat('iri-reference', (s: string) => {
  try {
    new URL(s, 'http://base.invalid/');
    return true;
  } catch {
    return false;
  }
});
ajv.addFormat('idn-email', /^[^@\s]+@[^@\s]+$/);
ajv.addSchema(JSON.parse(readFileSync(join(schemaDir, 'spdx.schema.json'), 'utf8')) as object);
ajv.addSchema(JSON.parse(readFileSync(join(schemaDir, 'jsf-0.82.schema.json'), 'utf8')) as object);
const validateBom = ajv.compile(
  JSON.parse(readFileSync(join(schemaDir, 'bom-1.6.schema.json'), 'utf8')) as object,
);

function assertValid(doc: unknown): void {
  const ok = validateBom(doc);
  assert.ok(ok, `not valid CycloneDX 1.6: ${ajv.errorsText(validateBom.errors, { separator: '\n' })}`);
}

const MANIFEST = `sha256:${'4'.repeat(8)}${'0f'.repeat(28)}`;
const CONFIG = `sha256:${'c0'.repeat(32)}`;
const OS_LAYER = { index: 0, digest: `sha256:${'1a'.repeat(32)}`, diffId: `sha256:${'1d'.repeat(32)}` };
const APP_LAYER = { index: 1, digest: `sha256:${'2a'.repeat(32)}`, diffId: `sha256:${'2d'.repeat(32)}` };

async function debianImage(): Promise<SbomInput> {
  const files = [
    ...rootFiles(corpusPath('image', 'ospkg', 'dpkg-debian12-with-info-files', 'rootfs')),
    ...rootFiles(corpusPath('image', 'lockfiles', 'npm-lock-v3-peer'), 'app/').filter((f) =>
      f.path.endsWith('package-lock.json'),
    ),
  ];
  const { os, packages } = await extractPackages(files);
  return {
    target: {
      name: 'registry.example.com/shop/payment-api:1.4.2',
      repoTags: ['registry.example.com/shop/payment-api:1.4.2'],
      manifestDigest: MANIFEST,
      configDigest: CONFIG,
      os,
      architecture: 'amd64',
    },
    packages: packages.map((p): SbomPackage => ({
      ...p,
      layer: p.location.startsWith('app/') ? APP_LAYER : OS_LAYER,
    })),
  };
}

function components(doc: Json): Json[] {
  return doc['components'] as Json[];
}

function byName(doc: Json, name: string): Json {
  const c = components(doc).find((x) => x['name'] === name);
  assert.ok(c, `no component ${name}`);
  return c;
}

function prop(c: Json, name: string): string | undefined {
  return ((c['properties'] ?? []) as { name: string; value: string }[]).find((p) => p.name === name)?.value;
}

function dependsOn(doc: Json, ref: string): string[] {
  const d = (doc['dependencies'] as { ref: string; dependsOn?: string[] }[]).find((x) => x.ref === ref);
  assert.ok(d, `no dependency entry for ${ref}`);
  return d.dependsOn ?? [];
}

const clock = () => new Date('2026-03-01T10:00:00Z');

describe('CycloneDX SBOM of an image', () => {
  it('is valid CycloneDX 1.6 and describes the image, its OS and its packages', async () => {
    const input = await debianImage();
    const { document: doc, problems } = cycloneDxSbom(input, { clock, toolVersion: '0.1.0' });
    assertValid(doc);
    assert.deepEqual(problems, []);
    assert.equal(doc['specVersion'], '1.6');
    assert.equal(doc['serialNumber'], serialNumberOf(MANIFEST));

    const meta = doc['metadata'] as Json;
    assert.equal(meta['timestamp'], '2026-03-01T10:00:00.000Z');
    assert.deepEqual((meta['tools'] as Json)['components'], [
      { type: 'application', name: 'vigil', version: '0.1.0' },
    ]);
    const image = meta['component'] as Json;
    assert.equal(image['type'], 'container');
    assert.equal(image['name'], 'registry.example.com/shop/payment-api');
    const imagePurl = PackageURL.fromString(image['purl'] as string);
    assert.equal(imagePurl.type, 'oci');
    assert.equal(imagePurl.name, 'payment-api');
    assert.equal(imagePurl.version, MANIFEST);
    assert.deepEqual(
      { ...imagePurl.qualifiers },
      {
        arch: 'amd64',
        repository_url: 'registry.example.com/shop/payment-api',
        tag: '1.4.2',
      },
    );
    assert.equal(prop(image, SBOM_PROPERTY.imageConfigDigest), CONFIG);

    const os = byName(doc, 'debian');
    assert.equal(os['type'], 'operating-system');
    assert.equal(os['version'], '12');
    assert.equal(os['description'], 'Debian GNU/Linux 12 (bookworm)');

    // One component per package the analyzers reported: 1 dpkg + 5 npm, plus the OS.
    assert.equal(components(doc).length, input.packages.length + 1);
    assert.equal(input.packages.length, 6);

    const pam = byName(doc, 'libpam-runtime');
    assert.equal(pam['type'], 'library');
    assert.equal(pam['version'], '1.1.8-3.6');
    assert.equal(
      pam['purl'],
      'pkg:deb/debian/libpam-runtime@1.1.8-3.6?arch=all&distro=debian-12&upstream=pam',
    );
    assert.equal(pam['group'], undefined);
    assert.equal(pam['bom-ref'], `${pam['purl']}#var/lib/dpkg/status`);
    assert.equal(prop(pam, SBOM_PROPERTY.location), 'var/lib/dpkg/status');
    assert.equal(prop(pam, SBOM_PROPERTY.sourceName), 'pam');
    assert.equal(prop(pam, SBOM_PROPERTY.sourceVersion), '1.1.8-3.6');
    assert.equal(prop(pam, SBOM_PROPERTY.layerDigest), OS_LAYER.digest);
    assert.equal(prop(pam, SBOM_PROPERTY.layerDiffId), OS_LAYER.diffId);
    assert.equal(prop(pam, SBOM_PROPERTY.foundBy), 'dpkg@1');
    const installed = input.packages.find((p) => p.name === 'libpam-runtime')!.installedFiles;
    assert.ok(installed.length > 0);
    assert.deepEqual(
      (pam['evidence'] as Json)['occurrences'],
      [...installed].sort().map((f) => ({ location: `/${f}` })),
    );

    const lodash = byName(doc, 'lodash');
    assert.equal(lodash['purl'], 'pkg:npm/lodash@4.17.21');
    assert.equal(prop(lodash, SBOM_PROPERTY.relationship), 'direct');
    assert.equal(prop(lodash, SBOM_PROPERTY.layerDiffId), APP_LAYER.diffId);
    assert.deepEqual((lodash['evidence'] as Json)['occurrences'], [
      { location: '/app/package-lock.json', line: 30 },
    ]);

    // The graph: image → OS and the lockfile's direct dependencies; OS → its packages; indirect ones unattached.
    const imageDeps = dependsOn(doc, image['bom-ref'] as string);
    assert.deepEqual(imageDeps, [
      'os:debian@12',
      'pkg:npm/lodash@4.17.21#app/package-lock.json',
      'pkg:npm/winston-mail@2.0.0#app/package-lock.json',
    ]);
    assert.deepEqual(dependsOn(doc, 'os:debian@12'), [pam['bom-ref']]);
    assert.ok(!imageDeps.includes(byName(doc, 'mustache')['bom-ref'] as string));
    assert.equal(doc['vulnerabilities'], undefined);
  });

  it('is byte-identical for the same image whatever the package order, apart from the timestamp', async () => {
    const input = await debianImage();
    const a = toCycloneDx(input, { clock, toolVersion: '0.1.0' });
    const shuffled = { ...input, packages: [...input.packages].reverse() };
    const b = toCycloneDx(shuffled, { clock: () => new Date('2027-01-01T00:00:00Z'), toolVersion: '0.1.0' });
    assert.notEqual(a, b);
    const strip = (s: string) => s.replace(/"timestamp": "[^"]+"/, '"timestamp": ""');
    assert.equal(strip(a), strip(b));
    // The serial follows the image: another digest, another serial; a local archive without a manifest uses its
    // config digest.
    const other = cycloneDxSbom(
      { ...input, target: { ...input.target, manifestDigest: undefined } },
      { clock },
    );
    assert.equal(other.document['serialNumber'], serialNumberOf(CONFIG));
    assert.notEqual(serialNumberOf(CONFIG), serialNumberOf(MANIFEST));
    assert.match(
      serialNumberOf(MANIFEST),
      /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('keeps a package whose purl does not parse, without the purl, and reports it', async () => {
    const input = await debianImage();
    const broken = input.packages.map((p) =>
      p.name === 'mustache' ? { ...p, purl: 'pkg:/mustache@2.3.2' } : p,
    );
    const { document: doc, problems } = cycloneDxSbom({ ...input, packages: broken }, { clock });
    assertValid(doc);
    const mustache = byName(doc, 'mustache');
    assert.equal(mustache['purl'], undefined);
    assert.equal(mustache['bom-ref'], 'npm/mustache@2.3.2#app/package-lock.json');
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.package, 'mustache@2.3.2');
    assert.equal(problems[0]!.location, 'app/package-lock.json');
    assert.match(problems[0]!.problem, /purl "pkg:\/mustache@2\.3\.2" does not parse/);
  });

  it('normalizes purls through packageurl-js', async () => {
    const input = await debianImage();
    // A PyPI name is case-insensitive and `_`/`-` equivalent: the purl spec lower-cases it and uses `-`.
    const pkg: SbomPackage = {
      ecosystem: 'PyPI',
      name: 'Django_Rest',
      version: '3.15.2',
      purl: 'pkg:pypi/Django_Rest@3.15.2',
      installedFiles: [],
      location: 'app/requirements.txt',
      lines: [4, 4],
      foundBy: { id: 'python', version: 1 },
    };
    const { document: doc } = cycloneDxSbom({ ...input, packages: [...input.packages, pkg] }, { clock });
    assert.equal(byName(doc, 'Django_Rest')['purl'], 'pkg:pypi/django-rest@3.15.2');
  });

  it('carries vulnerability matches with ratings, affects and the fix', async () => {
    const input = await debianImage();
    const pam = input.packages.find((p) => p.name === 'libpam-runtime')!;
    // A match as the matcher returns it (libs/image-scan/src/vulndb/match.types.ts), written by hand: the values
    // are those of Debian's record for CVE-2024-22365 in pam, set against the corpus's libpam-runtime.
    const match: VulnerabilityMatch = {
      package: pam,
      vulnerabilityId: 'CVE-2024-22365',
      aliases: ['DLA-3972-1'],
      records: ['DEBIAN-CVE-2024-22365'],
      summary: 'pam_namespace local denial of service',
      details:
        'linux-pam before 1.6.0 allows attackers to cause a denial of service (blocked login process) via mkfifo.',
      severity: Severity.MEDIUM,
      severitySource: 'debian',
      cvss: [
        { version: '3.1', vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H', score: 5.5, source: 'nvd' },
      ],
      vendorRatings: [{ source: 'debian', rating: 'medium' }],
      fixState: 'fixed',
      fixedVersion: '1.5.2-6+deb12u1',
      fixPublished: new Date('2024-02-05T00:00:00Z'),
      published: new Date('2024-02-06T08:15:00Z'),
      matchedRange: '>= 0, < 1.5.2-6+deb12u1',
      matchType: 'source',
      references: ['https://security-tracker.debian.org/tracker/CVE-2024-22365'],
    };
    const unfixed: VulnerabilityMatch = {
      ...match,
      vulnerabilityId: 'CVE-2010-4756',
      aliases: [],
      records: ['DEBIAN-CVE-2010-4756'],
      cvss: [],
      vendorRatings: [{ source: 'debian', rating: 'unimportant' }],
      severity: Severity.LOW,
      fixState: 'will_not_fix',
      fixedVersion: undefined,
      fixPublished: undefined,
      matchedRange: '>= 0',
    };
    const { document: doc } = cycloneDxSbom({ ...input, matches: [unfixed, match] }, { clock });
    assertValid(doc);
    const pamRef = byName(doc, 'libpam-runtime')['bom-ref'];
    const vulns = doc['vulnerabilities'] as Json[];
    assert.deepEqual(
      vulns.map((v) => v['id']),
      ['CVE-2010-4756', 'CVE-2024-22365'],
    );
    const v = vulns.find((x) => x['id'] === 'CVE-2024-22365')!;
    assert.deepEqual(v['source'], { name: 'NVD', url: 'https://nvd.nist.gov/vuln/detail/CVE-2024-22365' });
    assert.deepEqual(v['references'], [
      { id: 'DLA-3972-1', source: { name: 'OSV', url: 'https://osv.dev/vulnerability/DLA-3972-1' } },
    ]);
    const ratings = v['ratings'] as Json[];
    assert.deepEqual(
      ratings.find((r) => r['method'] === 'CVSSv31'),
      {
        source: { name: 'nvd' },
        score: 5.5,
        severity: 'medium',
        method: 'CVSSv31',
        vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H',
      },
    );
    assert.equal(ratings.find((r) => r['method'] === 'other')!['severity'], 'medium');
    assert.deepEqual(v['affects'], [
      {
        ref: pamRef,
        versions: [
          { version: '1.1.8-3.6', status: 'affected' },
          { version: '1.5.2-6+deb12u1', status: 'unaffected' },
        ],
      },
    ]);
    assert.equal(v['recommendation'], 'Upgrade libpam-runtime to 1.5.2-6+deb12u1');
    assert.deepEqual(v['advisories'], [
      { url: 'https://security-tracker.debian.org/tracker/CVE-2024-22365' },
    ]);
    assert.deepEqual((v['analysis'] as Json)['response'], ['update']);
    assert.equal(prop(v, SBOM_PROPERTY.severity), 'MEDIUM');
    assert.equal(prop(v, SBOM_PROPERTY.severitySource), 'debian');
    assert.equal(prop(v, SBOM_PROPERTY.matchType), 'source');

    const w = vulns.find((x) => x['id'] === 'CVE-2010-4756')!;
    assert.equal(w['recommendation'], 'No fix yet (will not fix)');
    assert.deepEqual((w['analysis'] as Json)['response'], ['will_not_fix']);
    assert.equal((w['ratings'] as Json[])[0]!['severity'], 'info');
  });

  it('refuses a match for a package it does not list, and a digest that is not sha256', async () => {
    const input = await debianImage();
    const stray = {
      ...input.packages[0]!,
      name: 'openssl',
      version: '3.0.0',
      location: 'var/lib/dpkg/status',
    };
    assert.throws(
      () =>
        cycloneDxSbom(
          {
            ...input,
            matches: [
              {
                package: stray,
                vulnerabilityId: 'CVE-2022-3602',
                aliases: [],
                records: [],
                summary: '',
                details: '',
                severity: Severity.HIGH,
                severitySource: 'none',
                cvss: [],
                vendorRatings: [],
                fixState: 'unknown',
                matchedRange: '',
                matchType: 'direct',
                references: [],
              },
            ],
          },
          { clock },
        ),
      /payment-api:1\.4\.2: match CVE-2022-3602 names openssl@3\.0\.0 at var\/lib\/dpkg\/status, which is not among/,
    );
    assert.throws(
      () => cycloneDxSbom({ ...input, target: { ...input.target, manifestDigest: 'sha256:abc' } }, { clock }),
      /image digest "sha256:abc" is not sha256:<64 hex>/,
    );
  });

  it('maps Alpine license fields to SPDX ids or named licenses, and names a local archive by its file', async () => {
    const { os, packages } = await extractPackages(
      rootFiles(corpusPath('image', 'ospkg', 'apk-alpine318', 'rootfs')),
    );
    const { document: doc } = cycloneDxSbom(
      { target: { name: '/tmp/build/alpine-base.tar', repoTags: [], configDigest: CONFIG, os }, packages },
      { clock },
    );
    assertValid(doc);
    const image = (doc['metadata'] as Json)['component'] as Json;
    assert.equal(image['purl'], `pkg:oci/alpine-base@${CONFIG}`);
    const license = (name: string) =>
      components(doc).find((x) => x['name'] === name && x['type'] === 'library')?.['licenses'];
    // An SPDX id the library knows, a lone expression as an expression.
    assert.deepEqual(license('musl'), [{ license: { id: 'MIT' } }]);
    assert.deepEqual(license('zlib'), [{ license: { id: 'Zlib' } }]);
    assert.deepEqual(license('ca-certificates-bundle'), [{ expression: 'MPL-2.0 AND MIT' }]);
    assert.deepEqual(license('musl-utils'), [{ expression: 'MIT AND BSD-2-Clause AND GPL-2.0-or-later' }]);
    assert.equal(packages.filter((p) => p.licenses?.length).length, 15);
  });
});

// Directory targets (`vigil scan rootfs|fs`) through the real scan: the example image's root filesystem and a corpus
// lockfile, matched against the example advisories, then the SBOM the image-scanner stores for them.
describe('CycloneDX SBOM of a directory', () => {
  const example = join(repoRoot(), 'examples/payments');

  async function scanDirectory(dir: string, kind: 'rootfs' | 'fs'): Promise<ScanReport> {
    const store = new MemoryAdvisoryStore(() => new Date('2026-11-01T00:00:00Z'));
    await store.loadDump(join(example, 'advisories'));
    const { files } = await readDirectory(
      dir,
      kind === 'rootfs' ? { skip: ROOTFS_SKIP } : { skipNames: ['.git'] },
    );
    return scanFiles(files, { name: dir, kind }, { cluster: 'spec', advisories: store, reference: dir });
  }

  function sbomOf(report: ScanReport): Json {
    return cycloneDxSbom(
      {
        target: {
          name: report.target.name,
          directory: report.target.kind as 'rootfs' | 'fs',
          repoTags: [],
          configDigest: report.target.digest,
          os: report.os,
        },
        packages: report.packages,
        matches: report.matches,
      },
      { clock: () => new Date('2026-12-01T00:00:00Z') },
    ).document;
  }

  it('a root filesystem: schema-valid, a file component named by the path, its OS, packages and vulnerabilities', async () => {
    const dir = join(example, 'image/rootfs');
    const report = await scanDirectory(dir, 'rootfs');
    const { files } = await readDirectory(dir, { skip: ROOTFS_SKIP });
    assert.equal(report.target.digest, await directoryDigest(files));
    const doc = sbomOf(report);
    assertValid(doc);
    const metadata = doc['metadata'] as Json;
    const component = metadata['component'] as Json;
    assert.equal(component['type'], 'file');
    assert.equal(component['name'], dir);
    assert.equal(component['version'], report.target.digest);
    assert.equal(component['bom-ref'], `directory:rootfs:${report.target.digest}`);
    assert.equal(component['purl'], undefined, 'a directory has no purl');
    const props = (component['properties'] as { name: string; value: string }[]).map(
      (p) => `${p.name}=${p.value}`,
    );
    assert.deepEqual(props.sort(), [
      `${SBOM_PROPERTY.directoryContentDigest}=${report.target.digest}`,
      `${SBOM_PROPERTY.directoryKind}=rootfs`,
    ]);
    assert.equal(doc['serialNumber'], serialNumberOf(report.target.digest, 'directory'));
    assert.notEqual(doc['serialNumber'], serialNumberOf(report.target.digest));
    const components = doc['components'] as Json[];
    const os = components.find((c) => c['type'] === 'operating-system');
    assert.equal(os?.['name'], 'debian');
    const purls = components.map((c) => c['purl'] as string | undefined);
    assert.ok(
      purls.some((p) => p?.startsWith('pkg:deb/debian/libssl3@3.0.11-1~deb12u1')),
      purls.join(', '),
    );
    assert.ok(purls.includes('pkg:npm/lodash@4.17.20'), purls.join(', '));
    const ids = (doc['vulnerabilities'] as Json[]).map((v) => v['id']);
    assert.ok(ids.includes('CVE-2023-5363'), ids.join(', '));
    assert.ok(ids.includes('CVE-2021-23337'), ids.join(', '));
  });

  it('a source tree with a corpus lockfile: schema-valid, every lockfile package listed, the same digest wherever it sits', async () => {
    const lockDir = corpusPath('image', 'lockfiles', 'npm-lock-v2');
    const expected = JSON.parse(readFileSync(join(lockDir, 'expected.json'), 'utf8')) as {
      packages: { name: string; version: string }[];
    };
    const report = await scanDirectory(lockDir, 'fs');
    const doc = sbomOf(report);
    assertValid(doc);
    assert.equal(((doc['metadata'] as Json)['component'] as Json)['type'], 'file');
    const listed = (doc['components'] as Json[]).map(
      (c) => `${c['name'] as string}@${c['version'] as string}`,
    );
    assert.deepEqual(
      [...new Set(listed)].sort(),
      [...new Set(expected.packages.map((p) => `${p.name}@${p.version}`))].sort(),
    );
    // Only package-lock.json is read (expected.json is no analyzer's file), so the digest is that one file's.
    const { files } = await readDirectory(lockDir, { skipNames: ['.git'] });
    assert.deepEqual(
      files.map((f) => f.path),
      ['package-lock.json'],
    );
    const content = readFileSync(join(lockDir, 'package-lock.json'));
    const line = `package-lock.json\0sha256:${createHash('sha256').update(content).digest('hex')}\n`;
    assert.equal(report.target.digest, `sha256:${createHash('sha256').update(line).digest('hex')}`);
  });

  it('an empty directory: schema-valid, no packages, no vulnerabilities, the digest of nothing', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'vigil-empty-sbom-'));
    try {
      const report = await scanDirectory(empty, 'fs');
      assert.equal(report.packages.length, 0);
      assert.equal(report.findings.length, 0);
      assert.equal(
        report.target.digest,
        'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      );
      const doc = sbomOf(report);
      assertValid(doc);
      assert.deepEqual(doc['components'] ?? [], []);
      assert.deepEqual(doc['vulnerabilities'] ?? [], []);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('refuses a directory whose content digest is missing, naming the directory', () => {
    assert.throws(
      () =>
        cycloneDxSbom({
          target: { name: '/srv/app', directory: 'fs', repoTags: [], configDigest: '' },
          packages: [],
        }),
      /^Error: SBOM for \/srv\/app: directory content digest "" is not sha256:<64 hex>$/,
    );
  });
});
