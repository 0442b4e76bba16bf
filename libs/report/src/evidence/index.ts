// Evidence bundles: building (buildEvidenceBundle), verifying (verifyEvidenceBundle) and their parts. Pure over
// bytes: callers read the store and the files.
export {
  buildEvidenceBundle,
  eventsWithin,
  sbomRefsOf,
  BUNDLE_FILES,
  MANIFEST_FILE,
  SIGNATURE_FILE,
  EVIDENCE_MANIFEST_SCHEMA_VERSION,
  type EvidenceBundle,
  type EvidenceBundleInput,
  type EvidenceManifest,
  type EvidenceEvent,
  type EvidenceSbom,
  type ManifestFile,
  type ChainEntry,
  type SbomRef,
} from './evidence-bundle.js';
export { verifyEvidenceBundle, type VerifyResult, type VerifyProblem } from './evidence-verify.js';
export {
  generateSigningKeyPem,
  parseSigningKey,
  parsePublicKey,
  publicKeyPem,
  publicKeyFingerprint,
  type SigningKey,
} from './signing-key.js';
export {
  writeZip,
  readZip,
  ZipFormatError,
  type ZipEntry,
  type ZipEntryInput,
  type ReadZipResult,
} from './zip.js';
export { toCsv, csvField, requirementsCsv, findingsCsv } from './evidence-csv.js';
export { renderEvidenceHtml, type EvidenceHtmlInput } from './evidence-html.renderer.js';
export { toOscalAssessmentResults, controlId, OSCAL_VERSION, type OscalInput } from './oscal.renderer.js';
export { versionHistory, type VersionHistory } from './evidence-history.js';
export {
  exportEvidence,
  EvidenceSnapshotMissingError,
  type EvidenceSource,
  type EvidenceExportInput as EvidenceExportRequest,
  type ExportedEvidence,
} from './evidence-export.js';
