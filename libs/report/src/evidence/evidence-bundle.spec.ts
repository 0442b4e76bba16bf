// Evidence bundles built from two real snapshots (folded from contract-made events, one finding fixed between them):
// the bundle verifies; one byte changed in any member, a member added or removed, a wrong key each fail and name
// what changed; the OSCAL output validates against the official 1.1.3 schema (ajv 8, as schemas/README.md says);
// the CSVs read back, field for field, with an RFC 4180 parser; the HTML carries the key fingerprint.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import yauzl from 'yauzl';
import {
  BlobRefSchema,
  RequirementStatus,
  create,
  encodeEnvelope,
  topicFor,
  type ComplianceReport,
  type EventEnvelope,
} from '@vigil/contracts';
import { Events, ScannerKind, Severity, misconfig, subsetCatalog, vuln } from '../events.spec-helper.js';
import { fold } from '../scope-state.js';
import { buildSnapshot, type Snapshot } from '../snapshot.builder.js';
import {
  BUNDLE_FILES,
  MANIFEST_FILE,
  SIGNATURE_FILE,
  buildEvidenceBundle,
  eventsWithin,
  sbomRefsOf,
  type EvidenceEvent,
} from './evidence-bundle.js';
import { csvField, toCsv } from './evidence-csv.js';
import { verifyEvidenceBundle } from './evidence-verify.js';
import { parseSigningKey, generateSigningKeyPem, publicKeyFingerprint } from './signing-key.js';
import { readZip, writeZip, ZipFormatError } from './zip.js';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'nx.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('no nx.json above the spec');
    dir = up;
  }
  return dir;
}

const APP = 'registry.example.com/payments/api:1.4';
const OLD = 'sha256:' + 'd4'.repeat(32);
const NEW = 'sha256:' + 'e5'.repeat(32);
const catalog = subsetCatalog(['2.2.5', '6.3.1', '6.3.3', '11.3.1', '12.5.2']);
const createdAt = new Date('2026-11-03T10:15:00Z');
const key = parseSigningKey(generateSigningKeyPem(), 'test key');

// Log records of a sequence of envelopes: each on its contract topic, offsets counting per topic.
function records(envelopes: readonly EventEnvelope[]): EvidenceEvent[] {
  const next = new Map<string, number>();
  return envelopes.map((env) => {
    const topic = topicFor(env);
    const offset = next.get(topic) ?? 0;
    next.set(topic, offset + 1);
    return {
      eventId: env.eventId,
      eventType: env.eventType,
      topic,
      partition: 0,
      logOffset: String(offset),
      scope: env.scope?.cluster ?? '',
      subjectKey: env.subjectKey,
      occurredAt: new Date(Number(env.occurredAt?.seconds ?? 0n) * 1000),
      payload: encodeEnvelope(env),
    };
  });
}

function positionOf(events: readonly EvidenceEvent[]) {
  const last = new Map<string, EvidenceEvent>();
  for (const e of events) last.set(`${e.topic}/${e.partition}`, e);
  return [...last.values()].map((e) => ({ topic: e.topic, partition: e.partition, offset: e.logOffset }));
}

function sbomOf(ref: string, digest: string): Uint8Array {
  return Buffer.from(
    JSON.stringify({
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      version: 1,
      metadata: { component: { type: 'container', name: ref, version: digest } },
      components: [{ type: 'library', name: 'openssl', version: '3.0.11-1~deb12u2' }],
    }),
  );
}

