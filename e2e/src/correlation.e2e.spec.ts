// Issue 7's story, command by command through the real CLI on one fresh data dir: the OpenSSL flaw (CVE-2023-5363
// in libssl3) of the example's payment-api image, running in the CDE namespace `payments` with open egress, is one
// correlated finding; applying the NetworkPolicy vigil generated lowers its priority; a Falco shell alert in that
// container raises it; scanning the image rebuilt with the fixed package resolves it.
//
// The names (my-payment-app, prod, payment-processor) are kept as the example's own (payment-api, payments,
// Deployment/payments/payment-api): renaming the example would touch every test and doc that reads it.
//
// Snapshots are taken when a scan completes, and the correlator publishes what a scan changed after that scan's
// snapshot (a correlation is not a scan cycle of its own). So each step is read in a requested snapshot
// (`vigil snapshot`): the pipeline has caught up and the correlator has published before that version is made.
// Every command is a new process that publishes a correlation of its own; they follow each other by the time on
// their completions (without one, the reporting side fell back to ordering them by scan id, a hash, and an older
// correlation could win: the raise and the resolution were lost that way).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@vigil/testing';
import { explain, freshTempDir, vigilJson, type Json } from './vigil-cli.js';

const IMAGE_REF = 'registry.example.com/acme/payment-api:1.4.2';
const WORKLOAD = 'Deployment/payments/payment-api';
const SHELL_POD = 'payment-api-7d4b9c6f5-k2x8p';

/** The one correlated finding of the story in a snapshot, or undefined when it is not there. */
function story(snapshot: Json): Json | undefined {
  const found = (snapshot.findings as Json[]).filter(
    (f) =>
      f.source === 'correlated' &&
      f.ruleId === 'correlated/vulnerable-in-cde' &&
      (f.aliases as string[]).includes('CVE-2023-5363') &&
      f.package?.name === 'libssl3',
  );
  assert.ok(found.length <= 1, `at most one story finding, got ${found.map((f) => f.id).join(', ')}`);
  return found[0];
}

const evidence = (f: Json, key: string): string[] =>
  (f.evidence as Json[]).filter((e) => e.key === key).map((e) => e.value as string);
const priority = (f: Json): number => Number(evidence(f, 'priority')[0]);

