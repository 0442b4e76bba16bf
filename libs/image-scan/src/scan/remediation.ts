// The fix a developer can paste for one vulnerable package: the package manager line of the image's own distro,
// naming the installed binary packages at the fixed version, or the manifest change for a language package, and
// the base image to move to when the base layers brought the package.
import type { ExtractedPackage, OsRelease } from '../analyzers/analyzer.js';
import { isOsEcosystem } from '../vulndb/match.js';

export interface RemediationInput {
  package: ExtractedPackage;
  fixedVersion?: string;
  /** Every package of the image, to find the other binaries built from the same source package. */
  siblings: readonly ExtractedPackage[];
  os: OsRelease | null;
  /** Set when the package came from a layer of the base image. */
  baseImage?: { name?: string; layer: number; createdBy?: string };
}

export interface RemediationText {
  summary: string;
  /** The change itself: a shell line for a Dockerfile RUN, or the manifest edit. Empty when there is no fix. */
  patch: string;
}

type Family = 'apt' | 'apk' | 'dnf' | 'yum' | 'zypper' | 'tdnf';

function distroFamily(os: OsRelease | null): Family | undefined {
  const ids = [os?.id ?? '', ...(os?.id_like ?? [])].map((s) => s.toLowerCase());
  const has = (...names: string[]) => ids.some((id) => names.includes(id));
  if (has('debian', 'ubuntu')) return 'apt';
  if (has('alpine', 'wolfi', 'chainguard')) return 'apk';
  if (has('amzn') && os?.version_id === '2') return 'yum';
  if (has('rhel', 'centos') && /^[67](\.|$)/.test(os?.version_id ?? '')) return 'yum';
  if (has('mariner', 'azurelinux')) return 'tdnf';
  if (has('rhel', 'fedora', 'centos', 'rocky', 'almalinux', 'amzn', 'ol')) return 'dnf';
  if (has('suse', 'opensuse', 'sles', 'opensuse-leap')) return 'zypper';
  return undefined;
}

