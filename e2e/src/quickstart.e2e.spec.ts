// The README's quick start, command by command, through the real CLI on the embedded default: the example image,
// manifests and node of examples/payments, then the report, its list and a diff, all on one fresh data dir.
//
// The image is matched against the example's own OSV records, loaded first with `vigil db import` as the quick
// start does. The report's statuses are derived here from the shared catalog and from the findings the scans
// reported, so they stay right as engines change.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@vigil/testing';
import { appliesToPlainMerchant, assessableIds } from './catalog.js';
import { explain, freshTempDir, runVigil, vigilJson, type CliResult } from './vigil-cli.js';
import type { Json } from './vigil-cli.js';

const SHA256 = /^sha256:[0-9a-f]{64}$/;
const REQUIREMENT_STATUSES = [
  'in_place',
  'not_in_place',
  'not_tested',
  'not_applicable',
  'manually_attested',
];

// What each scan command is and which engine library answers it. While an engine is missing its scanner service
// says so in the scan's error; the words are the ones the scanner services use.
const SCANS = [
  {
    name: 'image',
    args: (p: Paths) => ['scan', 'image', p.imageTar],
    scanner: 'image',
    engine: 'image-scan',
    expect: 'ok',
  },
  {
    name: 'k8s',
    args: () => ['scan', 'k8s', 'examples/payments/k8s'],
    scanner: 'config',
    engine: 'config-audit',
    expect: 'ok',
  },
  {
    name: 'host',
    args: (p: Paths) => ['scan', 'host', '--root', p.nodeRoot, '--node', 'pay-worker-1'],
    scanner: 'host',
    engine: 'host-assess',
    expect: 'ok',
  },
] as const;
interface Paths {
  imageTar: string;
  nodeRoot: string;
}
const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];

