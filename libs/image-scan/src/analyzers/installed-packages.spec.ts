// Installed language packages and the files they installed: Ruby gemspecs, Python dist-info RECORD, node_modules
// package directories, apk's file list.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '@vigil/testing';
import { type FileEntry, MalformedInputError } from './analyzer.js';
import { extractPackages } from './extract.js';
import { parseGemspec } from './gemspec.analyzer.js';
import { recordFiles } from './python.analyzer.js';
import { isWanted } from './registry.js';

const text = (path: string, body: string): FileEntry => ({
  path,
  read: async () => new TextEncoder().encode(body),
});

// Written the way RubyGems 3.4's Gem::Specification#to_ruby writes an installed spec.
const RACK = `# -*- encoding: utf-8 -*-
# stub: rack 3.0.8 ruby lib

Gem::Specification.new do |s|
  s.name = "rack".freeze
  s.version = "3.0.8"

  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze) if s.respond_to? :required_rubygems_version=
  s.metadata = { "changelog_uri" => "https://github.com/rack/rack/blob/main/CHANGELOG.md" } if s.respond_to? :metadata=
  s.require_paths = ["lib".freeze]
  s.authors = ["Leah Neukirchen".freeze]
  s.date = "2023-06-14"
  s.licenses = ["MIT".freeze]
  s.required_ruby_version = Gem::Requirement.new(">= 2.4.0".freeze)
  s.rubygems_version = "3.4.10".freeze
  s.summary = "A modular Ruby webserver interface.".freeze

  s.installed_by_version = "3.4.10".freeze if s.respond_to? :installed_by_version
end
`;

// Older RubyGems (1.x) wrote %q{} literals and a single license.
const RAKE = `# -*- encoding: utf-8 -*-

Gem::Specification.new do |s|
  s.name = %q{rake}
  s.version = "0.8.7"
  s.rubygems_version = %q{1.3.7}
  s.license = %q{MIT}
end
`;

const NOKOGIRI = `Gem::Specification.new do |s|
  s.name = "nokogiri".freeze
  s.version = "1.15.4".freeze
  s.platform = "x86_64-linux".freeze
  s.licenses = ["MIT".freeze, "Apache-2.0".freeze]
end
`;

describe('installed Ruby gems (gemspec)', () => {
  it('reads name, version and licenses, and the gem directory it installed', async () => {
    const home = 'usr/local/bundle';
    const files = [
      text(`${home}/specifications/rack-3.0.8.gemspec`, RACK),
      text(`${home}/specifications/nokogiri-1.15.4-x86_64-linux.gemspec`, NOKOGIRI),
      text('usr/lib/ruby/gems/3.2.0/specifications/default/rake-0.8.7.gemspec', RAKE),
      text('usr/lib/ruby/gems/3.2.0/gems/rack-3.0.8/rack.gemspec', RACK),
    ];
    const kept = files.filter((f) => isWanted(f.path));
    assert.equal(kept.length, 3, 'a gemspec inside a gem is not an installed spec');
    const { packages } = await extractPackages(kept);
    assert.deepEqual(
      packages.map((p) => [p.name, p.version, p.licenses, p.installedFiles, p.purl, p.ecosystem]),
      [
        ['rack', '3.0.8', ['MIT'], [`${home}/gems/rack-3.0.8`], 'pkg:gem/rack@3.0.8', 'RubyGems'],
        [
          'nokogiri',
          '1.15.4',
          ['MIT', 'Apache-2.0'],
          [`${home}/gems/nokogiri-1.15.4-x86_64-linux`],
          'pkg:gem/nokogiri@1.15.4',
          'RubyGems',
        ],
        ['rake', '0.8.7', ['MIT'], [], 'pkg:gem/rake@0.8.7', 'RubyGems'],
      ],
    );
    assert.deepEqual(packages[0]!.lines, [5, 6]);
  });

  it('a gemspec without a literal name or version is an error naming it', () => {
    assert.throws(
      () =>
        parseGemspec('Gem::Specification.new do |s|\n  s.name = NAME\nend\n', 'x/specifications/a.gemspec'),
      (e: unknown) =>
        e instanceof MalformedInputError &&
        e.message === 'x/specifications/a.gemspec: no literal s.name assignment',
    );
  });
});

