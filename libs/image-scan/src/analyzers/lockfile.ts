// Shared by the language analyzers: a package from a lockfile or manifest, and the file-name predicate.
import type { ExtractedPackage, Relationship } from './analyzer.js';
import { purl } from './purl.js';

export interface LockEntry {
  name: string;
  version: string;
  dev?: boolean;
  relationship?: Relationship;
  lines?: [number, number];
  dependsOn?: string[];
}

const PURL_TYPE: Record<string, string> = {
  npm: 'npm',
  PyPI: 'pypi',
  Go: 'golang',
  'crates.io': 'cargo',
  RubyGems: 'gem',
  Packagist: 'composer',
  Maven: 'maven',
};

export function toPackage(
  ecosystem: string,
  entry: LockEntry,
  location: string,
  foundBy: { id: string; version: number },
): ExtractedPackage {
  const type = PURL_TYPE[ecosystem] ?? ecosystem.toLowerCase();
  // purl puts a scope or path prefix in the namespace: @babel/core -> pkg:npm/%40babel/core, Go modules by path.
  const slash = entry.name.lastIndexOf('/');
  const namespace = slash > 0 && type !== 'pypi' ? entry.name.slice(0, slash) : undefined;
  const name = slash > 0 && type !== 'pypi' ? entry.name.slice(slash + 1) : entry.name;
  const pkg: ExtractedPackage = {
    ecosystem,
    name: entry.name,
    version: entry.version,
    purl: purl(type, namespace, type === 'pypi' ? pep503(name) : name, entry.version || undefined),
    installedFiles: [],
    location,
    foundBy,
  };
  if (entry.dev !== undefined) pkg.dev = entry.dev;
  if (entry.relationship) pkg.relationship = entry.relationship;
  if (entry.lines) pkg.lines = entry.lines;
  return pkg;
}

/** PEP 503 normalised project name: lowercase, runs of -_. as one "-". */
export function pep503(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
