export { versionScheme, compareVersions, schemes, UnknownEcosystemError } from './versions/registry.js';
export { isAffected, inRange, type OsvAffected, type OsvEvent, type OsvRange } from './versions/osv-range.js';
export {
  InvalidVersionError,
  InvalidConstraintError,
  type VersionScheme,
  type Sign,
} from './versions/scheme.js';
export {
  analyzers,
  osAnalyzers,
  packageAnalyzers,
  isWanted,
  isWantedContent,
  keptContentOf,
} from './analyzers/registry.js';
export { extractPackages, type ExtractOptions, type ExtractResult } from './analyzers/extract.js';
export {
  MalformedInputError,
  UnsupportedInputError,
  CONTENT_HEAD_BYTES,
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
export { purl, purlType } from './analyzers/purl.js';
export {
  scanImage,
  scanFiles,
  distroName,
  type ScanOptions,
  type ScanReport,
  type ScanTarget,
} from './scan/scan.js';
export {
  imageAsset,
  packageIdentity,
  flawFiles,
  MATCHER_UNIT,
  type ScannedPackage,
  type PackageLayer,
} from './scan/findings.js';
export { imageChecks, IMAGE_CHECK_UNIT, type ImageCheckOutcome } from './scan/image-checks.js';
export { remediationFor, type RemediationInput } from './scan/remediation.js';
export {
  readDirectory,
  directoryDigest,
  DirectoryError,
  ROOTFS_SKIP,
  type DirectoryOptions,
} from './scan/directory.js';
export type {
  AdvisoryStore,
  AdvisoryKey,
  AdvisoryDbInfo,
  AdvisorySourceInfo,
  AdvisoryCandidate,
} from './vulndb/advisory-store.js';
export { versionKey, hasVersionKeys } from './versions/version-key.js';
export type { VulnerabilityMatch, CvssScore, FixState, VendorRating } from './vulndb/match.types.js';
export { openImage, type OpenImageOptions } from './image/open-image.js';
export {
  squashImage,
  defaultSquashLimits,
  type SquashOptions,
  type SquashLimits,
  type SquashedImage,
  type ImageFile,
  type LayerInfo,
} from './image/squash.js';
export { parsePlatform, formatPlatform, DEFAULT_PLATFORM, type Platform } from './image/platform.js';
export {
  ImageError,
  type ImageSource,
  type ImageSourceKind,
  type LayerDescriptor,
  type ImageConfig,
} from './image/source.js';
export {
  openRegistryImage,
  resolveDigest,
  type RegistryImageOptions,
  type RegistryImageSource,
  type ResolvedDigest,
} from './registry/registry-image.js';
export { RegistryClient, type RegistryClientOptions, type FetchLike } from './registry/registry-client.js';
export {
  credentialsFromDockerConfig,
  DockerConfigError,
  type RegistryCredentials,
} from './registry/credentials.js';
export { parseReference, InvalidReferenceError, type ImageReference } from './registry/reference.js';
export { PlatformNotFoundError } from './registry/platform.js';
export {
  parseOsvRecord,
  recordKeys,
  InvalidAdvisoryError,
  type OsvRecord,
  type OsvRecordAffected,
  type OsvRecordRange,
  type OsvSeverity,
  type OsvPackage,
  type OsvReference,
} from './vulndb/osv-record.js';
export {
  readOsvDump,
  forEachDumpBatch,
  DumpError,
  type DumpEntry,
  type DumpOptions,
  type DumpSummary,
} from './vulndb/osv-dump.js';
export { MemoryAdvisoryStore } from './vulndb/memory-store.js';
export { CachedAdvisoryStore, type CachedAdvisoryStoreOptions } from './vulndb/cached-store.js';
export {
  importOsvDump,
  advisoryRow,
  type AdvisoryRow,
  type AdvisoryImportTarget,
  type DumpImportResult,
} from './vulndb/import.js';
export { matchPackages, cvesOf, isOsEcosystem, type MatchOptions } from './vulndb/match.js';
export {
  SEVERITY_POLICY,
  scoreCvss,
  cvssSeverity,
  ratingSeverity,
  chooseSeverity,
  databaseOf,
  type SeverityEvidence,
} from './vulndb/severity.js';
export {
  loadKevCatalog,
  loadEpss,
  parseKevCatalog,
  parseEpss,
  type KevCatalog,
  type KevEntry,
  type EpssTable,
  type EpssEntry,
} from './vulndb/enrichment.js';
export {
  downloadOsvDump,
  dumpUrl,
  dumpPath,
  DownloadError,
  OSV_DUMP_BASE_URL,
  type DownloadOptions,
  type DownloadResult,
} from './vulndb/download.js';
export {
  toCycloneDx,
  cycloneDxSbom,
  serialNumberOf,
  SBOM_PROPERTY,
  type SbomInput,
  type SbomOptions,
  type SbomPackage,
  type SbomLayer,
  type SbomTarget,
  type SbomProblem,
  type CycloneDxSbom,
} from './sbom/cyclonedx.js';
export { buildZip as buildOsvZip, type ZipMember } from './vulndb/zip-fixture.js';