const quote = (s: string) => (/^[A-Za-z0-9._+:=@\/~-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

// Binary packages built from the same source as `pkg`, pkg first; an advisory about the source fixes all of them.
function binariesOf(pkg: ExtractedPackage, siblings: readonly ExtractedPackage[]): ExtractedPackage[] {
  const source = pkg.sourceName ?? pkg.name;
  const same = siblings.filter(
    (p) =>
      p.ecosystem === pkg.ecosystem && (p.sourceName ?? p.name) === source && p.location === pkg.location,
  );
  const rest = same.filter((p) => p.name !== pkg.name).sort((a, b) => (a.name < b.name ? -1 : 1));
  return [pkg, ...rest];
}

function osLine(family: Family, input: RemediationInput, fixed: string): string {
  const binaries = binariesOf(input.package, input.siblings);
  switch (family) {
    case 'apt': {
      // A binary's own version equals its source's unless it was binNMU'd (+bN); pin only where they agree.
      const pins = binaries.map((b) =>
        !b.sourceVersion || b.sourceVersion === b.version ? `${b.name}=${fixed}` : b.name,
      );
      return `apt-get update && apt-get install -y --only-upgrade ${pins.map(quote).join(' ')} && rm -rf /var/lib/apt/lists/*`;
    }
    case 'apk':
      return `apk add --no-cache --upgrade ${binaries.map((b) => quote(`${b.name}>=${fixed}`)).join(' ')}`;
    case 'dnf':
    case 'yum':
    case 'tdnf': {
      // rpm fixed versions may carry an epoch ("1:3.0.7-27.el9"); the package spec wants name-version-release.
      const evr = fixed.replace(/^\d+:/, '');
      const cmd = family === 'tdnf' ? 'tdnf' : family;
      return `${cmd} upgrade -y ${binaries.map((b) => quote(`${b.name}-${evr}`)).join(' ')} && ${cmd} clean all`;
    }
    case 'zypper':
      return `zypper --non-interactive update ${binaries.map((b) => quote(`${b.name}>=${fixed}`)).join(' ')}`;
  }
}

function languageChange(pkg: ExtractedPackage, fixed: string): { summary: string; patch: string } {
  const file = `/${pkg.location}`;
  const base = file.split('/').pop() ?? file;
  const name = pkg.name;
  switch (pkg.ecosystem) {
    case 'npm': {
      if (base === 'package.json')
        return {
          summary: `upgrade ${name} to ${fixed} (installed under ${file.replace(/\/package\.json$/, '')})`,
          patch: `npm install ${name}@${fixed}`,
        };
      const direct = pkg.relationship === 'direct' || pkg.relationship === 'root';
      return direct
        ? { summary: `bump ${name} to ${fixed} in ${file}`, patch: `npm install ${name}@^${fixed}` }
        : {
            summary: `${name} is a transitive dependency in ${file}: upgrade the package that pulls it in, or pin it with "overrides" in package.json`,
            patch: JSON.stringify({ overrides: { [name]: `^${fixed}` } }),
          };
    }
    case 'PyPI':
      return base === 'METADATA'
        ? { summary: `upgrade ${name} to ${fixed}`, patch: `pip install --upgrade '${name}>=${fixed}'` }
        : base === 'poetry.lock'
          ? { summary: `bump ${name} to ${fixed} in ${file}`, patch: `poetry add '${name}>=${fixed}'` }
          : base === 'Pipfile.lock'
            ? { summary: `bump ${name} to ${fixed} in ${file}`, patch: `pipenv install '${name}>=${fixed}'` }
            : base === 'uv.lock'
              ? {
                  summary: `bump ${name} to ${fixed} in ${file}`,
                  patch: `uv lock --upgrade-package '${name}==${fixed}'`,
                }
              : { summary: `pin ${name} to ${fixed} in ${file}`, patch: `${name}==${fixed}` };
    case 'Go': {
      const v = fixed.startsWith('v') ? fixed : `v${fixed}`;
      return name === 'stdlib'
        ? {
            summary: `rebuild the binary ${file} with Go ${fixed.replace(/^v/, '')} or later`,
            patch: `FROM golang:${fixed.replace(/^v/, '')} AS build`,
          }
        : { summary: `bump ${name} to ${v}`, patch: `go get ${name}@${v} && go mod tidy` };
    }
    case 'Maven': {
      const [groupId, artifactId] = name.split(':');
      return {
        summary: `set ${name} to ${fixed} (pom.xml dependency or dependencyManagement)`,
        patch: `<dependency><groupId>${groupId}</groupId><artifactId>${artifactId}</artifactId><version>${fixed}</version></dependency>`,
      };
    }
    case 'crates.io':
      return {
        summary: `bump ${name} to ${fixed} in ${file}`,
        patch: `cargo update -p ${name} --precise ${fixed}`,
      };
    case 'RubyGems':
      return {
        summary: `bump ${name} to ${fixed} in ${file}`,
        patch: `bundle update --conservative ${name}   # Gemfile: gem '${name}', '>= ${fixed}'`,
      };
    case 'Packagist':
      return {
        summary: `bump ${name} to ${fixed} in ${file}`,
        patch: `composer require '${name}:^${fixed}'`,
      };
    default:
      return { summary: `upgrade ${name} to ${fixed} (${file})`, patch: '' };
  }
}

export function remediationFor(input: RemediationInput): RemediationText {
  const pkg = input.package;
  const fixed = input.fixedVersion;
  const basePart = input.baseImage
    ? ` The package comes from the base image${input.baseImage.name ? ` ${input.baseImage.name}` : ''} (layer ${input.baseImage.layer + 1}${input.baseImage.createdBy ? `: ${input.baseImage.createdBy.slice(0, 80)}` : ''}): rebuilding FROM its current release fixes it for every image built on it; until then, upgrade in the Dockerfile.`
    : '';
  if (!fixed)
    return {
      summary: `No fixed version of ${pkg.name} is published yet; track the advisory, and mitigate or record a risk acceptance.${basePart}`,
      patch: '',
    };
  const family =
    pkg.sourceName !== undefined || isOsEcosystem(pkg.ecosystem) ? distroFamily(input.os) : undefined;
  if (family) {
    const line = osLine(family, input, fixed);
    const names = binariesOf(pkg, input.siblings).map((b) => b.name);
    const subject =
      pkg.sourceName && pkg.sourceName !== pkg.name ? ` (source package ${pkg.sourceName})` : '';
    return {
      summary: `Upgrade ${names.join(', ')}${subject} to ${fixed}: add \`RUN ${line}\` to the Dockerfile.${basePart}`,
      patch: `RUN ${line}`,
    };
  }
  const change = languageChange(pkg, fixed);
  return {
    summary: `${change.summary[0]?.toUpperCase() ?? ''}${change.summary.slice(1)}.${basePart}`,
    patch: change.patch,
  };
}