// Version 1: zlib (critical, no fix) and openssl on the image, a privileged pod; version 2: openssl fixed, the
// image rebuilt. A comma, quotes and a newline in a title exercise the CSV quoting with real report fields.
const e = new Events();
const zlib = vuln({
  cve: 'CVE-2023-45853',
  pkg: 'zlib1g',
  installed: '1:1.2.13.dfsg-1',
  imageRef: APP,
  digest: OLD,
  severity: Severity.CRITICAL,
});
const openssl = vuln({
  cve: 'CVE-2024-0727',
  pkg: 'openssl',
  installed: '3.0.11-1~deb12u2',
  fixed: '3.0.13-1~deb12u1',
  imageRef: APP,
  digest: OLD,
  severity: Severity.MEDIUM,
});
const priv = {
  ...misconfig({
    check: 'k8s-privileged-container',
    namespace: 'payments',
    workload: 'api',
    field: 'spec.template.spec.containers[0].securityContext.privileged',
    severity: Severity.HIGH,
    pci: ['2.2.5'],
  }),
  title: 'Container "api" runs privileged, with host access,\nand no seccomp profile',
};
const sbomV1 = sbomOf(APP, OLD);
const sbomV2 = sbomOf(APP, NEW);
const withSbom = (env: EventEnvelope, content: Uint8Array): EventEnvelope => {
  if (env.payload.case === 'scanCompleted')
    env.payload.value.blobs.push(
      create(BlobRefSchema, {
        digest: 'sha256:' + sha(content),
        mediaType: 'application/vnd.cyclonedx+json',
        sizeBytes: BigInt(content.byteLength),
        role: 'sbom',
      }),
    );
  return env;
};
const zlibNew = { ...zlib, asset: { ...zlib.asset!, imageDigest: NEW } } as typeof zlib;
const v1Events = [
  e.reported('img-1', zlib, 1),
  e.reported('img-1', openssl, 1),
  withSbom(
    e.completed({
      scanId: 'img-1',
      scanner: ScannerKind.IMAGE,
      targetKey: APP,
      digest: OLD,
      minute: 2,
      findingIds: [zlib.id, openssl.id],
    }),
    sbomV1,
  ),
  e.reported('k8s-1', priv, 3),
  e.completed({
    scanId: 'k8s-1',
    scanner: ScannerKind.CONFIG,
    targetKey: 'live',
    minute: 4,
    findingIds: [priv.id],
  }),
];
const v2Events = [
  ...v1Events,
  e.reported('img-2', zlibNew, 10),
  withSbom(
    e.completed({
      scanId: 'img-2',
      scanner: ScannerKind.IMAGE,
      targetKey: APP,
      digest: NEW,
      minute: 11,
      findingIds: [zlibNew.id],
    }),
    sbomV2,
  ),
];
// Recorded after version 2 was taken: must not be in its bundle.
const later = [...v2Events, e.reported('k8s-2', priv, 20)];

function snap(envs: readonly EventEnvelope[], previous?: Snapshot): Snapshot {
  return buildSnapshot({
    state: fold(envs),
    scope: { cluster: 'prod' },
    catalog,
    entityType: 'merchant',
    logPosition: positionOf(records(envs)),
    createdAt,
    ...(previous ? { previous } : {}),
  });
}
const s1 = snap(v1Events);
const s2 = snap(v2Events, s1);
const allEvents = records(later);

function bundle(overrides: Partial<Parameters<typeof buildEvidenceBundle>[0]> = {}) {
  return buildEvidenceBundle({
    report: s2.report,
    content: s2.content,
    previous: s1.report,
    versions: [s1.report, s2.report],
    events: allEvents,
    sboms: sbomRefsOf(eventsWithin(allEvents, s2.report)).map((r) => ({
      ...r,
      content: r.digest === 'sha256:' + sha(sbomV2) ? sbomV2 : sbomV1,
    })),
    signingKey: key,
    createdAt,
    producer: 'vigil 0.1.0',
    ...overrides,
  });
}

function sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function repack(
  zip: Uint8Array,
  change: (name: string, data: Uint8Array) => Uint8Array | undefined,
  extra: { name: string; data: Uint8Array }[] = [],
) {
  const entries = readZip(zip).entries.flatMap((x) => {
    const data = change(x.name, x.data);
    return data === undefined ? [] : [{ name: x.name, data }];
  });
  return writeZip([...entries, ...extra], createdAt);
}

function flipByte(data: Uint8Array, at = Math.floor(data.byteLength / 2)): Uint8Array {
  const copy = new Uint8Array(data);
  copy[at] = (copy[at] ?? 0) ^ 0x01;
  return copy;
}

