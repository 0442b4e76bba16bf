// Canonical version keys against the schemes' own compare, over the corpus's version vectors and the versions
// lists of its real OSV records: for every pair, compare(a, b) == 0 exactly when key(a) == key(b).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { corpusPath } from '@vigil/testing';
import { dpkgScheme } from './dpkg.version.js';
import { npmScheme } from './npm-range.js';
import { pep440Scheme } from './pep440.version.js';
import { versionScheme } from './registry.js';
import type { VersionScheme } from './scheme.js';
import { goScheme, nugetScheme, semverScheme } from './semver.version.js';
import { hasVersionKeys, schemeVersionKey, versionKey } from './version-key.js';

const KEYED: VersionScheme[] = [dpkgScheme, npmScheme, semverScheme, goScheme, pep440Scheme, nugetScheme];

function readable(scheme: VersionScheme, v: string): boolean {
  try {
    scheme.parse(v);
    return true;
  } catch {
    return false;
  }
}

/** Every version string the corpus offers a scheme: its vector files, and the versions lists of real records. */
function corpusVersions(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>(KEYED.map((s) => [s.id, new Set<string>()]));
  const vectors = corpusPath('image', 'versions');
  const fileScheme: Record<string, string[]> = {
    dpkg: ['dpkg'],
    pep440: ['pep440'],
    semver: ['semver', 'npm', 'go'],
    nuget: ['nuget'],
  };
  for (const f of readdirSync(vectors).filter((n) => n.endsWith('.json'))) {
    const data = JSON.parse(readFileSync(join(vectors, f), 'utf8')) as {
      scheme: string;
      comparisons: [string, string, number][];
      validity?: [string, boolean][];
      normalization?: [string, string][];
    };
    for (const id of fileScheme[data.scheme] ?? []) {
      const set = out.get(id)!;
      for (const [a, b] of data.comparisons) set.add(a).add(b);
      for (const [v] of data.validity ?? []) set.add(v);
      for (const [a, b] of data.normalization ?? []) set.add(a).add(b);
    }
  }
  const records = corpusPath('image', 'advisories', 'records');
  for (const f of readdirSync(records)) {
    const r = JSON.parse(readFileSync(join(records, f), 'utf8')) as {
      affected?: { package?: { ecosystem: string }; versions?: string[] }[];
    };
    for (const a of r.affected ?? []) {
      if (!a.package || !a.versions) continue;
      let id: string;
      try {
        id = versionScheme(a.package.ecosystem).id;
      } catch {
        continue;
      }
      for (const v of a.versions) out.get(id)?.add(v);
    }
  }
  return out;
}

const versions = corpusVersions();

describe('canonical version keys', () => {
  for (const scheme of KEYED) {
    it(`${scheme.id}: compare(a, b) == 0 exactly when the keys are equal, for every pair of corpus versions`, () => {
      const all = [...versions.get(scheme.id)!];
      const valid = all.filter((v) => readable(scheme, v));
      assert.ok(valid.length >= 30, `${scheme.id}: only ${valid.length} readable corpus versions`);
      const keys = valid.map((v) => schemeVersionKey(scheme.id, v));
      let equalPairs = 0;
      for (let i = 0; i < valid.length; i++)
        for (let j = i + 1; j < valid.length; j++) {
          const same = scheme.compare(valid[i]!, valid[j]!) === 0;
          if (same) equalPairs++;
          assert.equal(
            keys[i] === keys[j],
            same,
            `${scheme.id}: ${JSON.stringify(valid[i])} vs ${JSON.stringify(valid[j])}: compare says ${same ? 'equal' : 'different'}, keys ${JSON.stringify(keys[i])} and ${JSON.stringify(keys[j])}`,
          );
        }
      // The vectors hold equalities of different spellings; a key that only ever saw distinct versions proves little.
      assert.ok(equalPairs > 0, `${scheme.id}: no pair of different spellings compares equal`);
    });
  }

  it("versionKey agrees with the matcher's list test (same text, or compare equal) including unreadable versions", () => {
    const cases: [string, string[]][] = [
      ['Debian:12', [...versions.get('dpkg')!]],
      ['npm', [...versions.get('npm')!]],
      ['PyPI', [...versions.get('pep440')!].slice(0, 400)],
      ['NuGet', [...versions.get('nuget')!]],
    ];
    for (const [ecosystem, list] of cases) {
      const scheme = versionScheme(ecosystem);
      const listed = (a: string, b: string) => {
        if (a === b) return true;
        try {
          return scheme.compare(a, b) === 0;
        } catch {
          return false;
        }
      };
      for (let i = 0; i < list.length; i++)
        for (let j = i + 1; j < list.length; j++)
          assert.equal(
            versionKey(ecosystem, list[i]!) === versionKey(ecosystem, list[j]!),
            listed(list[i]!, list[j]!),
            `${ecosystem}: ${JSON.stringify(list[i])} vs ${JSON.stringify(list[j])}`,
          );
    }
  });

  it('gives known equal spellings one key and keeps apart what the scheme orders', () => {
    assert.equal(versionKey('Debian:12', '1.0-1'), versionKey('Debian:12', '0:1.0-1'));
    assert.equal(versionKey('Debian:12', '1.0a'), versionKey('Debian:12', '1.0a0'));
    assert.notEqual(versionKey('Debian:12', '1.0'), versionKey('Debian:12', '1.0.0'));
    assert.equal(versionKey('npm', '1.2.3+build.5'), versionKey('npm', 'v1.2.3'));
    assert.notEqual(versionKey('npm', '1.2.3-rc.1'), versionKey('npm', '1.2.3'));
    assert.equal(versionKey('Go', 'v1.20.0'), versionKey('Go', '1.20'));
    assert.equal(versionKey('PyPI', '1.0.0'), versionKey('PyPI', '1.0'));
    assert.equal(versionKey('PyPI', '1.0-alpha-1'), versionKey('PyPI', '1.0a1'));
    assert.equal(versionKey('NuGet', '1.0.0-BETA'), versionKey('NuGet', '1.0-beta'));
    // Unreadable versions equal only themselves.
    assert.equal(versionKey('npm', 'not-a-version'), 'r:not-a-version');
  });

  it('has no key for schemes whose equality is not captured, nor for unknown ecosystems', () => {
    for (const ecosystem of ['Alpine:v3.19', 'Red Hat', 'Maven', 'RubyGems', 'Packagist', 'NoSuchEcosystem'])
      assert.equal(versionKey(ecosystem, '1.0'), undefined, ecosystem);
    assert.equal(hasVersionKeys('apk'), false);
    assert.equal(hasVersionKeys('dpkg'), true);
    assert.throws(() => schemeVersionKey('rpm', '1.0'), /version scheme "rpm" has no canonical version keys/);
  });
});
