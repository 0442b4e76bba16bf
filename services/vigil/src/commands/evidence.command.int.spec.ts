// `vigil evidence` over a real embedded deployment (its own data dir, embedded Postgres and log): an image archive
// from the corpus and the example manifests are scanned through the whole pipeline, the second snapshot is exported,
// and the bundle is checked offline: it verifies with the exported public key; one byte changed in a member, a file
// added and a wrong key each fail (exit 1) naming what changed; the bundle carries the image's SBOM and the raw
// events up to the snapshot's log position.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventLogLogger } from '@vigil/nest-kit';
import { BUNDLE_FILES, readZip, writeZip, type EvidenceManifest } from '@vigil/report';
import { createLogger } from '@vigil/telemetry';
import { corpusPath, repoRoot } from '@vigil/testing';
import { openDeployment, type Deployment } from '../deployment.js';
import type { Output } from '../output.js';
import { startPipeline, type Pipeline } from '../pipeline.js';
import { dbCommand } from './db.command.js';
import {
  evidenceExport,
  evidenceKey,
  evidenceVerify,
  loadSigningKey,
  SIGNING_KEY_FILE,
} from './evidence.command.js';
import { scanCommand } from './scan.command.js';
import { scanTarget } from './scan-target.js';

const TIMEOUT = 180_000;
const CLUSTER = 'evidence-it';

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

const tmp = mkdtempSync(join(tmpdir(), 'vigil-evidence-it-'));
const dataDir = join(tmp, 'data');
let deployment: Deployment;
let pipeline: Pipeline;

async function scan(kind: string, args: string[]): Promise<void> {
  const out = capture();
  await scanCommand({
    deployment,
    pipeline,
    target: scanTarget(kind, args, {}),
    cluster: CLUSTER,
    format: 'json',
    severity: [],
    ignoreUnfixed: false,
    timeoutMs: TIMEOUT,
    policy: { ignores: [], now: new Date() },
    out,
  });
}

before(async () => {
  deployment = await openDeployment({
    eventLog: 'embedded',
    dataDir,
    kafkaBrokers: [],
    logger: eventLogLogger(createLogger('event-log')),
    progress: () => undefined,
    timeoutMs: TIMEOUT,
  });
  pipeline = await startPipeline(deployment, { entityType: 'merchant' });
  await pipeline.waitUntilCaughtUp(TIMEOUT);
  // The image scanner refuses to scan without advisories: the corpus's records, as `vigil db import` loads them.
  await dbCommand('import', deployment.databaseUrl, 'json', capture(), {
    args: [corpusPath('image', 'advisories', 'records')],
  });
  await scan('image', [corpusPath('image', 'images', 'alpine-311-docker-archive', 'image.tar.gz')]);
  await scan('k8s', [join(repoRoot(), 'examples', 'payments', 'k8s')]);
});

