import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAffected } from './osv-range.js';
import { compareVersions, versionScheme } from './registry.js';

describe('versionScheme registry', () => {
  it('maps OSV ecosystem names, with or without a release, to schemes', () => {
    assert.equal(versionScheme('Debian:12').id, 'dpkg');
    assert.equal(versionScheme('Ubuntu:Pro:18.04:LTS').id, 'dpkg');
    assert.equal(versionScheme('Alpine:v3.18').id, 'apk');
    assert.equal(versionScheme('Red Hat').id, 'rpm');
    assert.equal(versionScheme('npm').id, 'npm');
    assert.equal(versionScheme('PyPI').id, 'pep440');
    assert.equal(versionScheme('crates.io').id, 'semver');
    assert.equal(versionScheme('Packagist').id, 'packagist');
  });
  it('names an unknown ecosystem', () => {
    assert.throws(() => versionScheme('Haiku:r1'), /no version scheme for OSV ecosystem "Haiku:r1"/);
  });
  it('names an invalid version', () => {
    assert.throws(
      () => compareVersions('Debian:12', '1:', '1.0'),
      /invalid dpkg version "1:": empty upstream/,
    );
    assert.throws(
      () => versionScheme('PyPI').parse('1.0+'),
      /invalid pep440 version "1\.0\+": not a PEP 440 version/,
    );
    assert.throws(() => versionScheme('npm').parse('banana'), /invalid npm version "banana"/);
  });
  it('compares with the ecosystem order', () => {
    assert.equal(compareVersions('Debian:12', '3.0.11-1~deb12u1', '3.0.11-1'), -1);
    assert.equal(compareVersions('Go', 'v0.0.0-20230101000000-abcdef123456', 'v0.1.0'), -1);
    assert.equal(compareVersions('Go', 'v2.0.0+incompatible', 'v2.0.0'), 0);
    assert.equal(compareVersions('Maven', '1.0-SNAPSHOT', '1.0'), -1);
    assert.equal(compareVersions('Packagist', 'v1.2.3', '1.2.3'), 0);
  });
});

describe('constraints', () => {
  const npm = versionScheme('npm');
  it('npm ranges', () => {
    assert.equal(npm.satisfies!('1.2.9', '^1.2.3'), true);
    assert.equal(npm.satisfies!('2.0.0', '^1.2.3'), false);
    assert.equal(npm.satisfies!('0.2.9', '^0.2.3'), true);
    assert.equal(npm.satisfies!('0.3.0', '^0.2.3'), false);
    assert.equal(npm.satisfies!('1.2.9', '~1.2.3'), true);
    assert.equal(npm.satisfies!('1.3.0', '~1.2.3'), false);
    assert.equal(npm.satisfies!('1.5.0', '1.2.3 - 1.x'), true);
    assert.equal(npm.satisfies!('3.0.0', '<2 || >=3'), true);
    assert.equal(npm.satisfies!('1.3.0-beta', '>=1.2.0'), false, 'pre-release outside its tuple');
    assert.equal(npm.satisfies!('1.2.0-beta.2', '>=1.2.0-beta.1'), true);
  });
  it('PEP 440 specifiers', () => {
    const py = versionScheme('PyPI');
    assert.equal(py.satisfies!('2.2.5', '~=2.2'), true);
    assert.equal(py.satisfies!('3.0', '~=2.2'), false);
    assert.equal(py.satisfies!('1.4.2', '==1.4.*'), true);
    assert.equal(py.satisfies!('1.5', '>=1.0,!=1.5'), false);
    assert.equal(py.satisfies!('1.0.post1', '>1.0'), false, '> excludes post-releases of the bound');
  });
  it('Maven ranges', () => {
    const mvn = versionScheme('Maven');
    assert.equal(mvn.satisfies!('1.5', '[1.0,2.0)'), true);
    assert.equal(mvn.satisfies!('2.0', '[1.0,2.0)'), false);
    assert.equal(mvn.satisfies!('0.9', '(,1.0],[1.2,)'), true);
    assert.equal(mvn.satisfies!('1.1', '(,1.0],[1.2,)'), false);
  });
  it('Composer constraints', () => {
    const php = versionScheme('Packagist');
    assert.equal(php.satisfies!('1.9.0', '^1.2'), true);
    assert.equal(php.satisfies!('2.0.0', '^1.2'), false);
    assert.equal(php.satisfies!('1.2.9', '~1.2.3'), true);
    assert.equal(php.satisfies!('1.3.0', '~1.2.3'), false);
    assert.equal(php.satisfies!('5.4.1', '>=5.4 <6.0 || ^7.0@dev'), true);
  });
  it('RubyGems requirements', () => {
    const gem = versionScheme('RubyGems');
    assert.equal(gem.satisfies!('2.2.9', '~> 2.2.3'), true);
    assert.equal(gem.satisfies!('2.3.0', '~> 2.2.3'), false);
    assert.equal(gem.satisfies!('1.5', '>= 1.0, < 2'), true);
  });
});

describe('isAffected (OSV events)', () => {
  it('introduced/fixed is half-open, in the ecosystem order', () => {
    const ranges = [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.0.11-1~deb12u2' }] }];
    assert.equal(isAffected('Debian:12', '3.0.11-1~deb12u1', ranges), true);
    assert.equal(isAffected('Debian:12', '3.0.11-1~deb12u2', ranges), false);
    assert.equal(isAffected('Debian:12', '3.0.11-1', ranges), false);
  });
  it('last_affected is inclusive; several introduced/fixed pairs', () => {
    const ranges = [
      {
        type: 'ECOSYSTEM',
        events: [
          { introduced: '1.0.0' },
          { fixed: '1.2.0' },
          { introduced: '2.0.0' },
          { last_affected: '2.1.0' },
        ],
      },
    ];
    assert.equal(isAffected('npm', '0.9.0', ranges), false);
    assert.equal(isAffected('npm', '1.1.9', ranges), true);
    assert.equal(isAffected('npm', '1.5.0', ranges), false);
    assert.equal(isAffected('npm', '2.1.0', ranges), true);
    assert.equal(isAffected('npm', '2.1.1', ranges), false);
  });
  it('explicit versions and limit', () => {
    assert.equal(isAffected('PyPI', '1.0', { versions: ['1.0.0'] }), true, 'PEP 440 equal forms');
    const limited = [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { limit: '2.0' }] }];
    assert.equal(isAffected('PyPI', '1.9', limited), true);
    assert.equal(isAffected('PyPI', '2.0', limited), false);
  });
});

describe('PEP 440 exclusive bounds', () => {
  it('"<V" excludes pre-releases of V, ">V" excludes post-releases of V', () => {
    const py = versionScheme('PyPI');
    assert.equal(py.satisfies!('2.0rc1', '<2.0'), false);
    assert.equal(py.satisfies!('1.9', '<2.0'), true);
    assert.equal(py.satisfies!('2.0rc1', '<2.0rc2'), true);
    assert.equal(py.satisfies!('2.0.post1', '>2.0'), false);
    assert.equal(py.satisfies!('2.0.1', '>2.0'), true);
  });
});
