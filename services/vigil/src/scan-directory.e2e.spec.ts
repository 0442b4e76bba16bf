// `vigil scan fs <dir>` and `vigil scan rootfs <dir>` through the real `vigil` binary on a fresh embedded data dir
// with the example advisories imported: a source tree holding a corpus lockfile next to the example's lockfile, the
// example image's root filesystem, and an empty directory. Each exits 0 with the findings in its JSON output and
// nothing on stderr (these scans used to exit 2 with a JSON error log and a stack: the SBOM wanted an image digest).
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { corpusPath, repoRoot } from '@vigil/testing';
import { vigilCli } from './vigil-cli.spec-helper.js';

interface ScanJson {
  status: string;
  error: string;
  target: { image?: { digest: string } };
  findings: { ruleId: string; package?: { name: string; version: string }; locations: string[] }[];
  packages: { package: { name: string; version: string }; locations: string[] }[];
  counts: { total: number };
}

const root = repoRoot();
const tmp = mkdtempSync(join(tmpdir(), 'vigil-scan-dir-'));
const dataDir = join(tmp, 'data');
const sourceTree = join(tmp, 'service');
const emptyDir = join(tmp, 'empty');
const ROOTFS = join(root, 'examples/payments/image/rootfs');

const vigil = vigilCli(dataDir);

async function scanJson(kind: 'fs' | 'rootfs', dir: string): Promise<ScanJson> {
  const r = await vigil('scan', kind, dir, '--format', 'json');
  assert.equal(r.code, 0, `vigil scan ${kind} ${dir}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  assert.equal(r.stderr, '', `vigil scan ${kind} ${dir} wrote to stderr`);
  const out = JSON.parse(r.stdout) as ScanJson;
  assert.equal(out.status, 'ok', out.error);
  assert.match(out.target.image?.digest ?? '', /^sha256:[0-9a-f]{64}$/);
  return out;
}

const has = (out: ScanJson, rule: string, pkg: string) =>
  out.findings.some((f) => f.ruleId === rule && f.package?.name === pkg);

describe('vigil scan fs and rootfs on directories', () => {
  before(async () => {
    mkdirSync(join(sourceTree, 'web'), { recursive: true });
    copyFileSync(
      corpusPath('image', 'lockfiles', 'npm-lock-v2', 'package-lock.json'),
      join(sourceTree, 'package-lock.json'),
    );
    copyFileSync(join(ROOTFS, 'app/package-lock.json'), join(sourceTree, 'web/package-lock.json'));
    mkdirSync(emptyDir);
    const imported = await vigil('db', 'import', 'examples/payments/advisories');
    assert.equal(imported.code, 0, `vigil db import: ${imported.stdout}\n${imported.stderr}`);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('scan fs: exit 0, the example advisories found in the lockfile, stderr empty', async () => {
    const out = await scanJson('fs', sourceTree);
    assert.ok(has(out, 'CVE-2021-23337', 'lodash'), out.findings.map((f) => f.ruleId).join(', '));
    const lodash = out.findings.find((f) => f.ruleId === 'CVE-2021-23337')!;
    assert.deepEqual(lodash.locations, ['/web/package-lock.json']);
    // The corpus lockfile's packages are listed too, though no example advisory names them.
    assert.ok(
      out.packages.some(
        (p) =>
          p.package.name === 'body-parser' &&
          p.package.version === '1.18.3' &&
          p.locations.includes('/package-lock.json'),
      ),
      out.packages.map((p) => `${p.package.name}@${p.package.version}`).join(', '),
    );
    assert.equal(out.counts.total, out.findings.length);
  });

  it('scan rootfs on the example root filesystem: exit 0, OS and npm findings, stderr empty', async () => {
    const out = await scanJson('rootfs', ROOTFS);
    assert.ok(has(out, 'CVE-2023-5363', 'libssl3'), out.findings.map((f) => f.ruleId).join(', '));
    assert.ok(has(out, 'CVE-2021-23337', 'lodash'));
  });

  for (const kind of ['fs', 'rootfs'] as const) {
    it(`scan ${kind} on an empty directory: exit 0, no packages, no findings, stderr empty`, async () => {
      const out = await scanJson(kind, emptyDir);
      assert.deepEqual(out.findings, []);
      assert.deepEqual(out.packages, []);
      assert.equal(out.counts.total, 0);
    });
  }
});