describe('quick start on the embedded default', () => {
  const tmp = freshTempDir('quickstart');
  const dataDir = tmp.dataDir;
  const common = ['--data-dir', dataDir, '--format', 'json'];
  const paths: Paths = { imageTar: '', nodeRoot: '' };
  const scans: Json[] = [];

  before(() => {
    // The example image is built by its own script, into this test's temp dir rather than the checkout.
    const outDir = join(tmp.dir, 'image');
    const r = spawnSync(process.execPath, ['examples/payments/image/build.mjs', outDir], {
      cwd: repoRoot(),
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `image build failed:\n${r.stdout}\n${r.stderr}`);
    paths.imageTar = join(outDir, 'payment-api.tar');
    assert.ok(existsSync(paths.imageTar), `image build wrote no ${paths.imageTar}`);
    // The node fixture becomes a real root (modes, owners, /proc) the way the quick start's script does it.
    const m = spawnSync(
      process.execPath,
      ['examples/payments/node/materialize.mjs', join(tmp.dir, 'node-root')],
      {
        cwd: repoRoot(),
        encoding: 'utf8',
      },
    );
    assert.equal(m.status, 0, `node fixture materialization failed:\n${m.stdout}\n${m.stderr}`);
    paths.nodeRoot = m.stdout.trim();
  });
  after(() => tmp.remove());

  test('vigil db import loads the example advisories', async () => {
    const args = ['db', 'import', 'examples/payments/advisories', ...common];
    const { json, result } = await vigilJson(args);
    assert.equal(result.code, 0, explain(args, result));
    const imported = JSON.stringify(json);
    assert.match(imported, /"records":8\b/, `eight OSV records imported: ${imported.slice(0, 400)}`);
  });

  for (const scan of SCANS) {
    test(`vigil scan ${scan.name} prints the scan's ScanReport`, async () => {
      const args = [...scan.args(paths), ...common];
      const { json, result } = await vigilJson(args);
      scans.push(json);
      assert.equal(json.schemaVersion, 1, explain(args, result));
      assert.equal(json.scanner, scan.scanner);
      assert.match(json.scanId, /^[0-9a-f-]{36}$/);
      assert.deepEqual(json.scope, { tenant: '', cluster: 'default' });
      assert.ok(
        json.target && typeof json.target.key === 'string' && json.target.key.length > 0,
        'the scan names its target key',
      );
      assert.equal(json.status, scan.expect, explain(args, result));
      {
        assert.equal(json.error, '');
        const findings = json.findings as Json[];
        assert.ok(findings.length > 0, `the ${scan.engine} engine finds the example's deliberate problems`);
        const catalog = assessableIds();
        for (const f of findings) {
          assert.match(f.id, new RegExp(`^${scan.scanner}-[0-9a-f]{32}$`));
          assert.ok(SEVERITIES.includes(f.severity), `${f.ruleId}: severity is a plain word`);
          for (const id of f.pciRequirements as string[])
            assert.ok(catalog.has(id), `${f.ruleId} names PCI DSS ${id}, which is in the v4.0.1 catalog`);
          assert.ok(f.remediation?.summary, `${f.ruleId} says how to fix it`);
        }
        assert.equal(new Set(findings.map((f) => f.id)).size, findings.length, 'finding ids are unique');
      }
      // Zero values are printed, not dropped: the arrays are there even when empty.
      for (const k of ['units', 'assets', 'passing', 'blobs'])
        assert.ok(Array.isArray(json[k]), `ScanReport.${k} is present`);
      assert.ok(
        Date.parse(json.completedAt) >= Date.parse(json.startedAt),
        'completedAt is not before startedAt',
      );
    });
  }

  test('the image scan names the vulnerable packages, the file that carries the flaw, and the fix', () => {
    const image = scans.find((s) => s.scanner === 'image');
    assert.ok(image, 'the image scan ran');
    const findings = image.findings as Json[];
    // DSA-5532-1: openssl 3.0.11-1~deb12u2 fixes CVE-2023-5363; the image has libssl3 3.0.11-1~deb12u1.
    const ssl = findings.find((f) => f.ruleId === 'CVE-2023-5363' && f.package?.name === 'libssl3');
    assert.ok(ssl, 'CVE-2023-5363 is reported for libssl3');
    assert.equal(ssl.package.version, '3.0.11-1~deb12u1');
    assert.equal(ssl.package.sourceName, 'openssl');
    assert.equal(ssl.package.fixedVersion, '3.0.11-1~deb12u2');
    assert.ok(ssl.aliases.includes('DSA-5532-1'));
    assert.ok(ssl.locations.includes('/usr/lib/x86_64-linux-gnu/libssl.so.3'), 'the shared library is named');
    assert.match(
      ssl.remediation.patch,
      /apt-get install -y --only-upgrade libssl3=3\.0\.11-1~deb12u2 openssl=3\.0\.11-1~deb12u2/,
    );
    assert.deepEqual(ssl.pciRequirements.slice(0, 2), ['6.3.1', '11.3.1']);
    // CVE-2021-44906 (minimist, critical): fixed in 1.2.6 in 2022, long past 6.3.3's one month.
    const minimist = findings.find((f) => f.ruleId === 'CVE-2021-44906');
    assert.equal(minimist?.severity, 'CRITICAL');
    assert.equal(minimist?.package?.fixedVersion, '1.2.6');
    assert.ok(minimist?.pciRequirements.includes('6.3.3'), 'an overdue critical fix is 6.3.3 evidence');
    assert.ok(
      (image.packages as Json[]).some(
        (p) => p.package.name === 'jsonwebtoken' && p.locations[0] === '/app/package-lock.json',
      ),
      'the scan lists its packages with where they were found',
    );
    assert.ok(
      (image.blobs as Json[]).some(
        (b) => b.role === 'sbom' && b.mediaType === 'application/vnd.cyclonedx+json',
      ),
    );
  });

  test('the host scan is keyed by the node it assessed', () => {
    const host = scans.find((s) => s.scanner === 'host');
    assert.ok(host, 'the host scan ran');
    assert.equal(host.target.kind, 'node');
    assert.equal(host.target.node.rootPath, paths.nodeRoot);
    assert.equal(host.target.key, 'pay-worker-1');
  });

  let list: Json;
  let latest: Json;

  test('vigil report --list: one snapshot per completed scan, hash-chained', async () => {
    assert.equal(scans.length, SCANS.length, 'every scan ran before the list is read');
    ({ json: list } = await vigilJson(['report', '--list', ...common]));
    assert.equal(list.schemaVersion, 1);
    assert.deepEqual(list.scope, { tenant: '', cluster: 'default' });
    const snaps = list.snapshots as Json[];
    assert.deepEqual(
      snaps.map((s) => s.version),
      [1, 2, 3],
    );
    snaps.forEach((s, i) => {
      assert.match(s.contentHash, SHA256);
      assert.equal(s.frameworkVersion, '4.0.1');
      assert.equal(
        s.previousHash,
        i === 0 ? '' : snaps[i - 1]?.contentHash,
        `snapshot ${s.version} chains to the one before`,
      );
      assert.equal(s.summary.total, assessableIds().size);
      // Each version holds the findings of every scan so far (nothing was resolved in between). The correlator
      // joins the image and the manifests once both are in; its findings are folded after the k8s scan's snapshot,
      // so the host scan's version 3 is the first to hold them (checked against the report below).
      const sofar = scans.slice(0, i + 1).reduce((n, scan) => n + (scan.findings as Json[]).length, 0);
      if (i < 2)
        assert.equal(
          s.findingCounts.total,
          sofar,
          `snapshot ${s.version} counts the findings reported so far`,
        );
      else assert.ok(s.findingCounts.total > sofar, `snapshot ${s.version} adds correlated findings`);
    });
    assert.equal(new Set(snaps.map((s) => s.contentHash)).size, 3, 'each snapshot has its own content hash');
  });

  test('vigil report --list names the scan that made each snapshot', () => {
    const ids = (list?.snapshots as Json[] | undefined)?.map((s) => s.scanId);
    assert.deepEqual(
      ids,
      scans.map((s) => s.scanId),
    );
  });

  test('vigil report: the latest snapshot, every requirement of the catalog, statuses from the catalog', async () => {
    ({ json: latest } = await vigilJson(['report', ...common]));
    const raw = JSON.stringify(latest);
    assert.equal(latest.schemaVersion, 1);
    assert.deepEqual(latest.scope, { tenant: '', cluster: 'default' });
    assert.equal(latest.frameworkVersion, '4.0.1');
    assert.equal(latest.snapshotVersion, 3);
    assert.match(latest.contentHash, SHA256);
    const snaps = list.snapshots as Json[];
    assert.equal(latest.contentHash, snaps[2]?.contentHash, "the report is the list's version 3");
    assert.equal(latest.previousHash, snaps[1]?.contentHash, "previousHash is version 2's content hash");

    // Requirement set = the shared catalog's requirements and sub-requirements, each once.
    const catalog = assessableIds();
    const reqs = latest.requirements as Json[];
    const ids = reqs.map((r) => r.id as string);
    assert.equal(new Set(ids).size, ids.length, 'no requirement twice');
    assert.deepEqual([...ids].sort(), [...catalog.keys()].sort());

    // A merchant (the default entity type) is not assessed against what applies only to others. A requirement is
    // not in place exactly when findings name it, and then it lists them; the rest are not tested (no inventory
    // says which assets are in scope, so nothing can be shown in place yet).
    const scanned = new Set(scans.flatMap((s) => (s.findings as Json[]).map((f) => f.id as string)));
    // The correlator's findings join what the scans reported: each names findings a scan reported.
    const correlated = (latest.findings as Json[]).filter((f) => f.source === 'correlated');
    assert.ok(correlated.length > 0, 'the snapshot holds correlated findings');
    for (const c of correlated)
      for (const id of c.relatedFindingIds as string[])
        assert.ok(scanned.has(id), `${c.id} (${c.ruleId}) joins ${id}, which a scan reported`);
    const reported = new Set([...scanned, ...correlated.map((f) => f.id as string)]);
    assert.equal(
      (list.snapshots as Json[])[2]?.findingCounts.total,
      scanned.size + correlated.length,
      'version 3 = every scanned finding plus the correlated ones',
    );
    // The story an assessor expects: the OpenSSL flaw of the payment API's image, running in the CDE with open
    // egress, is one correlated finding that names image, workload, egress and the PCI ids.
    const story = correlated.filter(
      (f) =>
        f.ruleId === 'correlated/vulnerable-in-cde' &&
        (f.aliases as string[]).includes('CVE-2023-5363') &&
        f.package?.name === 'libssl3',
    );
    assert.equal(
      story.length,
      1,
      JSON.stringify(correlated.map((f) => [f.ruleId, f.aliases, f.package?.name])),
    );
    const ev = new Map((story[0]!.evidence as Json[]).map((e) => [e.key as string, e.value as string]));
    assert.equal(ev.get('workload'), 'Deployment/payments/payment-api');
    assert.match(ev.get('namespace') ?? '', /payments \(CDE\)/);
    assert.equal(ev.get('egress'), 'open');
    assert.ok((story[0]!.pciRequirements as string[]).includes('6.3.1'));
    for (const r of reqs) {
      const entry = catalog.get(r.id)!;
      assert.ok(REQUIREMENT_STATUSES.includes(r.status), `${r.id}: status is a plain word, got ${r.status}`);
      if (!appliesToPlainMerchant(entry)) {
        assert.equal(
          r.status,
          'not_applicable',
          `${r.id} (${entry.applicability}) does not apply to a merchant`,
        );
      } else if (r.status === 'not_in_place') {
        assert.ok(r.findingIds.length > 0, `${r.id} is not in place and names the findings that show it`);
        for (const id of r.findingIds)
          assert.ok(reported.has(id), `${r.id} names finding ${id}, which a scan reported`);
      } else {
        assert.deepEqual(r.findingIds, [], `${r.id} (${r.status}) fails on no finding`);
      }
      assert.equal(typeof r.reason, 'string');
      assert.ok(r.reason.length > 0, `${r.id} says why it has its status`);
      for (const k of ['findingIds', 'exceptedFindingIds', 'exceptionIds', 'evidence'])
        assert.ok(Array.isArray(r[k]), `${r.id}.${k} present`);
    }
    const applicable = [...catalog.values()].filter(appliesToPlainMerchant).length;
    assert.equal(latest.summary.total, catalog.size);
    assert.equal(latest.summary.notApplicable, catalog.size - applicable);
    assert.ok(latest.summary.notInPlace > 0, 'the example has requirements that are not in place');
    // From the example's README: no egress policy around the CDE, a secret in env, a cluster-admin binding,
    // ssh password authentication on the node.
    const status = new Map(reqs.map((r) => [r.id, r.status]));
    // And from the image: known-vulnerable packages (6.3.1, 11.3.1), an overdue critical fix (6.3.3).
    for (const id of ['1.3.2', '8.6.2', '7.2.1', '8.3.1', '6.3.1', '11.3.1', '6.3.3'])
      assert.equal(status.get(id), 'not_in_place', `${id}`);
    assert.equal(
      latest.summary.inPlace +
        latest.summary.notInPlace +
        latest.summary.notTested +
        latest.summary.notApplicable +
        latest.summary.manuallyAttested,
      latest.summary.total,
    );

    // The proto3 JSON mapping with plain enum words and every zero value written out.
    assert.doesNotMatch(raw, /REQUIREMENT_STATUS_|SEVERITY_|SCANNER_KIND_/);
    const open = latest.findings as Json[];
    assert.deepEqual(
      new Set(open.map((f) => f.id)),
      reported,
      'the snapshot holds every finding the scans reported',
    );
    const counts = latest.findingCounts;
    assert.equal(counts.total, open.length);
    assert.equal(counts.critical + counts.high + counts.medium + counts.low + counts.unknown, counts.total);
    assert.equal(counts.critical, open.filter((f) => f.severity === 'CRITICAL').length);
    assert.ok(
      Array.isArray(latest.logPosition) && latest.logPosition.length > 0,
      'the snapshot records its log position',
    );
  });

  test("vigil report --snapshot 2 is the list's version 2", async () => {
    const { json } = await vigilJson(['report', '--snapshot', '2', ...common]);
    assert.equal(json.snapshotVersion, 2);
    assert.equal(json.contentHash, (list.snapshots as Json[])[1]?.contentHash);
  });

  test('vigil report --diff 1..3 lists exactly the status changes between the two snapshots', async () => {
    const { json: first } = await vigilJson(['report', '--snapshot', '1', ...common]);
    const { json: diff } = await vigilJson(['report', '--diff', '1..3', ...common]);
    assert.equal(diff.schemaVersion, 1);
    assert.equal(diff.from, 1);
    assert.equal(diff.to, 3);
    assert.deepEqual(Object.keys(diff.findings).sort(), ['added', 'changed', 'closedQuietIds', 'resolved']);
    // Version 1 holds the image scan's findings; what versions 2 and 3 added is the rest, nothing resolved.
    const v1 = new Set((first.findings as Json[]).map((f) => f.id as string));
    assert.deepEqual(
      new Set((diff.findings.added as Json[]).map((f) => f.id)),
      new Set((latest.findings as Json[]).map((f) => f.id as string).filter((id) => !v1.has(id))),
    );
    assert.deepEqual(diff.findings.resolved, []);
    assert.deepEqual(diff.findings.closedQuietIds, []);
    assert.deepEqual(diff.findings.changed, []);
    const before = new Map((first.requirements as Json[]).map((r) => [r.id, r.status]));
    const expected = (latest.requirements as Json[])
      .filter((r) => before.get(r.id) !== r.status)
      .map((r) => ({ id: r.id, from: before.get(r.id), to: r.status }));
    assert.deepEqual(
      [...(diff.requirements as Json[])].sort((a, b) => String(a.id).localeCompare(String(b.id))),
      expected.sort((a, b) => String(a.id).localeCompare(String(b.id))),
    );
  });

  test('vigil report --format csv|sarif|html: the requirements, the findings, the auditor page with the key', async () => {
    const csv = await runVigil(['report', '--data-dir', dataDir, '--format', 'csv']);
    assert.equal(csv.code, 0, explain(['report', '--format', 'csv'], csv));
    const rows = csv.stdout.trim().split('\r\n'); // RFC 4180 lines end in CRLF
    assert.equal(
      rows[0],
      'requirement,title,status,reason,open_findings,excepted_findings,exceptions,evidence',
    );
    assert.ok(
      rows.some((r) => r.startsWith('6.3.1,') && r.includes(',not_in_place,')),
      'CSV has 6.3.1 not in place',
    );
    const { json: sarif } = await vigilJson(['report', '--data-dir', dataDir, '--format', 'sarif']);
    assert.equal((sarif.runs[0].results as Json[]).length, (latest.findings as Json[]).length);
    const key = await runVigil(['evidence', 'key', '--data-dir', dataDir]);
    assert.equal(key.code, 0, explain(['evidence', 'key'], key));
    const fingerprint = /sha256:[0-9a-f]{64}/.exec(key.stderr)?.[0];
    assert.ok(fingerprint, `vigil evidence key names its fingerprint: ${key.stderr}`);
    const html = await runVigil(['report', '--data-dir', dataDir, '--format', 'html']);
    assert.equal(html.code, 0, explain(['report', '--format', 'html'], html));
    assert.match(html.stdout, /^<!doctype html>/i);
    assert.ok(html.stdout.includes(fingerprint), 'the page prints the key fingerprint');
  });

  test('vigil report --format table is for people', async () => {
    const r = await runVigil(['report', '--data-dir', dataDir, '--format', 'table']);
    assert.equal(r.code, 0, explain(['report'], r));
    const lines = r.stdout.split('\n');
    assert.match(lines[0] ?? '', /^PCI DSS 4\.0\.1 compliance · scope default · snapshot 3\b/);
    assert.ok(lines.includes(`content ${latest.contentHash}`), 'the content hash is on its own line');
    assert.ok(lines.includes(`previous ${latest.previousHash}`), 'the previous hash is on its own line');
    assert.ok(
      lines.some((l) => /^Requirement 1: /.test(l)),
      'requirements are grouped under their principal',
    );
    assert.ok(
      lines.some((l) => /^\s+1\.1\.1\s+not_tested\s+0\s+\S/.test(l)),
      'a requirement row: id, status, findings, reason',
    );
    assert.doesNotMatch(r.stdout, /^\s*[{[]/, 'not JSON');
  });

  test('a successful one-shot off a terminal writes nothing on stderr', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await runVigil(['report', ...common]);
      assert.equal(r.code, 0, explain(['report'], r));
      assert.equal(r.stderr, '', explain(['report'], r));
    }
  });

  test('vigil scan with --fail-on high exits 1 while a HIGH or CRITICAL finding remains, and still prints it', async () => {
    const args = ['scan', 'k8s', 'examples/payments/k8s', '--fail-on', 'high', ...common];
    const { json, result } = await vigilJson(args, { expectCode: 1 });
    assert.equal(result.code, 1, explain(args, result));
    assert.ok((json.findings as Json[]).some((f) => f.severity === 'CRITICAL' || f.severity === 'HIGH'));
    const listed: CliResult = await runVigil(['report', '--list', ...common]);
    assert.equal(
      (JSON.parse(listed.stdout).snapshots as Json[]).length,
      4,
      'the gated scan made its snapshot too',
    );
  });
});