describe('correlation story on examples/payments through the CLI', () => {
  const tmp = freshTempDir('correlation');
  const common = ['--data-dir', tmp.dataDir, '--format', 'json'];
  const paths = { imageDir: join(tmp.dir, 'image'), manifests: join(tmp.dir, 'k8s') };
  const snapshots: Json[] = [];
  let configScan: Json;

  const run = async (args: string[]): Promise<Json> => {
    const all = [...args, ...common];
    const { json, result } = await vigilJson(all);
    assert.equal(result.code, 0, explain(all, result));
    return json;
  };
  const latestSnapshot = async (): Promise<Json> => {
    const report = await run(['report']);
    snapshots.push(report);
    return report;
  };
  /** A snapshot requested now, then read back: it holds what the commands before it correlated. */
  const currentSnapshot = async (): Promise<Json> => {
    await run(['snapshot']);
    return latestSnapshot();
  };
  const buildImage = (script: string) => {
    const r = spawnSync(process.execPath, [script, paths.imageDir], { cwd: repoRoot(), encoding: 'utf8' });
    assert.equal(r.status, 0, `${script} failed:\n${r.stdout}\n${r.stderr}`);
  };

  before(() => {
    buildImage('examples/payments/image/build.mjs');
    // The manifests are scanned from a copy: the fix goes into the same directory, so the second scan has the
    // first one's target and resolves what the policy fixed.
    cpSync(join(repoRoot(), 'examples/payments/k8s'), paths.manifests, { recursive: true });
  });
  after(() => tmp.remove());

  test('scan image + manifests: one correlated finding naming image, workload, open egress and PCI ids', async () => {
    await run(['db', 'import', 'examples/payments/advisories']);
    const image = await run(['scan', 'image', join(paths.imageDir, 'payment-api.tar')]);
    assert.equal(image.target.image.ref, IMAGE_REF);
    configScan = await run(['scan', 'k8s', paths.manifests]);
    const f = story(await currentSnapshot());
    assert.ok(f, 'the snapshot after image and manifests holds the story finding');
    assert.match(f.id, /^correlated-[0-9a-f]{32}$/);
    assert.equal(f.asset.imageRef, IMAGE_REF);
    assert.equal(f.asset.imageDigest, image.target.image.digest);
    assert.equal(f.asset.container, 'api');
    assert.deepEqual(evidence(f, 'workload'), [WORKLOAD]);
    assert.deepEqual(evidence(f, 'namespace'), ['payments (CDE)']);
    assert.deepEqual(evidence(f, 'egress'), ['open']);
    assert.deepEqual(evidence(f, 'image'), [IMAGE_REF]);
    // No pod is known yet: manifests have none, and no runtime detection named one.
    assert.deepEqual(evidence(f, 'pod'), []);
    for (const id of ['6.3.1', '11.3.1'])
      assert.ok((f.pciRequirements as string[]).includes(id), `names PCI DSS ${id}`);
    // It joins the image finding and the config finding that names the open egress.
    const egress = (configScan.findings as Json[]).find(
      (x) => x.ruleId === 'net/no-egress-networkpolicy' && x.asset?.name === 'payment-api',
    );
    assert.ok(egress, 'the config scan reports the open egress of payment-api');
    const vuln = (image.findings as Json[]).find(
      (x) => x.ruleId === 'CVE-2023-5363' && x.package?.name === 'libssl3',
    );
    assert.ok(vuln, 'the image scan reports CVE-2023-5363 in libssl3');
    assert.deepEqual(f.relatedFindingIds, [egress.id, vuln.id].sort());
    assert.match(evidence(f, 'priority-factors')[0] ?? '', /egress open/);
  });

  test('re-scanning with the generated NetworkPolicy applied lowers its priority', async () => {
    const before = story(snapshots.at(-1)!)!;
    const egress = (configScan.findings as Json[]).find(
      (x) => x.ruleId === 'net/no-egress-networkpolicy' && x.asset?.name === 'payment-api',
    )!;
    const patch = egress.remediation.patch as string;
    assert.match(patch, /"kind":"NetworkPolicy"/);
    writeFileSync(join(paths.manifests, '70-payment-api-egress.json'), patch);
    await run(['scan', 'k8s', paths.manifests]);
    const after = story(await currentSnapshot());
    assert.ok(after, 'still open: the vulnerable package is still in the image');
    assert.equal(after.id, before.id, 'the same correlated finding, re-prioritized');
    assert.deepEqual(evidence(after, 'egress'), ['restricted']);
    assert.ok(priority(after) < priority(before), `${priority(after)} < ${priority(before)}`);
    assert.doesNotMatch(evidence(after, 'priority-factors')[0] ?? '', /egress open/);
  });

  test('a Falco shell detection in that container raises it and names the pod', async () => {
    const lowered = story(snapshots.at(-1)!)!;
    const ingest = await run(['ingest', 'falco', 'examples/payments/runtime/falco-alerts.jsonl']);
    assert.ok((ingest.findings as Json[]).some((x) => x.ruleId === 'falco:Terminal shell in container'));
    const raised = story(await currentSnapshot());
    assert.ok(raised);
    assert.equal(raised.id, lowered.id);
    assert.ok(priority(raised) > priority(lowered), `${priority(raised)} > ${priority(lowered)}`);
    assert.match(evidence(raised, 'priority-factors')[0] ?? '', /falco:Terminal shell in container/);
    assert.deepEqual(evidence(raised, 'pod'), [SHELL_POD]);
  });

  test('scanning the image rebuilt with the fixed OpenSSL resolves it', async () => {
    const open = story(snapshots.at(-1)!)!;
    // The example's build script over a copy of its root filesystem whose dpkg database has the DSA-5532-1 fix
    // (3.0.11-1~deb12u2): the same reference and archive path, a new digest.
    const src = join(tmp.dir, 'image-src');
    cpSync(join(repoRoot(), 'examples/payments/image'), src, { recursive: true });
    const status = join(src, 'rootfs/var/lib/dpkg/status');
    const was = readFileSync(status, 'utf8');
    const fixed = was.replaceAll('Version: 3.0.11-1~deb12u1', 'Version: 3.0.11-1~deb12u2');
    assert.notEqual(fixed, was, `${status} has OpenSSL 3.0.11-1~deb12u1 to upgrade`);
    writeFileSync(status, fixed);
    buildImage(join(src, 'build.mjs'));
    const rebuilt = await run(['scan', 'image', join(paths.imageDir, 'payment-api.tar')]);
    assert.equal(rebuilt.target.image.ref, IMAGE_REF);
    assert.notEqual(rebuilt.target.image.digest, open.asset.imageDigest);
    assert.ok(!(rebuilt.findings as Json[]).some((x) => x.ruleId === 'CVE-2023-5363'));
    const snapshot = await currentSnapshot();
    assert.equal(story(snapshot), undefined, 'the story finding is resolved');
    assert.ok(
      !(snapshot.findings as Json[]).some((x) => x.id === open.id),
      `${open.id} is no longer in the snapshot`,
    );
  });
});