after(async () => {
  await pipeline?.close();
  await deployment?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('vigil evidence on a real pipeline run', { timeout: TIMEOUT * 2 }, () => {
  const bundlePath = join(tmp, 'bundle.zip');
  const pubPath = join(tmp, 'vigil.pub');

  it('export writes a bundle of snapshot 2 signed by the data dir key (created 0600)', async () => {
    const key = await loadSigningKey({ dataDir });
    assert.equal(statSync(join(dataDir, SIGNING_KEY_FILE)).mode & 0o777, 0o600);
    const out = capture();
    assert.equal(
      await evidenceExport({
        store: pipeline.store,
        cluster: CLUSTER,
        version: 2,
        output: bundlePath,
        signingKey: key,
        now: new Date(),
        out,
      }),
      0,
    );
    assert.match(out.results.join('\n'), new RegExp(`signed by key ${key.fingerprint}`));

    const entries = new Map(readZip(readFileSync(bundlePath)).entries.map((e) => [e.name, e.data]));
    const manifest = JSON.parse(
      Buffer.from(entries.get('manifest.json')!).toString('utf8'),
    ) as EvidenceManifest;
    const stored = await pipeline.store.getSnapshot(CLUSTER, 2);
    assert.equal(manifest.snapshot.contentHash, stored!.contentHash);
    assert.equal(manifest.snapshot.previousHash, (await pipeline.store.getSnapshot(CLUSTER, 1))!.contentHash);
    assert.deepEqual(
      manifest.chain.map((c) => c.version),
      [1, 2],
    );
    assert.ok(Buffer.from(entries.get(BUNDLE_FILES.canonical)!).equals(Buffer.from(stored!.content)));
    // The image scan's SBOM, byte for byte as the scanner stored it.
    assert.equal(manifest.sboms.length, 1);
    const sbom = JSON.parse(Buffer.from(entries.get(manifest.sboms[0]!.path)!).toString('utf8')) as {
      bomFormat: string;
      components: unknown[];
    };
    assert.equal(sbom.bomFormat, 'CycloneDX');
    assert.ok(sbom.components.length > 0);
    const blob = await pipeline.store.getBlob(manifest.sboms[0]!.digest);
    assert.ok(Buffer.from(blob!.content).equals(Buffer.from(entries.get(manifest.sboms[0]!.path)!)));
    // Every recorded event of the scope up to the position, and none after it.
    const limit = new Map(
      manifest.snapshot.logPosition.map((p) => [`${p.topic}/${p.partition}`, BigInt(p.offset)]),
    );
    const all = await pipeline.store.eventsForScope(CLUSTER, { limit: 100_000 });
    const within = all.filter((e) => {
      const end = limit.get(`${e.topic}/${e.partition}`);
      return end !== undefined && BigInt(e.logOffset) <= end;
    });
    assert.ok(within.length > 0);
    assert.equal(manifest.events, within.length);
    const html = Buffer.from(entries.get(BUNDLE_FILES.report)!).toString('utf8');
    assert.ok(html.includes(key.fingerprint));
    // The real snapshot (the whole catalog, the scanners' own titles and evidence) as OSCAL, against the schema.
    const require = createRequire(join(repoRoot(), 'libs', 'image-scan', 'package.json'));
    const Ajv = require('ajv') as new (o: object) => {
      compile(s: object): ((d: unknown) => boolean) & { errors?: unknown };
    };
    const ajv = new Ajv({ allErrors: true, strict: true });
    (require('ajv-formats') as (a: object) => void)(ajv);
    const validate = ajv.compile(
      JSON.parse(
        readFileSync(
          join(
            repoRoot(),
            '..',
            'shared',
            'schemas',
            'oscal',
            '1.1.3',
            'oscal_assessment-results_schema.json',
          ),
          'utf8',
        ),
      ) as object,
    );
    const oscal = JSON.parse(Buffer.from(entries.get(BUNDLE_FILES.oscal)!).toString('utf8')) as {
      'assessment-results': { results: { findings: unknown[] }[] };
    };
    assert.ok(validate(oscal), JSON.stringify(validate.errors, null, 2));
    const report = JSON.parse(Buffer.from(entries.get(BUNDLE_FILES.snapshot)!).toString('utf8')) as {
      requirements: unknown[];
      findings: unknown[];
    };
    assert.equal(oscal['assessment-results'].results[0]!.findings.length, report.requirements.length);
    assert.ok(report.findings.length > 0, 'the scans found something to show');
  });

  it('verify with the exported public key: exit 0', async () => {
    const key = await loadSigningKey({ dataDir });
    assert.equal(key.created, false);
    const k = capture();
    await evidenceKey({ signingKey: key, output: pubPath, out: k });
    assert.match(readFileSync(pubPath, 'utf8'), /^-----BEGIN PUBLIC KEY-----/);
    const out = capture();
    assert.equal(await evidenceVerify({ bundlePath, keyPath: pubPath, format: 'table', out }), 0);
    assert.match(out.results[0]!, /^verified .*snapshot 2 of evidence-it/);
  });

  it('one byte changed in findings.csv: exit 1 naming findings.csv', async () => {
    const entries = readZip(readFileSync(bundlePath)).entries.map((e) => {
      if (e.name !== BUNDLE_FILES.findings) return e;
      const data = new Uint8Array(e.data);
      data[data.length - 3] = (data[data.length - 3] ?? 0) ^ 0x20;
      return { name: e.name, data };
    });
    const tampered = join(tmp, 'tampered.zip');
    writeFileSync(tampered, writeZip(entries, new Date()));
    const out = capture();
    assert.equal(await evidenceVerify({ bundlePath: tampered, keyPath: pubPath, format: 'json', out }), 1);
    const r = JSON.parse(out.results[0]!) as { ok: boolean; problems: { file?: string; problem: string }[] };
    assert.equal(r.ok, false);
    assert.deepEqual(
      r.problems.map((p) => p.file),
      [BUNDLE_FILES.findings],
    );
    assert.match(r.problems[0]!.problem, /was changed/);
  });

  it('an extra file and a wrong key: exit 1 naming them', async () => {
    const entries = readZip(readFileSync(bundlePath)).entries;
    const extra = join(tmp, 'extra.zip');
    writeFileSync(
      extra,
      writeZip([...entries, { name: 'sboms/extra.cdx.json', data: Buffer.from('{}') }], new Date()),
    );
    const out = capture();
    assert.equal(await evidenceVerify({ bundlePath: extra, keyPath: pubPath, format: 'table', out }), 1);
    assert.match(out.results[0]!, /sboms\/extra\.cdx\.json: is in the bundle but not in the manifest/);

    const wrong = join(tmp, 'wrong.pub');
    writeFileSync(wrong, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    const out2 = capture();
    assert.equal(await evidenceVerify({ bundlePath, keyPath: wrong, format: 'table', out: out2 }), 1);
    assert.match(out2.results[0]!, /manifest\.json: its signature \(manifest\.sig\) does not verify/);
  });

  it('export of a version the scope lacks is an input error', async () => {
    const key = await loadSigningKey({ dataDir });
    await assert.rejects(
      evidenceExport({
        store: pipeline.store,
        cluster: CLUSTER,
        version: 99,
        output: join(tmp, 'x.zip'),
        signingKey: key,
        now: new Date(),
        out: capture(),
      }),
      /scope evidence-it has no snapshot version 99/,
    );
  });
});
