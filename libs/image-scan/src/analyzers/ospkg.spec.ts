// Every case of ../shared/corpus/image/ospkg through extractPackages: the reported package set must equal the
// case's expected set (name, version, arch, source name and version), plus the optional facts the case asserts
// (purl, installed files, transitional, which file recorded it). os-release cases compare the identified release.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { corpusPath } from '@vigil/testing';
import type { ExtractedPackage, FileEntry, OsRelease } from './analyzer.js';
import { extractPackages } from './extract.js';
import { identify } from './os-release.analyzer.js';
import { isWanted } from './registry.js';

interface ExpectedPackage {
  name: string;
  version: string;
  arch?: string;
  source_name: string;
  source_version: string;
  purl?: string;
  installed_files?: string[];
  transitional?: boolean;
  input?: string;
}

interface Case {
  format: string;
  os: { id: string; version_id?: string; codename?: string } | null;
  packages?: ExpectedPackage[];
  roots?: { root: string; release: OsRelease | null }[];
}

const casesDir = corpusPath('image', 'ospkg');

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/** A root directory as the analyzers see a filesystem: relative paths, lazily read. */
export function rootFiles(root: string): FileEntry[] {
  return walk(root).map((abs) => ({
    path: relative(root, abs),
    read: async () => new Uint8Array(await readFile(abs)),
  }));
}

function key(p: { name: string; version: string; arch?: string | undefined }): string {
  return `${p.name}@${p.version}:${p.arch ?? ''}`;
}

function differences(want: ExpectedPackage, got: ExtractedPackage, caseDir: string, root: string): string[] {
  const d: string[] = [];
  if (got.sourceName !== want.source_name) d.push(`source_name ${got.sourceName} != ${want.source_name}`);
  if (got.sourceVersion !== want.source_version)
    d.push(`source_version ${got.sourceVersion} != ${want.source_version}`);
  if (want.purl !== undefined && got.purl !== want.purl) d.push(`purl ${got.purl} != ${want.purl}`);
  if (
    want.installed_files !== undefined &&
    [...got.installedFiles].sort().join('\n') !== [...want.installed_files].sort().join('\n')
  )
    d.push(
      `installed_files ${JSON.stringify(got.installedFiles)} != ${JSON.stringify(want.installed_files)}`,
    );
  if (want.transitional !== undefined && (got.transitional ?? false) !== want.transitional)
    d.push(`transitional ${got.transitional} != ${want.transitional}`);
  if (want.input !== undefined && relative(caseDir, join(root, got.location)) !== want.input)
    d.push(`location ${got.location} != ${want.input}`);
  return d;
}

const cases = readdirSync(casesDir)
  .filter((c) => existsSync(join(casesDir, c, 'expected.json')))
  .sort();
const tally = { matched: 0, total: 0 };

describe('OS package corpus (ospkg)', () => {
  for (const name of cases) {
    const dir = join(casesDir, name);
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Case;
    it(`${name}: ${expected.format}`, async (t) => {
      const disagreements: string[] = [];
      let matched = 0;
      let total = 0;
      if (expected.format === 'os-release') {
        for (const r of expected.roots ?? []) {
          total++;
          const texts = new Map<string, string>();
          for (const f of rootFiles(join(dir, r.root)))
            texts.set(f.path, new TextDecoder().decode(await f.read()));
          const got = identify(texts);
          try {
            assert.deepEqual(got, r.release);
            matched++;
          } catch {
            disagreements.push(
              `${r.root}: got ${JSON.stringify(got)}, expected ${JSON.stringify(r.release)}`,
            );
          }
        }
      } else {
        const roots = readdirSync(dir)
          .filter((d) => d.startsWith('rootfs'))
          .map((d) => join(dir, d));
        const got: ExtractedPackage[] = [];
        const gotRoot = new Map<ExtractedPackage, string>();
        for (const root of roots) {
          const files = rootFiles(root);
          // The image reader keeps only wanted files; check the predicate keeps the database.
          const kept = files.filter((f) => isWanted(f.path));
          const os = expected.os
            ? {
                id: expected.os.id,
                ...(expected.os.version_id ? { version_id: expected.os.version_id } : {}),
              }
            : null;
          const res = await extractPackages(kept, { os });
          for (const p of res.packages) gotRoot.set(p, root);
          got.push(...res.packages);
        }
        const byKey = new Map(got.map((p) => [key(p), p]));
        for (const want of expected.packages ?? []) {
          total++;
          const p = byKey.get(key(want));
          if (!p) {
            disagreements.push(`missing ${key(want)}`);
            continue;
          }
          const d = differences(want, p, dir, gotRoot.get(p)!);
          if (d.length) disagreements.push(`${key(want)}: ${d.join('; ')}`);
          else matched++;
          byKey.delete(key(want));
        }
        for (const extra of byKey.keys()) {
          total++;
          disagreements.push(`unexpected ${extra}`);
        }
      }
      tally.matched += matched;
      tally.total += total;
      t.diagnostic(`${name}: ${matched}/${total} match`);
      for (const d of disagreements.slice(0, 30)) t.diagnostic(d);
      assert.deepEqual(disagreements, []);
    });
  }
  it('quality gate: every ospkg case matched', (t) => {
    t.diagnostic(`ospkg total: ${tally.matched}/${tally.total}`);
    assert.ok(tally.total >= 158, `at least 158 expectations checked, got ${tally.total}`);
    assert.equal(tally.matched, tally.total);
  });
});
