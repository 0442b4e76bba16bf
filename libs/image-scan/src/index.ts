export { versionScheme, compareVersions, schemes, UnknownEcosystemError } from './versions/registry.js';
export { isAffected, inRange, type OsvAffected, type OsvEvent, type OsvRange } from './versions/osv-range.js';
export {
  InvalidVersionError,
  InvalidConstraintError,
  type VersionScheme,
  type Sign,
} from './versions/scheme.js';
export { analyzers, osAnalyzers, packageAnalyzers, isWanted } from './analyzers/registry.js';
export { extractPackages, type ExtractOptions, type ExtractResult } from './analyzers/extract.js';
export {
  MalformedInputError,
  type Analyzer,
  type OsAnalyzer,
  type PackageAnalyzer,
  type AnalyzerContext,
  type ExtractedPackage,
  type FileEntry,
  type OsRelease,
  type Relationship,
} from './analyzers/analyzer.js';
export { osvEcosystem } from './analyzers/os-release.analyzer.js';
export { purl } from './analyzers/purl.js';