const tmp = mkdtempSync(join(tmpdir(), 'vigil-evidence-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('buildEvidenceBundle + verifyEvidenceBundle', () => {
  const b = bundle();

  it('lists every member with its hash, and the bundle verifies with the deployment key', () => {
    const names = readZip(b.zip)
      .entries.map((x) => x.name)
      .sort();
    assert.deepEqual(names, [...b.manifest.files.map((f) => f.path), MANIFEST_FILE, SIGNATURE_FILE].sort());
    for (const f of b.manifest.files) {
      const data = b.files.find((x) => x.path === f.path)!.data;
      assert.equal(f.sha256, sha(data), f.path);
      assert.equal(f.size, data.byteLength, f.path);
    }
    assert.equal(b.manifest.snapshot.contentHash, s2.contentHash);
    assert.equal(b.manifest.snapshot.previousHash, s1.contentHash);
    assert.deepEqual(
      b.manifest.chain.map((c) => [c.version, c.contentHash]),
      [
        [1, s1.contentHash],
        [2, s2.contentHash],
      ],
    );
    assert.equal(b.manifest.signature.keyFingerprint, key.fingerprint);
    assert.deepEqual(
      b.manifest.sboms.map((s) => s.digest),
      ['sha256:' + sha(sbomV2)],
    );
    const r = verifyEvidenceBundle(b.zip, key.publicKey);
    assert.deepEqual(r.problems, []);
    assert.equal(r.ok, true);
  });

  it('holds exactly the events up to the log position, raw envelopes included', () => {
    const lines = Buffer.from(b.files.find((f) => f.path === BUNDLE_FILES.events)!.data)
      .toString('utf8')
      .trim()
      .split('\n');
    assert.equal(lines.length, v2Events.length);
    assert.equal(b.manifest.events, v2Events.length);
    const ids = lines.map((l) => (JSON.parse(l) as { eventId: string }).eventId);
    assert.deepEqual(new Set(ids), new Set(v2Events.map((x) => x.eventId)));
    assert.ok(!ids.includes(later[later.length - 1]!.eventId));
    const first = JSON.parse(lines[0]!) as { envelope: string; eventId: string };
    const raw = allEvents.find((x) => x.eventId === first.eventId)!.payload;
    assert.equal(first.envelope, Buffer.from(raw).toString('base64'));
  });

  it('reads back with yauzl and passes `unzip -t`', async () => {
    const path = join(tmp, 'bundle.zip');
    writeFileSync(path, b.zip);
    const got = new Map<string, Buffer>();
    await new Promise<void>((resolve, reject) => {
      yauzl.open(path, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true }, (err, zf) => {
        if (err || !zf) return reject(err);
        zf.on('error', reject);
        zf.on('end', () => resolve());
        zf.on('entry', (entry: yauzl.Entry) => {
          zf.openReadStream(entry, (e2, stream) => {
            if (e2 || !stream) return reject(e2);
            const parts: Buffer[] = [];
            stream.on('data', (c: Buffer) => parts.push(c));
            stream.on('end', () => {
              got.set(entry.fileName, Buffer.concat(parts));
              zf.readEntry();
            });
          });
        });
        zf.readEntry();
      });
    });
    assert.equal(got.size, b.files.length);
    for (const f of b.files) assert.ok(got.get(f.path)?.equals(Buffer.from(f.data)), f.path);
    const unzip = spawnSync('unzip', ['-t', path], { encoding: 'utf8' });
    if (unzip.error) return; // no unzip on this machine: yauzl's read-back stands
    assert.equal(unzip.status, 0, unzip.stdout + unzip.stderr);
    assert.match(unzip.stdout, /No errors detected/);
  });

  it('one byte changed in any member fails, naming that member', () => {
    for (const f of b.files) {
      const tampered = repack(b.zip, (name, data) => (name === f.path ? flipByte(data) : data));
      const r = verifyEvidenceBundle(tampered, key.publicKey);
      assert.equal(r.ok, false, f.path);
      const named = new Set(r.problems.map((p) => p.file));
      // A changed signature or manifest shows as the manifest's signature failing; any other member is named.
      const expected = f.path === SIGNATURE_FILE ? MANIFEST_FILE : f.path;
      assert.ok(named.has(expected), `${f.path}: ${JSON.stringify(r.problems)}`);
      if (f.path !== MANIFEST_FILE && f.path !== SIGNATURE_FILE) {
        const p = r.problems.find((x) => x.file === f.path)!;
        assert.match(p.problem, /was changed|hashes to|not a readable|not JSON|lie outside/);
      }
    }
  });

  it('a byte changed inside the archive (not repacked) is named as damaged', () => {
    const html = readZip(b.zip).entries.find((x) => x.name === BUNDLE_FILES.report)!;
    // Find the report's compressed bytes by its local header name and flip one of them.
    const buf = Buffer.from(b.zip);
    const at = buf.indexOf(Buffer.from(BUNDLE_FILES.report)) + BUNDLE_FILES.report.length + 40;
    const r = verifyEvidenceBundle(flipByte(b.zip, at), key.publicKey);
    assert.equal(r.ok, false);
    assert.ok(
      r.problems.some((p) => p.file === BUNDLE_FILES.report),
      JSON.stringify(r.problems),
    );
    assert.ok(html.data.byteLength > 0);
  });

  it('a bundle unpacked and packed again with zip -r verifies: its folder entries are not files', (t) => {
    if (spawnSync('zip', ['-v']).status !== 0) return t.skip('no zip command on this machine');
    const dir = mkdtempSync(join(tmpdir(), 'vigil-rezip-'));
    try {
      for (const e of readZip(b.zip).entries) {
        const path = join(dir, 'unpacked', e.name);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, e.data);
      }
      const zipped = spawnSync('zip', ['-r', '-q', join(dir, 'again.zip'), '.'], {
        cwd: join(dir, 'unpacked'),
        encoding: 'utf8',
      });
      assert.equal(zipped.status, 0, zipped.stderr);
      const again = readFileSync(join(dir, 'again.zip'));
      const names = readZip(again).entries.map((x) => x.name);
      assert.ok(
        names.some((n) => n.endsWith('/')),
        `zip -r wrote no folder entry: ${names.join(', ')}`,
      );
      assert.deepEqual(verifyEvidenceBundle(again, key.publicKey).problems, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a folder entry with content, or one in place of a listed file, still fails', () => {
    // writeZip takes no folder names; an entry named with a trailing `_` is renamed to `/` in its headers (the
    // CRC covers the data only), as a hand-made archive could name it.
    const withFolder = (name: string, data: Uint8Array, drop?: string) => {
      const stand = `${name.slice(0, -1)}_`;
      const zip = Buffer.from(repack(b.zip, (n, d) => (n === drop ? undefined : d), [{ name: stand, data }]));
      const from = Buffer.from(stand);
      for (let at = zip.indexOf(from); at >= 0; at = zip.indexOf(from, at + 1)) zip.write(name, at, 'utf8');
      return zip;
    };
    assert.deepEqual(verifyEvidenceBundle(withFolder('sboms/', Buffer.from('x')), key.publicKey).problems, [
      { file: 'sboms/', problem: 'is in the bundle but not in the manifest (added)' },
    ]);
    assert.deepEqual(verifyEvidenceBundle(withFolder('notes/', Buffer.alloc(0)), key.publicKey).problems, []);
    const replaced = withFolder(`${BUNDLE_FILES.findings}/`, Buffer.alloc(0), BUNDLE_FILES.findings);
    assert.deepEqual(verifyEvidenceBundle(replaced, key.publicKey).problems, [
      { file: BUNDLE_FILES.findings, problem: 'is listed in the manifest but missing from the bundle' },
      {
        file: `${BUNDLE_FILES.findings}/`,
        problem: 'is a folder entry in place of a file the manifest lists',
      },
    ]);
  });

  it('a file added or removed fails, naming it', () => {
    const extra = repack(b.zip, (_n, d) => d, [{ name: 'notes.txt', data: Buffer.from('trust me\n') }]);
    const r1 = verifyEvidenceBundle(extra, key.publicKey);
    assert.deepEqual(r1.problems, [
      { file: 'notes.txt', problem: 'is in the bundle but not in the manifest (added)' },
    ]);
    const missing = repack(b.zip, (n, d) => (n === BUNDLE_FILES.findings ? undefined : d));
    const r2 = verifyEvidenceBundle(missing, key.publicKey);
    assert.deepEqual(r2.problems, [
      { file: BUNDLE_FILES.findings, problem: 'is listed in the manifest but missing from the bundle' },
    ]);
  });

  it('a wrong key fails: the signature and the fingerprint', () => {
    const other = generateKeyPairSync('ed25519').publicKey;
    const r = verifyEvidenceBundle(b.zip, other);
    assert.equal(r.ok, false);
    assert.equal(r.keyFingerprint, publicKeyFingerprint(other));
    assert.ok(r.problems.some((p) => p.file === MANIFEST_FILE && /does not verify with key/.test(p.problem)));
    assert.ok(
      r.problems.some(
        (p) => p.file === MANIFEST_FILE && p.problem.includes(`signed with key ${key.fingerprint}`),
      ),
    );
  });

  it('a bundle re-signed by someone else after editing fails against the deployment key', () => {
    const forger = parseSigningKey(generateSigningKeyPem(), 'forger');
    const forged = bundle({ signingKey: forger });
    const r = verifyEvidenceBundle(forged.zip, key.publicKey);
    assert.equal(r.ok, false);
    assert.ok(r.problems.some((p) => p.problem.includes(`signed with key ${forger.fingerprint}`)));
  });

  it('refuses bytes that are not a ZIP', () => {
    assert.throws(() => verifyEvidenceBundle(Buffer.from('PK not really'), key.publicKey), ZipFormatError);
  });

  it('refuses to build over a broken chain or content that does not match its hash', () => {
    assert.throws(() => bundle({ versions: [s2.report] }), /version 1 of the scope is missing/);
    const forkedV1 = { ...s1.report, contentHash: 'sha256:' + 'ab'.repeat(32) } as ComplianceReport;
    assert.throws(() => bundle({ versions: [forkedV1, s2.report] }), /hash chain is broken at version 2/);
    assert.throws(() => bundle({ content: flipByte(s2.content) }), /content hashes to/);
  });
});

