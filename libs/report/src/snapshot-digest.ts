import { createHash } from 'node:crypto';
import {
  ExceptionUseSchema,
  FindingCountsSchema,
  RequirementSummarySchema,
  create,
  type ExceptionUse,
  type FindingCounts,
  type RequirementSummary,
} from '@vigil/contracts';
import { fromCanonicalJson } from './canonical-json.js';
import { reportFromContent } from './snapshot.builder.js';

/** What the summary query and the exception listing need of a version. */
export interface SnapshotDigest {
  readonly summary: RequirementSummary;
  readonly findingCounts: FindingCounts;
  readonly exceptions: readonly ExceptionUse[];
  /** The entity type the version was assessed for; '' for versions made before it was recorded. */
  readonly entityType: string;
  /** How the version orders its findings: 'asset', or '' (by id) for versions made before it was recorded. */
  readonly findingOrder: string;
}

// Canonical JSON sorts keys, so the report's top-level members come as attestations, entityType, exceptions,
// findingCounts, findingOrder, findings (almost all of the bytes), ..., summary (last). Neither "findings" nor "summary" names a field of
// what comes before findings, and no string holds an unescaped quote, so the first `"findings":[` is the
// top-level one; the last `"summary":` is the top-level one exactly when what follows it up to the closing brace
// is one JSON value. Anything else (a small or unusual content) is decoded whole.
const FINDINGS_KEY = Buffer.from(',"findings":[');
const SUMMARY_KEY = Buffer.from(',"summary":');

/**
 * The digest of a snapshot content, checked against its hash, without decoding its findings: the parse of a
 * 200,000-finding content is most of a minute of CPU, and the digest is a few hundred bytes of it.
 */
export function digestFromContent(content: Uint8Array, contentHash: string): SnapshotDigest {
  const bytes = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  const actual = 'sha256:' + createHash('sha256').update(bytes).digest('hex');
  if (actual !== contentHash)
    throw new Error(
      `snapshot content does not match its hash: stored as ${contentHash}, content hashes to ${actual}`,
    );
  const head = parts(bytes);
  if (!head) return digestOf(reportFromContent(content, contentHash));
  return {
    summary: fromCanonicalJson(RequirementSummarySchema, head.summary),
    findingCounts: fromCanonicalJson(FindingCountsSchema, head.findingCounts ?? {}),
    exceptions: ((head.exceptions ?? []) as unknown[]).map((x) => fromCanonicalJson(ExceptionUseSchema, x)),
    entityType: typeof head.entityType === 'string' ? head.entityType : '',
    findingOrder: typeof head.findingOrder === 'string' ? head.findingOrder : '',
  };
}

function digestOf(report: {
  summary?: RequirementSummary;
  findingCounts?: FindingCounts;
  exceptions: ExceptionUse[];
  entityType: string;
  findingOrder: string;
}): SnapshotDigest {
  return {
    summary: report.summary ?? create(RequirementSummarySchema, {}),
    findingCounts: report.findingCounts ?? create(FindingCountsSchema, {}),
    exceptions: report.exceptions,
    entityType: report.entityType,
    findingOrder: report.findingOrder,
  };
}

function parts(bytes: Buffer):
  | {
      summary: unknown;
      findingCounts?: unknown;
      exceptions?: unknown;
      entityType?: unknown;
      findingOrder?: unknown;
    }
  | undefined {
  const findingsAt = bytes.indexOf(FINDINGS_KEY);
  const summaryAt = bytes.lastIndexOf(SUMMARY_KEY);
  if (findingsAt < 0 || summaryAt < findingsAt || bytes[bytes.length - 1] !== 0x7d) return undefined;
  try {
    const before = JSON.parse(bytes.toString('utf8', 0, findingsAt) + '}') as Record<string, unknown>;
    const summary: unknown = JSON.parse(
      bytes.toString('utf8', summaryAt + SUMMARY_KEY.length, bytes.length - 1),
    );
    if (typeof summary !== 'object' || summary === null || Array.isArray(summary)) return undefined;
    return {
      summary,
      findingCounts: before['findingCounts'],
      exceptions: before['exceptions'],
      entityType: before['entityType'],
      findingOrder: before['findingOrder'],
    };
  } catch {
    return undefined;
  }
}