describe('installed Python packages: RECORD', () => {
  const site = '/root/.pyenv/versions/3.13.0/lib/python3.13/site-packages';
  const distInfo = existsSync(site)
    ? readdirSync(site).find((d) => /^pip-.*\.dist-info$/.test(d))
    : undefined;
  it("pip's own RECORD: every file it lists, relative to the root, and each exists", async (t) => {
    if (!distInfo) return t.skip(`no pip dist-info under ${site}`);
    const dir = join(site, distInfo);
    const files: FileEntry[] = ['METADATA', 'RECORD', 'WHEEL', 'entry_points.txt'].map((f) => ({
      path: join(dir, f).slice(1),
      read: async () => new Uint8Array(readFileSync(join(dir, f))),
    }));
    const kept = files.filter((f) => isWanted(f.path));
    assert.deepEqual(
      kept.map((f) => f.path.slice(f.path.lastIndexOf('/') + 1)),
      ['METADATA', 'RECORD'],
    );
    const { packages } = await extractPackages(kept);
    assert.equal(packages.length, 1);
    const pip = packages[0]!;
    assert.equal(pip.name, 'pip');
    const lines = readFileSync(join(dir, 'RECORD'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    assert.equal(pip.installedFiles.length, lines.length);
    assert.ok(
      pip.installedFiles.includes('root/.pyenv/versions/3.13.0/bin/pip3'),
      'scripts resolved from ../../../bin',
    );
    assert.ok(pip.installedFiles.includes(`${site.slice(1)}/pip/__init__.py`));
    const missing = pip.installedFiles.filter((f) => !existsSync(`/${f}`));
    assert.deepEqual(missing, []);
  });

  it('quoted paths with commas and absolute paths', () => {
    const record =
      '"pkg/a,b.py",sha256=x,10\n"pkg/q""uote.py",,\n/etc/pkg.conf,,\npkg-1.0.dist-info/RECORD,,\n';
    assert.deepEqual(recordFiles(record, 'usr/lib/python3/site-packages/pkg-1.0.dist-info/METADATA'), [
      'usr/lib/python3/site-packages/pkg/a,b.py',
      'usr/lib/python3/site-packages/pkg/q"uote.py',
      'etc/pkg.conf',
      'usr/lib/python3/site-packages/pkg-1.0.dist-info/RECORD',
    ]);
  });
});

describe('installed npm packages: the package directory', () => {
  it("the repo's own node_modules/yaml", async () => {
    const manifest = join(repoRoot(), 'node_modules/yaml/package.json');
    const version = (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
    const { packages } = await extractPackages([
      {
        path: 'app/node_modules/yaml/package.json',
        read: async () => new Uint8Array(readFileSync(manifest)),
      },
      text('app/node_modules/@babel/core/package.json', '{"name":"@babel/core","version":"7.24.0"}'),
    ]);
    assert.deepEqual(
      packages.map((p) => [p.name, p.version, p.installedFiles]),
      [
        ['yaml', version, ['app/node_modules/yaml']],
        ['@babel/core', '7.24.0', ['app/node_modules/@babel/core']],
      ],
    );
  });
});

describe('apk installed files', () => {
  it('F: and R: lines give each package its files', async () => {
    const db =
      'P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\nF:lib\nR:ld-musl-x86_64.so.1\nR:libc.musl-x86_64.so.1\n\n' +
      'P:busybox\nV:1.36.1-r5\nA:x86_64\nF:bin\nR:busybox\nF:etc\nR:securetty\n\n';
    const { packages } = await extractPackages([
      text('etc/os-release', 'ID=alpine\nVERSION_ID=3.19.1\n'),
      text('lib/apk/db/installed', db),
    ]);
    assert.deepEqual(
      packages.map((p) => [p.name, p.installedFiles]),
      [
        ['musl', ['lib/ld-musl-x86_64.so.1', 'lib/libc.musl-x86_64.so.1']],
        ['busybox', ['bin/busybox', 'etc/securetty']],
      ],
    );
  });
});