describe('evidence report contents', () => {
  const b = bundle();
  const text = (p: string) => Buffer.from(b.files.find((f) => f.path === p)!.data).toString('utf8');

  it('the HTML prints the key fingerprint, the diff and the status per requirement, with no external asset', () => {
    const html = text(BUNDLE_FILES.report);
    assert.ok(html.includes(key.fingerprint));
    assert.ok(html.includes(openssl.id), 'the resolved openssl finding is in the diff');
    assert.match(html, /1 resolved/);
    for (const r of s2.report.requirements) assert.ok(html.includes(`id="req-${r.id}"`), r.id);
    assert.match(
      html,
      /<svg[^>]*aria-label="Findings by severity per snapshot version, accepted ones included"/,
    );
    assert.doesNotMatch(html, /<script|\bsrc=|href="http|url\(/);
    assert.ok(html.includes('Container &#34;api&#34; runs privileged'));
  });

  it('the CSVs read back field for field (RFC 4180)', () => {
    const findings = parseCsv(text(BUNDLE_FILES.findings));
    assert.equal(findings[0]![0], 'finding_id');
    const rows = new Map(findings.slice(1).map((r) => [r[0], r]));
    assert.equal(rows.size, s2.report.findings.length);
    assert.equal(rows.get(priv.id)?.[4], priv.title);
    assert.equal(rows.get(zlibNew.id)?.[3], 'critical');
    const reqs = parseCsv(text(BUNDLE_FILES.requirements));
    const r225 = reqs.find((r) => r[0] === '2.2.5')!;
    const want = s2.report.requirements.find((r) => r.id === '2.2.5')!;
    assert.equal(r225[2], RequirementStatus[want.status]!.toLowerCase());
    assert.equal(r225[4], String(want.findingIds.length));
    assert.equal(csvField('a "b", c\nd'), '"a ""b"", c\nd"');
    assert.equal(csvField(' padded'), '" padded"');
    assert.equal(csvField('plain'), 'plain');
    assert.equal(toCsv(['x', 'y'], [['1', 'two,2']]), 'x,y\r\n1,"two,2"\r\n');
    assert.throws(() => toCsv(['x'], [['1', '2']]), /row 1 has 2 cells/);
  });

  it('the OSCAL assessment results validate against the official 1.1.3 schema', () => {
    const require = createRequire(join(repoRoot(), 'libs', 'image-scan', 'package.json'));
    const Ajv = require('ajv') as new (o: object) => {
      compile(s: object): ((d: unknown) => boolean) & { errors?: unknown };
    };
    const addFormats = require('ajv-formats') as (a: object) => void;
    const ajv = new Ajv({ allErrors: true, strict: true });
    addFormats(ajv);
    const schema = JSON.parse(
      readFileSync(
        join(repoRoot(), '..', 'shared', 'schemas', 'oscal', '1.1.3', 'oscal_assessment-results_schema.json'),
        'utf8',
      ),
    ) as object;
    const validate = ajv.compile(schema);
    const doc = JSON.parse(text(BUNDLE_FILES.oscal)) as {
      'assessment-results': {
        metadata: { 'oscal-version': string };
        results: { findings: { target: { 'target-id': string; status: { state: string } } }[] }[];
      };
    };
    assert.ok(validate(doc), JSON.stringify(validate.errors, null, 2));
    const ar = doc['assessment-results'];
    assert.equal(ar.metadata['oscal-version'], '1.1.3');
    const byId = new Map(ar.results[0]!.findings.map((f) => [f.target['target-id'], f.target.status.state]));
    for (const r of s2.report.requirements) {
      const state = byId.get(`pcidss-${r.id}`);
      assert.equal(
        state,
        r.status === RequirementStatus.NOT_IN_PLACE || r.status === RequirementStatus.NOT_TESTED
          ? 'not-satisfied'
          : 'satisfied',
        r.id,
      );
    }
    // A document the schema must refuse, so the validator is known to bite.
    assert.equal(validate({ 'assessment-results': { ...ar, uuid: 'not-a-uuid' } }), false);
  });
});

// A strict RFC 4180 reader for the assertions: quoted fields, doubled quotes, CRLF records.
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let k = 0; k < text.length; k++) {
    const c = text[k]!;
    if (quoted) {
      if (c === '"' && text[k + 1] === '"') {
        field += '"';
        k++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[k + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      k++;
    } else field += c;
  }
  assert.equal(field, '', 'the CSV ends with CRLF');
  return rows;
}
