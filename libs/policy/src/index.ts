export { applyPolicy, isExpired, type PolicyOptions, type PolicyResult } from './apply-policy.js';
export type { PolicyFinding, Severity } from './finding.model.js';
export {
  IgnoreFileError,
  MAX_ALIAS_COUNT,
  MAX_IGNORE_FILE_BYTES,
  loadIgnoreFile,
  parseExpiry,
  parseIgnoreFile,
} from './ignore-file.js';
export { globMatches, ruleMatches, splitImageRef } from './ignore-match.js';
export type { IgnoreFile, IgnoreRule } from './ignore-rule.model.js';
export { SEVERITIES, exceedsThreshold, parseSeverityThreshold, severityRank } from './severity.js';
