// OSV ecosystem name -> version scheme. Distro ecosystems carry a release after ":" (Debian:12, Alpine:v3.18,
// Ubuntu:Pro:18.04:LTS); the part before the first ":" picks the scheme.
import { apkScheme } from './apk.version.js';
import { dpkgScheme } from './dpkg.version.js';
import { mavenScheme } from './maven.version.js';
import { npmScheme } from './npm-range.js';
import { packagistScheme } from './packagist.version.js';
import { pep440Scheme } from './pep440.version.js';
import { rpmScheme } from './rpm.version.js';
import { rubygemsScheme } from './rubygems.version.js';
import type { VersionScheme } from './scheme.js';
import { goScheme, nugetScheme, semverScheme } from './semver.version.js';

const BY_ECOSYSTEM: Record<string, VersionScheme> = {
  Debian: dpkgScheme,
  Ubuntu: dpkgScheme,
  Alpine: apkScheme,
  Wolfi: apkScheme,
  Chainguard: apkScheme,
  'Red Hat': rpmScheme,
  AlmaLinux: rpmScheme,
  'Rocky Linux': rpmScheme,
  openSUSE: rpmScheme,
  SUSE: rpmScheme,
  openEuler: rpmScheme,
  Mageia: rpmScheme,
  'Amazon Linux': rpmScheme,
  npm: npmScheme,
  'crates.io': semverScheme,
  Hex: semverScheme,
  Go: goScheme,
  PyPI: pep440Scheme,
  Maven: mavenScheme,
  RubyGems: rubygemsScheme,
  Packagist: packagistScheme,
  NuGet: nugetScheme,
};

export const schemes: readonly VersionScheme[] = [
  dpkgScheme,
  apkScheme,
  rpmScheme,
  npmScheme,
  semverScheme,
  goScheme,
  pep440Scheme,
  mavenScheme,
  rubygemsScheme,
  packagistScheme,
  nugetScheme,
];

export class UnknownEcosystemError extends Error {
  constructor(readonly ecosystem: string) {
    super(`no version scheme for OSV ecosystem ${JSON.stringify(ecosystem)}`);
    this.name = 'UnknownEcosystemError';
  }
}

export function versionScheme(ecosystem: string): VersionScheme {
  const base = ecosystem.split(':')[0]!.trim();
  const scheme = Object.hasOwn(BY_ECOSYSTEM, base) ? BY_ECOSYSTEM[base] : undefined;
  if (!scheme) throw new UnknownEcosystemError(ecosystem);
  return scheme;
}

export function compareVersions(ecosystem: string, a: string, b: string): -1 | 0 | 1 {
  return versionScheme(ecosystem).compare(a, b);
}
